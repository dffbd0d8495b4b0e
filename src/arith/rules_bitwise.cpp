// Rewrite rules for bitwise operations and shifts on integers, and for float identities that are
// exact in IEEE arithmetic (x + 0.0 is not one: it turns -0.0 into +0.0).
#include "arith/rules.h"

namespace taskmap::arith::rules {

using pattern::rule;

const RuleTable& bitwise_rules() {
  using namespace pattern::wildcards;
  static const RuleTable rules = {
      rule(x & 0, 0),
      rule(x & -1, x),
      rule(x & x, x),
      rule(x | 0, x),
      rule(x | -1, -1),
      rule(x | x, x),
      rule(x ^ 0, x),
      rule(x ^ x, 0),
      rule(x << 0, x),
      rule(x >> 0, x),
      rule(0 << x, 0),
      rule(0 >> x, 0),
      rule(x & c0 & c1, x & fold(c0 & c1)),
      rule(x | c0 | c1, x | fold(c0 | c1)),
      rule(x ^ c0 ^ c1, x ^ fold(c0 ^ c1)),
      // Masking with 2^k - 1 keeps a value that already fits in k bits.
      rule(x & c0, x, c0 >= 0 && (c0 & (c0 + 1)) == 0 && nonneg(x) && prove(x <= c0)),
      rule(~~x, x),
  };
  return rules;
}

const RuleTable& float_rules() {
  using namespace pattern::wildcards;
  static const RuleTable rules = {
      rule(x * 1, x), rule(x / 1, x), rule(x - 0, x), rule(x * -1, -x), rule(-(-x), x),
  };
  return rules;
}

}  // namespace taskmap::arith::rules
