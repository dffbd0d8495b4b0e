#include "taskmap/model.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "model/build_plan.h"
#include "taskmap/error.h"
#include "taskmap/frontend/onnx.h"
#include "taskmap/graph/op_registry.h"
#include "taskmap/graph/rewrites.h"

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

  // The plan for `given` (compiled on first use). Only the inputs in value_inputs are
  // specialized on their data; when an operator turns out to need the data of another input, that
  // input joins value_inputs and compiling starts again. `given` carries the data where known.
  model::BuiltPlan& plan_for(const std::vector<graph::InputBinding>& given) {
    auto start = std::chrono::steady_clock::now();
    for (;;) {
      std::vector<graph::InputBinding> bindings = given;
      for (size_t i = 0; i < bindings.size(); ++i)
        if (!value_inputs.count(static_cast<int>(i))) bindings[i].value = NDArray();
      std::string k = key(bindings);
      auto it = plans.find(k);
      if (it != plans.end()) return it->second;
      try {
        graph::Graph specialized = rewrite(graph::specialize(graph, bindings, options.compile));
        model::BuiltPlan plan = model::build_plan(specialized, options);
        plan.report.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return plans.emplace(k, std::move(plan)).first->second;
      } catch (const graph::ValueNeeded& needed) {
        bool learned = false;
        for (int i : inputs_feeding_name(needed.tensor->name)) {
          TM_USER_CHECK(given[i].value.defined())
              << needed.what() << " (its value depends on input '" << graph.inputs[i]->name
              << "', whose data is not given)";
          learned |= value_inputs.insert(i).second;
        }
        if (!learned) throw;
      }
    }
  }

  // The graph rewrites for this model's target, then its precision (after them: the CPU's
  // layout rewrites and batch-norm folding are f32 rewrites).
  graph::Graph rewrite(const graph::Graph& specialized) const {
    graph::Graph g = graph::simplify_graph(specialized, rewrite_options());
    if (options.precision == ir::f32) return g;
    return graph::remove_noops(graph::convert_precision(g, options.precision));
  }

  graph::RewriteOptions rewrite_options() const {
    if (options.cuda) return graph::RewriteOptions::for_cuda();
    graph::RewriteOptions rewrites;
    rewrites.channels_last = options.channels_last;
    rewrites.winograd = options.winograd;
    return rewrites;
  }

  // Runs `plan` on the device it was built for.
  static std::vector<NDArray> run(const model::BuiltPlan& plan, const std::vector<NDArray>& inputs,
                                  std::vector<double>* call_ms, double* device_ms = nullptr) {
    if (plan.cuda_executable) return plan.cuda_executable->run(inputs, call_ms, device_ms);
    return plan.executable->run(inputs, call_ms);
  }

  std::vector<int> inputs_feeding_name(const std::string& name) const {
    for (const graph::Tensor& t : graph.tensors())
      if (t->name == name) return graph::inputs_feeding(graph, t.get());
    return {};
  }
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
  return impl_->plan_for(inputs).report;
}

CompileReport Model::plan_only(const std::vector<graph::InputBinding>& inputs) {
  graph::Graph specialized =
      impl_->rewrite(graph::specialize(impl_->graph, inputs, impl_->options.compile));
  return model::build_plan(specialized, impl_->options, /*build=*/false).report;
}

std::vector<NDArray> Model::run(const std::vector<NDArray>& inputs) {
  return run(inputs, nullptr);
}

std::vector<NDArray> Model::run(const std::vector<NDArray>& inputs, double* device_ms) {
  const auto& declared = impl_->graph.inputs;
  TM_USER_CHECK(inputs.size() == declared.size())
      << "the model takes " << declared.size() << " inputs, " << inputs.size() << " were given";
  return Impl::run(impl_->plan_for(graph::bindings_of(inputs)), inputs, nullptr, device_ms);
}

std::vector<Model::KernelTime> Model::profile(const std::vector<NDArray>& inputs, int repeat) {
  const model::BuiltPlan& plan = impl_->plan_for(graph::bindings_of(inputs));
  std::vector<double> ms;
  for (int i = 0; i < repeat; ++i) Impl::run(plan, inputs, &ms);
  const std::vector<std::string>& labels = plan.report.kernel_labels;
  std::vector<KernelTime> out;
  for (size_t c = 0; c < labels.size(); ++c)
    out.push_back({labels[c], c < ms.size() ? ms[c] / std::max(repeat, 1) : 0.0});
  return out;
}

}  // namespace taskmap
