// ModelProto -> Graph.
#include <filesystem>
#include <unordered_map>

#include "frontend/onnx/onnx_proto.h"
#include "taskmap/error.h"
#include "taskmap/frontend/onnx.h"
#include "taskmap/runtime/file_io.h"

namespace taskmap::onnx {
namespace {

using graph::AttrValue;
using graph::Graph;
using graph::Tensor;

// Opsets before 7 are read too: an operator whose semantics changed says so itself (min_opset).
constexpr int kMinOpset = 1;
constexpr int kMaxOpset = 21;

// Names visible in a graph: its own, then its enclosing graph's (If branches read outer tensors).
struct Scope {
  std::unordered_map<std::string, Tensor> names;
  const Scope* parent = nullptr;

  Tensor find(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent) {
      auto it = s->names.find(name);
      if (it != s->names.end()) return it->second;
    }
    return nullptr;
  }
};

class Importer {
 public:
  Importer(std::string source, std::string base_dir, int opset)
      : source_(std::move(source)), base_dir_(std::move(base_dir)), opset_(opset) {}

  Graph import_graph(const ::onnx::GraphProto& proto, const Scope* parent) {
    Graph g;
    g.name = proto.name().empty() ? "main" : proto.name();
    g.source = source_;
    Scope scope;
    scope.parent = parent;
    for (const auto& init : proto.initializer()) {
      NDArray value = tensor_from_proto(init, where(), base_dir_);
      scope.names[init.name()] = graph::make_constant(init.name(), value);
    }
    for (const auto& info : proto.input()) {
      if (scope.names.count(info.name())) continue;  // IR < 4: initializers listed as inputs
      Tensor t = tensor_of_value_info(info, "input");
      scope.names[info.name()] = t;
      g.inputs.push_back(t);
    }
    for (const auto& node : proto.node()) import_node(node, g, scope);
    for (const auto& info : proto.output()) {
      Tensor t = scope.find(info.name());
      TM_USER_CHECK(t != nullptr) << where() << "graph output '" << info.name()
                                  << "' is not produced by any node";
      if (!t->type_known && info.type().has_tensor_type()) {
        Tensor declared = tensor_of_value_info(info, "output");
        t->dtype = declared->dtype;  // a hint; shape inference checks it
      }
      g.outputs.push_back(t);
    }
    return g;
  }

 private:
  std::string where() const { return source_ + ": "; }

  std::string node_where(const ::onnx::NodeProto& node) const {
    std::string s = where() + "node ";
    if (!node.name().empty()) s += "'" + node.name() + "' ";
    return s + "(" + node.op_type() + "): ";
  }

  Tensor tensor_of_value_info(const ::onnx::ValueInfoProto& info, const char* role) {
    std::string what = where() + role + " '" + info.name() + "': ";
    TM_USER_CHECK(info.type().has_tensor_type())
        << what << "a "
        << (info.type().has_sequence_type()   ? "sequence"
            : info.type().has_optional_type() ? "optional"
            : info.type().has_map_type()      ? "map"
                                              : "value of unknown type")
        << " is not supported (only tensors are)";
    const auto& tt = info.type().tensor_type();
    ir::DType dtype = dtype_from_onnx(tt.elem_type(), what);
    graph::Shape shape;
    for (const auto& d : tt.shape().dim()) {
      if (d.has_dim_value()) {
        TM_USER_CHECK(d.dim_value() >= 0) << what << "negative dimension " << d.dim_value();
        shape.emplace_back(d.dim_value());
      } else if (d.has_dim_param() && !d.dim_param().empty()) {
        shape.push_back(graph::Dim::symbol(d.dim_param()));
      } else {
        shape.emplace_back();
      }
    }
    return graph::make_tensor(info.name(), dtype, shape);
  }

  AttrValue attribute(const ::onnx::AttributeProto& a, const std::string& what,
                      const Scope& scope) {
    using A = ::onnx::AttributeProto;
    A::AttributeType type = a.type();
    if (type == A::UNDEFINED) {  // very old models leave the type out
      type = a.has_f()              ? A::FLOAT
             : a.has_i()            ? A::INT
             : a.has_s()            ? A::STRING
             : a.has_t()            ? A::TENSOR
             : a.has_g()            ? A::GRAPH
             : a.floats_size() > 0  ? A::FLOATS
             : a.ints_size() > 0    ? A::INTS
             : a.strings_size() > 0 ? A::STRINGS
                                    : A::INTS;
    }
    switch (type) {
      case A::FLOAT:
        return static_cast<double>(a.f());
      case A::INT:
        return static_cast<int64_t>(a.i());
      case A::STRING:
        return a.s();
      case A::TENSOR:
        return tensor_from_proto(a.t(), what, base_dir_);
      case A::GRAPH: {
        auto sub = std::make_shared<Graph>(import_graph(a.g(), &scope));
        return sub;
      }
      case A::FLOATS:
        return std::vector<double>(a.floats().begin(), a.floats().end());
      case A::INTS:
        return std::vector<int64_t>(a.ints().begin(), a.ints().end());
      case A::STRINGS:
        return std::vector<std::string>(a.strings().begin(), a.strings().end());
      default:
        TM_USER_ERROR() << what << "attribute '" << a.name() << "' has type "
                        << A::AttributeType_Name(type) << ", which is not supported";
    }
  }

  // A Constant node becomes a constant tensor; no operator remains.
  NDArray constant_value(const ::onnx::NodeProto& node, const graph::OperatorNode& op) {
    std::string what = node_where(node);
    TM_USER_CHECK(op.attrs.size() == 1) << what << "needs exactly one value attribute";
    const std::string& name = op.attrs.begin()->first;
    const AttrValue& value = op.attrs.begin()->second;
    auto expect = [&](auto* p, const char* kind) {
      TM_USER_CHECK(p != nullptr) << what << "attribute '" << name << "' must be " << kind
                                  << ", got " << graph::attr_kind_name(value);
      return p;
    };
    auto from_doubles = [](ir::DType dtype, const std::vector<double>& values) {
      NDArray out(dtype, {static_cast<int64_t>(values.size())});
      for (size_t i = 0; i < values.size(); ++i) out.set_double(static_cast<int64_t>(i), values[i]);
      return out;
    };
    auto from_ints = [](const std::vector<int64_t>& values) {
      NDArray out(ir::i64, {static_cast<int64_t>(values.size())});
      for (size_t i = 0; i < values.size(); ++i) out.set_int(static_cast<int64_t>(i), values[i]);
      return out;
    };
    if (name == "value") return *expect(std::get_if<NDArray>(&value), "a tensor");
    if (name == "value_float")
      return from_doubles(ir::f32, {*expect(std::get_if<double>(&value), "a float")}).reshaped({});
    if (name == "value_int")
      return from_ints({*expect(std::get_if<int64_t>(&value), "an int")}).reshaped({});
    if (name == "value_floats")
      return from_doubles(ir::f32, *expect(std::get_if<std::vector<double>>(&value), "floats"));
    if (name == "value_ints")
      return from_ints(*expect(std::get_if<std::vector<int64_t>>(&value), "ints"));
    TM_USER_ERROR() << what << "attribute '" << name
                    << "' is not supported (strings and sparse tensors are not)";
  }

  void import_node(const ::onnx::NodeProto& node, Graph& g, Scope& scope) {
    std::string what = node_where(node);
    auto op = std::make_shared<graph::OperatorNode>();
    op->type = node.op_type();
    op->domain = node.domain() == "ai.onnx" ? "" : node.domain();
    op->name = node.name();
    op->opset = op->domain.empty() ? opset_ : 0;
    for (const auto& a : node.attribute()) {
      if (!a.ref_attr_name().empty()) {
        TM_USER_ERROR() << what << "attribute references (functions) are not supported";
      }
      op->attrs[a.name()] = attribute(a, what, scope);
    }
    for (const std::string& name : node.input()) {
      if (name.empty()) {
        op->inputs.push_back(nullptr);
        continue;
      }
      Tensor t = scope.find(name);
      TM_USER_CHECK(t != nullptr) << what << "input '" << name
                                  << "' is not defined (no initializer, graph input or earlier "
                                     "node output has that name)";
      op->inputs.push_back(t);
    }
    if (op->type == "Constant" && op->domain.empty()) {
      TM_USER_CHECK(node.output_size() == 1) << what << "must have one output";
      scope.names[node.output(0)] = graph::make_constant(node.output(0), constant_value(node, *op));
      return;
    }
    for (const std::string& name : node.output()) {
      if (name.empty()) {
        op->outputs.push_back(nullptr);
        continue;
      }
      Tensor t = graph::make_tensor(name, ir::f32, {});
      t->type_known = false;
      scope.names[name] = t;
      op->outputs.push_back(t);
    }
    g.add(op);
  }

  std::string source_;
  std::string base_dir_;
  int opset_;
};

}  // namespace

Graph parse_model(std::string_view bytes, const std::string& source, const std::string& base_dir) {
  ::onnx::ModelProto model;
  TM_USER_CHECK(bytes.size() < (size_t(1) << 31) &&
                model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
      << source << ": not a valid ONNX model (truncated or malformed protobuf)";
  TM_USER_CHECK(model.has_graph())
      << source << ": not a valid ONNX model (no graph; is this an ONNX file?)";
  TM_USER_CHECK(model.ir_version() >= 3) << source << ": ONNX IR version " << model.ir_version()
                                         << " is not supported (need 3 or newer)";
  int opset = 0;
  for (const auto& import : model.opset_import()) {
    if (import.domain().empty() || import.domain() == "ai.onnx")
      opset = static_cast<int>(import.version());
  }
  TM_USER_CHECK(opset >= kMinOpset && opset <= kMaxOpset)
      << source << ": default-domain opset " << opset
      << " is not supported (supported: " << kMinOpset << " to " << kMaxOpset << ")";
  Importer importer(source, base_dir, opset);
  Graph g = importer.import_graph(model.graph(), nullptr);
  g.validate();
  return g;
}

Graph load_model(const std::string& path) {
  std::string parent = std::filesystem::path(path).parent_path().string();
  return parse_model(read_file(path, "model"), path, parent.empty() ? "." : parent);
}

}  // namespace taskmap::onnx
