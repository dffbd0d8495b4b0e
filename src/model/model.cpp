#include "taskmap/model.h"

#include "taskmap/error.h"
#include "taskmap/frontend/onnx.h"

namespace taskmap {

struct Model::Impl {
  graph::Graph graph;
  ModelOptions options;
};

Model Model::load(const std::string& path, ModelOptions options) {
  return Model(onnx::load_model(path), std::move(options));
}

Model::Model(graph::Graph graph, ModelOptions options) : impl_(std::make_shared<Impl>()) {
  impl_->graph = std::move(graph);
  impl_->options = std::move(options);
}

const graph::Graph& Model::graph() const {
  return impl_->graph;
}
const ModelOptions& Model::options() const {
  return impl_->options;
}

std::vector<graph::InputBinding> Model::default_bindings() const {
  std::vector<graph::InputBinding> bindings;
  for (const graph::Tensor& t : impl_->graph.inputs) {
    graph::InputBinding b{t->dtype, {}, {}};
    for (const graph::Dim& d : t->shape) {
      if (d.is_known()) {
        b.shape.push_back(d.size());
        continue;
      }
      auto it = d.is_symbol() ? impl_->options.dims.find(d.name()) : impl_->options.dims.end();
      TM_USER_CHECK(it != impl_->options.dims.end())
          << "input '" << t->name << "' has dimension '" << d.str()
          << "' of unknown size; give it with --dim " << (d.is_symbol() ? d.name() : "NAME")
          << "=VALUE";
      b.shape.push_back(it->second);
    }
    bindings.push_back(b);
  }
  return bindings;
}

CompileReport Model::compile(const std::vector<graph::InputBinding>& inputs) {
  graph::Graph g = graph::specialize(impl_->graph, inputs, impl_->options.compile);
  CompileReport report;
  report.operators = static_cast<int>(g.ops.size());
  return report;
}

// Temporary: evaluates operator by operator (constant folding of everything). The compiled plan
// replaces it.
std::vector<NDArray> Model::run(const std::vector<NDArray>& inputs) {
  std::vector<graph::InputBinding> bindings;
  for (const NDArray& x : inputs) bindings.push_back({x.dtype(), x.shape(), x});
  graph::Graph g = graph::specialize(impl_->graph, bindings, impl_->options.compile);
  std::vector<NDArray> outputs;
  for (const graph::Tensor& t : g.outputs) outputs.push_back(t->constant);
  return outputs;
}

}  // namespace taskmap
