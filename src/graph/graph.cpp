#include "taskmap/graph/graph.h"

#include <set>
#include <sstream>
#include <unordered_set>

#include "taskmap/error.h"

namespace taskmap::graph {

Dim Dim::symbol(std::string name) {
  Dim d;
  d.name_ = std::move(name);
  return d;
}

int64_t Dim::size() const {
  TM_ASSERT(is_known()) << "dimension " << str() << " has no size";
  return size_;
}

std::string Dim::str() const {
  if (is_known()) return std::to_string(size_);
  return name_.empty() ? "?" : name_;
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + shape[i].str();
  return s + "]";
}

bool is_known(const Shape& shape) {
  for (const Dim& d : shape)
    if (!d.is_known()) return false;
  return true;
}

std::vector<int64_t> known_sizes(const Shape& shape) {
  std::vector<int64_t> sizes;
  sizes.reserve(shape.size());
  for (const Dim& d : shape) sizes.push_back(d.size());
  return sizes;
}

Shape to_shape(const std::vector<int64_t>& sizes) {
  return Shape(sizes.begin(), sizes.end());
}

std::string TensorNode::type_str() const {
  return dtype.name() + shape_str(shape);
}

Tensor make_tensor(std::string name, ir::DType dtype, Shape shape) {
  auto t = std::make_shared<TensorNode>();
  t->name = std::move(name);
  t->dtype = dtype;
  t->shape = std::move(shape);
  return t;
}

Tensor make_constant(std::string name, NDArray value) {
  Tensor t = make_tensor(std::move(name), value.dtype(), to_shape(value.shape()));
  t->constant = std::move(value);
  return t;
}

std::string attr_kind_name(const AttrValue& value) {
  static const char* const kNames[] = {"int",    "float",   "string", "ints",
                                       "floats", "strings", "tensor", "graph"};
  return kNames[value.index()];
}

std::string OperatorNode::label() const {
  return name.empty() ? type : type + " '" + name + "'";
}

Operator Graph::add(Operator op) {
  for (size_t k = 0; k < op->outputs.size(); ++k) {
    if (!op->outputs[k]) continue;
    op->outputs[k]->producer = op.get();
    op->outputs[k]->producer_output = static_cast<int>(k);
  }
  ops.push_back(op);
  return op;
}

std::vector<Tensor> Graph::tensors() const {
  std::vector<Tensor> out;
  std::unordered_set<const TensorNode*> seen;
  auto visit = [&](const Tensor& t) {
    if (t && seen.insert(t.get()).second) out.push_back(t);
  };
  for (const Tensor& t : inputs) visit(t);
  for (const Operator& op : ops) {
    for (const Tensor& t : op->inputs) visit(t);
    for (const Tensor& t : op->outputs) visit(t);
  }
  for (const Tensor& t : outputs) visit(t);
  return out;
}

void Graph::validate() const {
  std::unordered_set<const TensorNode*> defined;
  for (const Tensor& t : inputs) defined.insert(t.get());
  for (const Operator& op : ops) {
    for (const Tensor& t : op->inputs) {
      if (!t || t->is_constant()) continue;
      TM_USER_CHECK(defined.count(t.get()))
          << (source.empty() ? "" : source + ": ") << "node " << op->label() << " reads '"
          << t->name << "', which no earlier node or graph input defines";
    }
    for (const Tensor& t : op->outputs) {
      if (!t) continue;
      TM_USER_CHECK(defined.insert(t.get()).second)
          << (source.empty() ? "" : source + ": ") << "tensor '" << t->name
          << "' is defined twice (again by node " << op->label() << ")";
    }
  }
  for (const Tensor& t : outputs) {
    TM_USER_CHECK(t->is_constant() || defined.count(t.get()))
        << (source.empty() ? "" : source + ": ") << "graph output '" << t->name
        << "' is not produced by any node";
  }
}

namespace {

void print_attr(std::ostream& os, const AttrValue& value) {
  auto list = [&](const auto& xs) {
    os << "[";
    for (size_t i = 0; i < xs.size(); ++i) os << (i ? ", " : "") << xs[i];
    os << "]";
  };
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, double>) {
          os << v;
        } else if constexpr (std::is_same_v<T, std::string>) {
          os << '"' << v << '"';
        } else if constexpr (std::is_same_v<T, NDArray>) {
          os << "tensor " << v.type_str();
        } else if constexpr (std::is_same_v<T, std::shared_ptr<Graph>>) {
          os << "graph '" << (v ? v->name : "") << "'";
        } else {
          list(v);
        }
      },
      value);
}

std::string operand(const Tensor& t) {
  if (!t) return "_";
  if (t->is_constant()) return t->name + ": const " + t->type_str();
  return "%" + t->name;
}

}  // namespace

std::string to_string(const Graph& graph) {
  std::ostringstream os;
  os << "graph " << graph.name << "(";
  for (size_t i = 0; i < graph.inputs.size(); ++i)
    os << (i ? ", " : "") << "%" << graph.inputs[i]->name << ": " << graph.inputs[i]->type_str();
  os << ") -> (";
  for (size_t i = 0; i < graph.outputs.size(); ++i)
    os << (i ? ", " : "") << "%" << graph.outputs[i]->name << ": " << graph.outputs[i]->type_str();
  os << ")\n";
  for (const Operator& op : graph.ops) {
    os << "  ";
    for (size_t k = 0; k < op->outputs.size(); ++k)
      os << (k ? ", " : "") << operand(op->outputs[k]);
    os << " = " << (op->domain.empty() ? "" : op->domain + ".") << op->type << "(";
    for (size_t i = 0; i < op->inputs.size(); ++i) os << (i ? ", " : "") << operand(op->inputs[i]);
    os << ")";
    if (!op->attrs.empty()) {
      os << " {";
      bool first = true;
      for (const auto& [name, value] : op->attrs) {
        os << (first ? "" : ", ") << name << "=";
        print_attr(os, value);
        first = false;
      }
      os << "}";
    }
    if (!op->name.empty()) os << "  # " << op->name;
    os << "\n";
  }
  return os.str();
}

}  // namespace taskmap::graph
