#pragma once
// The simplifier's rewrite rules, one table per node kind (pattern.h explains the notation). The
// simplifier tries a table on a node whose operands are already simplified and applies the first
// rule that fits; it then simplifies the result again, so a rule may leave work for other rules.
//
// Requires of every rule: it is an identity under C semantics (truncating `/`, `%` with the sign
// of the dividend) for all values where its predicate holds, and it makes the expression smaller
// or moves it toward the canonical form (constants on the right, sums as linear forms), so that
// rewriting terminates.
#include "arith/pattern.h"

namespace taskmap::arith::rules {

using pattern::RuleTable;

// Integer operands.
const RuleTable& add_pair_rules();  // two terms of a sum, each written `term * coefficient`
const RuleTable& mul_rules();
const RuleTable& div_rules();
const RuleTable& mod_rules();
const RuleTable& min_rules();
const RuleTable& max_rules();
const RuleTable& compare_rules();  // < <= == != on integers
const RuleTable& bitwise_rules();  // & | ^ << >> ~ on integers

// Bool operands, and selects of any type.
const RuleTable& logical_rules();  // && || ! and == != on bools
const RuleTable& select_rules();

// Float operands: only identities that are exact in IEEE arithmetic.
const RuleTable& float_rules();

}  // namespace taskmap::arith::rules
