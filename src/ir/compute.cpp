// The compute DSL and Task: construction, checks, and the printed definition.
#include "taskmap/ir/compute.h"

#include <sstream>
#include <unordered_set>

#include "taskmap/error.h"
#include "taskmap/ir/functor.h"
#include "taskmap/ir/printer.h"

namespace taskmap::ir {

Expr flat_index(const Index& index, const std::vector<int64_t>& shape) {
  Expr flat = Expr(0);
  for (size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + index[d];
  return flat;
}

Index unravel_index(const Expr& flat, const std::vector<int64_t>& shape) {
  // Unit dims are 0 and the outermost other dim takes no modulo: a flat index that stays in
  // range unravels with the fewest divisions, which lets the simplifier fold flat_index of the
  // result back into `flat` (the GEMM template's contiguous copies depend on it).
  size_t outer = 0;
  while (outer + 1 < shape.size() && shape[outer] == 1) ++outer;
  Index index(shape.size());
  int64_t stride = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] == 1 && d != outer) {
      index[d] = make_const(flat.dtype(), 0);
      continue;
    }
    Expr q = stride == 1 ? flat : flat / stride;
    index[d] = d <= outer ? q : q % shape[d];
    stride *= shape[d];
  }
  return index;
}

Var tensor_input(std::string name, DType dtype, std::vector<int64_t> shape) {
  return var(std::move(name), Type::tensor(dtype, std::move(shape)));
}

namespace {

Axes make_axes(const char* prefix, size_t n) {
  static const char* const names[] = {"i", "j", "k", "l", "m", "n", "o", "p"};
  Axes axes;
  for (size_t d = 0; d < n; ++d) {
    std::string name = prefix[0] ? std::string(prefix) + std::to_string(d)
                                 : (d < 8 ? names[d] : "i" + std::to_string(d));
    axes.push_back(var(name));
  }
  return axes;
}

}  // namespace

Expr compute(std::string name, std::vector<int64_t> shape,
             const std::function<Expr(const Index&)>& fn) {
  for (int64_t n : shape) {
    TM_USER_CHECK(n >= 0) << "compute '" << name << "' has a negative extent";
  }
  Axes axes = make_axes("", shape.size());
  Expr value = fn(Index(axes.begin(), axes.end()));
  TM_USER_CHECK(value.defined() && value.type().is_scalar() && !value.dtype().is_vector())
      << "compute '" << name << "' must define a scalar value";
  Type type = Type::tensor(value.dtype(), std::move(shape));
  return Expr(std::make_shared<ComputeNode>(std::move(type), std::move(name), std::move(axes),
                                            std::move(value)));
}

Expr reduce(ReduceOp op, std::vector<int64_t> extents, const std::function<Expr(const Index&)>& fn,
            std::optional<DType> accumulate) {
  for (int64_t n : extents) {
    TM_USER_CHECK(n > 0) << reduce_op_name(op) << " reduction over an empty axis (extent " << n
                         << ")";
  }
  Axes axes = make_axes("r", extents.size());
  Expr value = fn(Index(axes.begin(), axes.end()));
  TM_USER_CHECK(value.defined() && value.type().is_scalar() && !value.dtype().is_vector())
      << reduce_op_name(op) << " reduction of a non-scalar value";
  DType acc =
      accumulate.value_or(value.dtype() == f16 || value.dtype() == bf16 ? f32 : value.dtype());
  TM_USER_CHECK(!acc.is_bool() || op == ReduceOp::argmax || op == ReduceOp::argmin)
      << reduce_op_name(op) << " reduction cannot accumulate in bool";
  Type type = (op == ReduceOp::argmax || op == ReduceOp::argmin) ? Type(i64) : Type(acc);
  return Expr(std::make_shared<ReduceNode>(std::move(type), op, std::move(axes), std::move(extents),
                                           std::move(value), acc));
}

// ---- traversal helpers --------------------------------------------------------------------

void visit_compute_loads(const Expr& e, const std::function<void(const LoadNode*)>& fn) {
  struct LoadFinder : IRVisitor {
    const std::function<void(const LoadNode*)>* fn;
    void visit_Load(const LoadNode* op) override {
      if (op->buffer.as<ComputeNode>()) {
        (*fn)(op);
      } else {
        visit(op->buffer);
      }
      for (const Expr& i : op->indices) visit(i);
    }
  } finder;
  finder.fn = &fn;
  finder.visit(e);
}

std::vector<Expr> collect_computes(const std::vector<Expr>& outputs) {
  std::vector<Expr> order;
  std::unordered_set<const void*> done;
  // Each compute entered once, so a chain of computes that read their predecessor several times
  // stays linear.
  std::function<void(const Expr&)> visit_compute = [&](const Expr& c) {
    if (done.count(c.get())) return;
    done.insert(c.get());
    visit_compute_loads(c.as<ComputeNode>()->value,
                        [&](const LoadNode* load) { visit_compute(load->buffer); });
    order.push_back(c);
  };
  for (const Expr& o : outputs) {
    if (o.as<ComputeNode>()) visit_compute(o);
  }
  return order;
}

bool contains_reduce(const Expr& e) {
  // Stops at loads of other computes: their reductions belong to them.
  struct Finder : IRVisitor {
    bool found = false;
    void visit_Reduce(const ReduceNode*) override { found = true; }
    void visit_Load(const LoadNode* op) override {
      if (!op->buffer.as<ComputeNode>()) visit(op->buffer);
      for (const Expr& i : op->indices) visit(i);
    }
  } finder;
  finder.visit(e);
  return finder.found;
}

// ---- Task ---------------------------------------------------------------------------------

Task::Task(std::string name, std::vector<Var> inputs, std::vector<Expr> outputs,
           std::map<std::string, std::string> attrs,
           std::vector<std::optional<InverseMap>> inverse_maps)
    : name_(std::move(name)),
      inputs_(std::move(inputs)),
      outputs_(std::move(outputs)),
      attrs_(std::move(attrs)),
      inverse_maps_(std::move(inverse_maps)) {
  TM_USER_CHECK(!outputs_.empty()) << "task '" << name_ << "' has no outputs";
  std::unordered_set<const void*> input_set;
  for (const Var& in : inputs_) {
    TM_USER_CHECK(in.defined() && in.type().is_tensor())
        << "task '" << name_ << "': inputs must be tensor variables";
    TM_USER_CHECK(input_set.insert(in.get()).second)
        << "task '" << name_ << "' lists input '" << in.name() << "' twice";
  }
  if (inverse_maps_.empty()) inverse_maps_.resize(inputs_.size());
  TM_USER_CHECK(inverse_maps_.size() == inputs_.size())
      << "task '" << name_ << "' has " << inputs_.size() << " inputs but " << inverse_maps_.size()
      << " inverse maps";
  std::unordered_set<std::string> output_names;
  for (const Expr& out : outputs_) {
    const auto* c = out.as<ComputeNode>();
    TM_USER_CHECK(c) << "task '" << name_ << "': outputs must be computes";
    TM_USER_CHECK(output_names.insert(c->name).second)
        << "task '" << name_ << "' has two outputs named '" << c->name << "'";
    output_params_.push_back(var(c->name, c->type));
  }
  // Every variable a compute reads must be an input or bound inside the definition.
  for (const Expr& c : collect_computes(outputs_)) {
    for (const Var& v : free_vars(c)) {
      TM_USER_CHECK(input_set.count(v.get()))
          << "task '" << name_ << "': compute '" << c.as<ComputeNode>()->name << "' reads '"
          << v.name() << "', which is not an input of the task";
    }
  }
}

const std::optional<InverseMap>& Task::inverse_map(size_t input) const {
  TM_ASSERT(input < inverse_maps_.size()) << "input " << input << " of task " << name_;
  return inverse_maps_[input];
}

std::vector<Var> Task::params() const {
  std::vector<Var> all = inputs_;
  all.insert(all.end(), output_params_.begin(), output_params_.end());
  return all;
}

bool Task::is_injective() const {
  for (const Expr& c : collect_computes(outputs_)) {
    if (contains_reduce(c.as<ComputeNode>()->value)) return false;
  }
  return true;
}

Task& Task::set_fusion(bool allow_prologue, bool allow_epilogue) {
  allow_prologue_ = allow_prologue;
  allow_epilogue_ = allow_epilogue;
  return *this;
}

std::string Task::str() const {
  std::ostringstream os;
  os << "task " << name_ << "\n";
  for (const Var& in : inputs_) os << "  input " << in.name() << ": " << in.type().str() << "\n";
  for (const Expr& c : collect_computes(outputs_)) {
    os << "  " << to_string(c) << "\n";
  }
  for (const Expr& out : outputs_) os << "  output " << out.as<ComputeNode>()->name << "\n";
  for (const auto& [k, v] : attrs_) os << "  attr " << k << " = " << v << "\n";
  return os.str();
}

}  // namespace taskmap::ir
