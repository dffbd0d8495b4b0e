// Rewrite rules for integer min and max. Operands the bound analysis can order decide min and
// max outright; the rest absorb nested min / max of the same operands and pull common constants
// and factors out (where the operands cannot wrap).
#include "arith/rules.h"

namespace taskmap::arith::rules {

using pattern::rule;

const RuleTable& min_rules() {
  using namespace pattern::wildcards;
  static const RuleTable rules = {
      rule(min(x, x), x),
      rule(min(x, y), x, prove(x <= y)),
      rule(min(x, y), y, prove(y <= x)),
      rule(min(min(x, c0), c1), min(x, fold(min(c0, c1)))),
      rule(min(min(x, y), x), min(x, y)),
      rule(min(min(x, y), y), min(x, y)),
      rule(min(x, min(x, y)), min(x, y)),
      rule(min(y, min(x, y)), min(x, y)),
      rule(min(max(x, y), x), x),
      rule(min(max(x, y), y), y),
      rule(min(x, max(x, y)), x),
      rule(min(y, max(x, y)), y),
      rule(min(x + c0, y + c0), min(x, y) + c0, no_overflow(x)),
      rule(min(x - c0, y - c0), min(x, y) - c0, no_overflow(x)),
      rule(min(x * c0, y * c0), min(x, y) * c0, c0 > 0 && no_overflow(x)),
      rule(min(x * c0, y * c0), max(x, y) * c0, c0 < 0 && no_overflow(x)),
      rule(min(x / c0, y / c0), min(x, y) / c0, c0 > 0),
      rule(min(select(x, y, z), select(x, w, u)), select(x, min(y, w), min(z, u))),
  };
  return rules;
}

const RuleTable& max_rules() {
  using namespace pattern::wildcards;
  static const RuleTable rules = {
      rule(max(x, x), x),
      rule(max(x, y), x, prove(y <= x)),
      rule(max(x, y), y, prove(x <= y)),
      rule(max(max(x, c0), c1), max(x, fold(max(c0, c1)))),
      rule(max(max(x, y), x), max(x, y)),
      rule(max(max(x, y), y), max(x, y)),
      rule(max(x, max(x, y)), max(x, y)),
      rule(max(y, max(x, y)), max(x, y)),
      rule(max(min(x, y), x), x),
      rule(max(min(x, y), y), y),
      rule(max(x, min(x, y)), x),
      rule(max(y, min(x, y)), y),
      rule(max(x + c0, y + c0), max(x, y) + c0, no_overflow(x)),
      rule(max(x - c0, y - c0), max(x, y) - c0, no_overflow(x)),
      rule(max(x * c0, y * c0), max(x, y) * c0, c0 > 0 && no_overflow(x)),
      rule(max(x * c0, y * c0), min(x, y) * c0, c0 < 0 && no_overflow(x)),
      rule(max(x / c0, y / c0), max(x, y) / c0, c0 > 0),
      rule(max(select(x, y, z), select(x, w, u)), select(x, max(y, w), max(z, u))),
  };
  return rules;
}

}  // namespace taskmap::arith::rules
