// Rewrite rules for comparisons, bool logic and selects. Integer comparisons are also brought to
// a canonical form on their linear forms by the simplifier (`x + 3 < y + 5` -> `x < y + 2`); the
// rules here cover what that does not: comparing a value with itself, constant operands of && and
// ||, negations, and selects.
#include "arith/rules.h"

namespace taskmap::arith::rules {

using pattern::rule;

const RuleTable& compare_rules() {
  using namespace pattern::wildcards;
  static const RuleTable rules = {
      rule(x < x, false_c),
      rule(x <= x, true_c),
      rule(x == x, true_c),
      rule(x != x, false_c),
  };
  return rules;
}

const RuleTable& logical_rules() {
  using namespace pattern::wildcards;
  // Operands of && and || are never swapped: the right one may be guarded by the left one.
  static const RuleTable rules = {
      rule(x && true_c, x),
      rule(true_c && x, x),
      rule(x && false_c, false_c),
      rule(false_c && x, false_c),
      rule(x || true_c, true_c),
      rule(true_c || x, true_c),
      rule(x || false_c, x),
      rule(false_c || x, x),
      rule(x && x, x),
      rule(x || x, x),
      rule(x && !x, false_c),
      rule(!x && x, false_c),
      rule(x || !x, true_c),
      rule(!x || x, true_c),
      rule(x < c0 && x < c1, x < fold(min(c0, c1))),
      rule(x <= c0 && x <= c1, x <= fold(min(c0, c1))),
      rule(c0 < x && c1 < x, fold(max(c0, c1)) < x),
      rule(c0 <= x && c1 <= x, fold(max(c0, c1)) <= x),
      rule(x < c0 || x < c1, x < fold(max(c0, c1))),
      rule(x <= c0 || x <= c1, x <= fold(max(c0, c1))),
      rule(c0 < x || c1 < x, fold(min(c0, c1)) < x),
      rule(c0 <= x || c1 <= x, fold(min(c0, c1)) <= x),
      rule(!!x, x),
      // Only integers are totally ordered: with a NaN, !(a < b) holds but b <= a does not.
      rule(!(x < y), y <= x, is_int(x)),
      rule(!(x <= y), y < x, is_int(x)),
      rule(!(x == y), x != y),
      rule(!(x != y), x == y),
      rule(x == true_c, x),
      rule(x == false_c, !x),
      rule(x != false_c, x),
      rule(x != true_c, !x),
  };
  return rules;
}

const RuleTable& select_rules() {
  using namespace pattern::wildcards;
  static const RuleTable rules = {
      rule(select(true_c, x, y), x),
      rule(select(false_c, x, y), y),
      rule(select(x, y, y), y),
      rule(select(!x, y, z), select(x, z, y)),
      rule(select(x, true_c, false_c), x),
      rule(select(x, false_c, true_c), !x),
      rule(select(x, select(x, y, z), w), select(x, y, w)),
      rule(select(x, y, select(x, z, w)), select(x, y, w)),
      rule(select(x < y, x, y), min(x, y), is_int(x)),
      rule(select(x < y, y, x), max(x, y), is_int(x)),
      rule(select(x <= y, x, y), min(x, y), is_int(x)),
      rule(select(x <= y, y, x), max(x, y), is_int(x)),
  };
  return rules;
}

}  // namespace taskmap::arith::rules
