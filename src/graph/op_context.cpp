#include <algorithm>

#include "taskmap/graph/op_registry.h"

namespace taskmap::graph {

OpContext::OpContext(const OperatorNode& op, std::string source)
    : op_(op), source_(std::move(source)) {}

std::string OpContext::where() const {
  std::string s = source_.empty() ? "" : source_ + ": ";
  s += "node ";
  if (!op_.name.empty()) s += "'" + op_.name + "' ";
  return s + "(" + op_.type + "): ";
}

bool OpContext::has_input(int i) const {
  return i >= 0 && i < num_inputs() && op_.inputs[i] != nullptr;
}

const Tensor& OpContext::input(int i) const {
  TM_OP_CHECK(*this, has_input(i)) << "input " << i << " is required but missing";
  return op_.inputs[i];
}

ir::DType OpContext::dtype(int i) const {
  return input(i)->dtype;
}

const std::vector<int64_t>& OpContext::shape(int i) const {
  auto it = shapes_.find(i);
  if (it != shapes_.end()) return it->second;
  const Tensor& t = input(i);
  TM_OP_CHECK(*this, is_known(t->shape))
      << "input " << i << " ('" << t->name << "') has unknown shape " << shape_str(t->shape)
      << "; give concrete input shapes (for example --dim NAME=VALUE)";
  return shapes_.emplace(i, known_sizes(t->shape)).first->second;
}

bool OpContext::has_value(int i) const {
  return has_input(i) && op_.inputs[i]->is_constant();
}

const NDArray& OpContext::value(int i) const {
  const Tensor& t = input(i);
  if (!t->is_constant()) {
    throw ValueNeeded(t, where() + "input " + std::to_string(i) + " ('" + t->name +
                             "') must be known before run time");
  }
  return t->constant;
}

std::vector<int64_t> OpContext::value_ints(int i) const {
  const NDArray& v = value(i);
  TM_OP_CHECK(*this, !v.dtype().is_float())
      << "input " << i << " must be an integer tensor, got " << v.type_str();
  return v.to_int_vector();
}

double OpContext::value_scalar(int i) const {
  const NDArray& v = value(i);
  TM_OP_CHECK(*this, v.numel() == 1)
      << "input " << i << " must hold one value, got " << v.type_str();
  return v.get_double(0);
}

bool OpContext::has_output(int k) const {
  return k >= 0 && k < num_outputs() && op_.outputs[k] != nullptr;
}

bool OpContext::has_attr(const std::string& name) const {
  return op_.attrs.count(name) != 0;
}

namespace {

template <typename T>
const T& attr_as(const OpContext& ctx, const std::string& name, const char* kind) {
  const AttrValue& v = ctx.op().attrs.at(name);
  const T* p = std::get_if<T>(&v);
  TM_OP_CHECK(ctx, p != nullptr) << "attribute '" << name << "' must be " << kind << ", got "
                                 << attr_kind_name(v);
  return *p;
}

}  // namespace

int64_t OpContext::attr_int(const std::string& name) const {
  TM_OP_CHECK(*this, has_attr(name)) << "attribute '" << name << "' is required";
  return attr_as<int64_t>(*this, name, "an int");
}

int64_t OpContext::attr_int(const std::string& name, int64_t fallback) const {
  return has_attr(name) ? attr_as<int64_t>(*this, name, "an int") : fallback;
}

double OpContext::attr_float(const std::string& name, double fallback) const {
  if (!has_attr(name)) return fallback;
  if (const auto* i = std::get_if<int64_t>(&op_.attrs.at(name))) return static_cast<double>(*i);
  return attr_as<double>(*this, name, "a float");
}

std::string OpContext::attr_string(const std::string& name, const std::string& fallback) const {
  return has_attr(name) ? attr_as<std::string>(*this, name, "a string") : fallback;
}

std::vector<int64_t> OpContext::attr_ints(const std::string& name) const {
  TM_OP_CHECK(*this, has_attr(name)) << "attribute '" << name << "' is required";
  return attr_as<std::vector<int64_t>>(*this, name, "a list of ints");
}

std::vector<int64_t> OpContext::attr_ints(const std::string& name,
                                          const std::vector<int64_t>& fallback) const {
  return has_attr(name) ? attr_as<std::vector<int64_t>>(*this, name, "a list of ints") : fallback;
}

std::vector<double> OpContext::attr_floats(const std::string& name,
                                           const std::vector<double>& fallback) const {
  return has_attr(name) ? attr_as<std::vector<double>>(*this, name, "a list of floats") : fallback;
}

std::vector<std::string> OpContext::attr_strings(const std::string& name,
                                                 const std::vector<std::string>& fallback) const {
  return has_attr(name) ? attr_as<std::vector<std::string>>(*this, name, "a list of strings")
                        : fallback;
}

const NDArray& OpContext::attr_tensor(const std::string& name) const {
  TM_OP_CHECK(*this, has_attr(name)) << "attribute '" << name << "' is required";
  return attr_as<NDArray>(*this, name, "a tensor");
}

ir::Var OpContext::param(int i) const {
  auto it = params_.find(i);
  if (it != params_.end()) return it->second;
  const Tensor& t = input(i);
  std::string name = "in" + std::to_string(i);
  ir::Var v = ir::tensor_input(name, t->dtype, shape(i));
  params_.emplace(i, v);
  return v;
}

std::vector<int> OpContext::used_params() const {
  std::vector<int> used;
  for (const auto& [i, v] : params_) used.push_back(i);
  return used;
}

}  // namespace taskmap::graph
