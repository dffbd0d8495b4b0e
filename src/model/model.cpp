#include "taskmap/model.h"

#include <chrono>
#include <map>
#include <set>

#include "model/build_plan.h"
#include "taskmap/error.h"
#include "taskmap/frontend/onnx.h"
#include "taskmap/graph/op_registry.h"

namespace taskmap {

struct Model::Impl {
  graph::Graph graph;
  ModelOptions options;
  // Inputs whose data some operator needs at compile time (found while compiling).
  std::set<int> value_inputs;
  // Compiled plans by input signature (shapes, and the data of value_inputs).
  std::map<std::string, model::BuiltPlan> plans;

  std::string key(const std::vector<graph::InputBinding>& bindings) const {
    std::string k;
    for (size_t i = 0; i < bindings.size(); ++i) {
      k += bindings[i].dtype.name() + shape_str(bindings[i].shape);
      if (value_inputs.count(static_cast<int>(i)) && bindings[i].value.defined()) {
        const NDArray& v = bindings[i].value;
        k += "=" + std::string(static_cast<const char*>(v.raw()), v.nbytes());
      }
      k += ";";
    }
    return k;
  }

  // Compiles for `bindings`, learning which inputs must be specialized on their data.
  model::BuiltPlan& plan_for(std::vector<graph::InputBinding> bindings) {
    for (size_t i = 0; i < bindings.size(); ++i)
      if (!value_inputs.count(static_cast<int>(i))) bindings[i].value = NDArray();
    std::string k = key(bindings);
    auto it = plans.find(k);
    if (it != plans.end()) return it->second;
    auto start = std::chrono::steady_clock::now();
    for (;;) {
      try {
        graph::Graph specialized = graph::specialize(graph, bindings, options.compile);
        model::BuiltPlan plan = model::build_plan(specialized, options);
        plan.report.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return plans.emplace(k, std::move(plan)).first->second;
      } catch (const graph::ValueNeeded& needed) {
        std::vector<int> feeding = inputs_feeding_name(needed.tensor->name);
        bool learned = false;
        for (int i : feeding) {
          if (value_inputs.insert(i).second) learned = true;
          if (!bindings[i].value.defined()) {
            TM_USER_CHECK(!original_values.empty())
                << needed.what() << " (its value depends on input '" << graph.inputs[i]->name
                << "', whose data is not given)";
            bindings[i].value = original_values[i];
            learned = true;
          }
        }
        if (!learned) throw;
        k = key(bindings);
      }
    }
  }

  std::vector<int> inputs_feeding_name(const std::string& name) const {
    for (const graph::Tensor& t : graph.tensors())
      if (t->name == name) return graph::inputs_feeding(graph, t.get());
    return {};
  }

  std::vector<NDArray> original_values;  // the data of the inputs being compiled for, if known
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
  impl_->original_values.clear();
  for (const auto& b : inputs) impl_->original_values.push_back(b.value);
  bool any = false;
  for (const auto& v : impl_->original_values) any |= v.defined();
  if (!any) impl_->original_values.clear();
  return impl_->plan_for(inputs).report;
}

CompileReport Model::plan_only(const std::vector<graph::InputBinding>& inputs) {
  graph::Graph specialized = graph::specialize(impl_->graph, inputs, impl_->options.compile);
  return model::build_plan(specialized, impl_->options, /*build=*/false).report;
}

std::vector<NDArray> Model::run(const std::vector<NDArray>& inputs) {
  const auto& declared = impl_->graph.inputs;
  TM_USER_CHECK(inputs.size() == declared.size())
      << "the model takes " << declared.size() << " inputs, " << inputs.size() << " were given";
  std::vector<graph::InputBinding> bindings;
  for (const NDArray& x : inputs) bindings.push_back({x.dtype(), x.shape(), x});
  impl_->original_values = inputs;
  return impl_->plan_for(bindings).executable->run(inputs);
}

}  // namespace taskmap
