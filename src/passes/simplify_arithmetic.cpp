#include "passes/simplify_arithmetic.h"

#include "taskmap/arith/simplify.h"

namespace taskmap::passes {

ir::Function simplify_arithmetic(const ir::Function& f) {
  ir::Stmt body = arith::simplify(f->body);
  return body.same_as(f->body) ? f : f.with_body(body);
}

}  // namespace taskmap::passes
