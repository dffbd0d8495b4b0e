// Rewrite rules for integer division and modulo, with C semantics: `/` truncates toward zero and
// `%` has the sign of the dividend, so floor-style identities need the operands proven
// non-negative. Splitting a sum by a divisor (`(i * 16 + j) / 16` -> `i + j / 16`) is done by the
// simplifier on the linear form of the dividend, where it proves the conditions it needs.
#include "arith/rules.h"

namespace taskmap::arith::rules {

using pattern::rule;

const RuleTable& div_rules() {
  using namespace pattern::wildcards;
  static const RuleTable rules = {
      rule(x / 1, x),
      rule(x / -1, -x),
      rule(0 / x, 0),
      rule(x / x, 1, prove(x != 0)),
      // Exact rational identities (truncation of equal quotients is equal) where x * c0 does
      // not wrap.
      rule(x * c0 / c1, x * fold(c0 / c1), c1 != 0 && c0 % c1 == 0 && no_overflow(x)),
      rule(x * c0 / c1, x / fold(c1 / c0), c0 != 0 && c1 % c0 == 0 && no_overflow(x)),
      rule(x / c0 / c1, x / fold(c0 * c1), c0 > 0 && c1 > 0),
      rule(select(x, c0, c1) / c2, select(x, fold(c0 / c2), fold(c1 / c2)), c2 != 0),
  };
  return rules;
}

const RuleTable& mod_rules() {
  using namespace pattern::wildcards;
  static const RuleTable rules = {
      rule(x % 1, 0),
      rule(x % -1, 0),
      rule(0 % x, 0),
      rule(x % x, 0, prove(x != 0)),
      rule(x * c0 % c1, 0, c1 != 0 && c0 % c1 == 0 && no_overflow(x)),
      rule(x * c0 % c1, x % fold(c1 / c0) * c0, c0 > 0 && c1 > 0 && c1 % c0 == 0 && no_overflow(x)),
      // |x % c0| < |c0| and has the sign of x, so these hold for x of either sign.
      rule(x % c0 % c1, x % c1, c1 > 0 && c0 % c1 == 0),
      rule(x % c0 % c1, x % c0, c0 > 0 && c0 <= c1),
      rule(x % c0, x, c0 > 0 && prove(x < c0 && -c0 < x)),
      rule(select(x, c0, c1) % c2, select(x, fold(c0 % c2), fold(c1 % c2)), c2 != 0),
  };
  return rules;
}

}  // namespace taskmap::arith::rules
