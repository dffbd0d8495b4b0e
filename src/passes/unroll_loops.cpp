#include "passes/unroll_loops.h"

#include "taskmap/error.h"
#include "taskmap/ir/functor.h"

namespace taskmap::passes {
namespace {

using namespace ir;

// Past this many copies an unroll request is almost surely a template mistake; keep the loop
// and let the C++ compiler decide.
constexpr int64_t kMaxUnroll = 256;

class Unroller : public IRMutator {
 protected:
  Stmt mutate_For(const ForNode* op, const Stmt& self) override {
    Stmt body = mutate(op->body);
    const int64_t* extent = as_const_int(op->extent);
    if (op->hint.kind != LoopKind::unroll || !extent || *extent > kMaxUnroll) {
      if (body.same_as(op->body)) return self;
      return for_loop(op->var, op->extent, body, op->hint);
    }
    std::vector<Stmt> copies;
    for (int64_t i = 0; i < *extent; ++i) {
      copies.push_back(rename_bound_vars(substitute(body, {{op->var, int_imm(i)}})));
    }
    return seq(std::move(copies));
  }
};

}  // namespace

Function unroll_loops(const Function& f) {
  return Unroller().mutate(f);
}

}  // namespace taskmap::passes
