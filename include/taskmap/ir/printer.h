#pragma once
// The text form of the IR, used by dumps, pass tests and error messages. It is meant to be read:
//
//   kernel add(a: f32[4, 8], b: f32[8], c: f32[4, 8]) {
//     for i in range(4) parallel {
//       for j in range(8) vectorize {
//         c[i, j] = a[i, j] + b[j]
//       }
//     }
//   }
//
// Variables print by name; two distinct variables with the same name get suffixes (`i`, `i_1`)
// in order of first appearance, so printing is deterministic.
#include <ostream>
#include <string>

#include "taskmap/ir/expr.h"
#include "taskmap/ir/stmt.h"

namespace taskmap::ir {

std::string to_string(const Expr& e);
std::string to_string(const Stmt& s);
std::string to_string(const Function& f);
std::string to_string(const Module& m);

std::ostream& operator<<(std::ostream& os, const Expr& e);
std::ostream& operator<<(std::ostream& os, const Stmt& s);
std::ostream& operator<<(std::ostream& os, const Function& f);

}  // namespace taskmap::ir
