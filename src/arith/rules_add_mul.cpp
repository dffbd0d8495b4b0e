// Rewrite rules for sums and products of integers.
//
// Sums are canonicalized as linear forms by the simplifier itself (linear.h): that alone merges
// like terms, cancels `x - x` and `(a + 3) - 3`, drops `+ 0` and distributes constant factors.
// What is left for rules is combining two terms of a sum that linear algebra cannot see, like the
// quotient and remainder of the same division. The simplifier offers every pair of terms as
// `t1 * k1 + t2 * k2`, in both orders, when one of the terms is a division, a modulo, a min or a
// max (every rule here needs one: keep it so, or widen may_pair in canonical.cpp).
#include "arith/rules.h"

namespace taskmap::arith::rules {

using pattern::rule;

const RuleTable& add_pair_rules() {
  using namespace pattern::wildcards;
  static const RuleTable rules = {
      // C guarantees x == (x / c) * c + x % c for every x and c != 0.
      rule(x / c0 * c1 + x % c0 * c2, x * c2, c0 != 0 && c1 == c0 * c2),
      rule(x * c2 + x / c0 * c1, x % c0 * c2, c0 != 0 && c1 == -c0 * c2),
      rule(x * c2 + x % c0 * c1, x / c0 * fold(c0 * c2), c0 != 0 && c1 == -c2),
      // One more digit of a mixed-radix decomposition: x / c2 / c3 was folded to x / c0.
      rule(x / c0 * c1 + x / c2 % c3 * c4, x / c2 * c4,
           c2 > 0 && c3 > 0 && c0 == c2 * c3 && c1 == c3 * c4),
      // x % c1 == x % c0 % c1 when c1 divides c0 (was folded).
      rule(x % c0 / c1 * c2 + x % c1 * c3, x % c0 * c3, c1 > 0 && c0 % c1 == 0 && c2 == c1 * c3),
      rule(min(x, y) * c0 + max(x, y) * c0, x * c0 + y * c0),
      rule(min(x, y) * c0 + max(y, x) * c0, x * c0 + y * c0),
  };
  return rules;
}

const RuleTable& mul_rules() {
  using namespace pattern::wildcards;
  static const RuleTable rules = {
      rule(x * 0, 0),
      rule(x * 1, x),
      rule(x * -1, -x),
      rule(x * c0 * c1, x * fold(c0 * c1)),
      // Constant factors move outward, where the linear form sees them as coefficients.
      rule(x * (y * c0), x * y * c0, !is_const(x)),
      rule(x * c0 * y, x * y * c0, !is_const(y)),
      rule(select(x, c0, c1) * c2, select(x, fold(c0 * c2), fold(c1 * c2))),
  };
  return rules;
}

}  // namespace taskmap::arith::rules
