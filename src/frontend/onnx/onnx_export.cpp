// Graph -> ModelProto. Operator types and attributes are ONNX's already; constants become
// initializers.
#include <unordered_set>

#include "frontend/onnx/onnx_proto.h"
#include "taskmap/error.h"
#include "taskmap/frontend/onnx.h"
#include "taskmap/runtime/file_io.h"

namespace taskmap::onnx {
namespace {

using graph::AttrValue;
using graph::Tensor;

void value_info(const Tensor& t, ::onnx::ValueInfoProto* info) {
  info->set_name(t->name);
  auto* tt = info->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(dtype_to_onnx(t->dtype));
  auto* shape = tt->mutable_shape();
  for (const graph::Dim& d : t->shape) {
    auto* dim = shape->add_dim();
    if (d.is_known())
      dim->set_dim_value(d.size());
    else if (d.is_symbol())
      dim->set_dim_param(d.name());
  }
}

void export_graph(const graph::Graph& g, ::onnx::GraphProto* proto);

void attribute(const std::string& name, const AttrValue& value, ::onnx::AttributeProto* a) {
  using A = ::onnx::AttributeProto;
  a->set_name(name);
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          a->set_type(A::INT);
          a->set_i(v);
        } else if constexpr (std::is_same_v<T, double>) {
          a->set_type(A::FLOAT);
          a->set_f(static_cast<float>(v));
        } else if constexpr (std::is_same_v<T, std::string>) {
          a->set_type(A::STRING);
          a->set_s(v);
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          a->set_type(A::INTS);
          for (int64_t x : v) a->add_ints(x);
        } else if constexpr (std::is_same_v<T, std::vector<double>>) {
          a->set_type(A::FLOATS);
          for (double x : v) a->add_floats(static_cast<float>(x));
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          a->set_type(A::STRINGS);
          for (const auto& x : v) a->add_strings(x);
        } else if constexpr (std::is_same_v<T, NDArray>) {
          a->set_type(A::TENSOR);
          tensor_to_proto(v, a->mutable_t());
        } else {
          a->set_type(A::GRAPH);
          export_graph(*v, a->mutable_g());
        }
      },
      value);
}

void export_graph(const graph::Graph& g, ::onnx::GraphProto* proto) {
  proto->set_name(g.name);
  std::unordered_set<const graph::TensorNode*> written;
  auto initializer = [&](const Tensor& t) {
    if (!t || !t->is_constant() || !written.insert(t.get()).second) return;
    auto* init = proto->add_initializer();
    tensor_to_proto(t->constant, init);
    init->set_name(t->name);
  };
  for (const Tensor& t : g.inputs) value_info(t, proto->add_input());
  for (const graph::Operator& op : g.ops) {
    auto* node = proto->add_node();
    node->set_op_type(op->type);
    node->set_domain(op->domain);
    node->set_name(op->name);
    for (const Tensor& t : op->inputs) {
      node->add_input(t ? t->name : "");
      initializer(t);
    }
    for (const Tensor& t : op->outputs) node->add_output(t ? t->name : "");
    for (const auto& [name, value] : op->attrs) attribute(name, value, node->add_attribute());
  }
  for (const Tensor& t : g.outputs) {
    initializer(t);
    value_info(t, proto->add_output());
  }
}

}  // namespace

void save_model(const graph::Graph& graph, const std::string& path, int opset) {
  ::onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("taskmap");
  auto* import = model.add_opset_import();
  import->set_domain("");
  import->set_version(opset);
  // taskmap's own operators (the layout pass's NhwcConv) need their domain declared.
  for (const graph::Operator& op : graph.ops) {
    if (op->domain.empty()) continue;
    auto* own = model.add_opset_import();
    own->set_domain(op->domain);
    own->set_version(1);
    break;
  }
  export_graph(graph, model.mutable_graph());
  write_file_atomically(path, model.SerializeAsString());
}

}  // namespace taskmap::onnx
