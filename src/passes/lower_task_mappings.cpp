#include "passes/lower_task_mappings.h"

#include "taskmap/ir/functor.h"

namespace taskmap::passes {
namespace {

using namespace ir;

class MappingLowerer : public IRMutator {
 protected:
  Stmt mutate_ForMapping(const ForMappingNode* op, const Stmt&) override {
    Stmt body = mutate(op->body);
    TaskMapping::Lowered lowered = op->mapping.lower(mutate(op->worker));
    for (size_t d = op->vars.size(); d-- > 0;) {
      body = let_stmt(op->vars[d], lowered.task[d], body);
    }
    for (size_t l = lowered.loop_vars.size(); l-- > 0;) {
      body = for_loop(lowered.loop_vars[l], lowered.extents[l], body, lowered.hints[l]);
    }
    return body;
  }
};

}  // namespace

Function lower_task_mappings(const Function& f) {
  return MappingLowerer().mutate(f);
}

}  // namespace taskmap::passes
