#include "graph/passes/pattern.h"

#include <algorithm>
#include <cmath>

#include "taskmap/error.h"

namespace taskmap::graph::patterns {

Pattern Pattern::named(std::string n) const {
  Pattern p = *this;
  p.name = std::move(n);
  return p;
}

Pattern Pattern::where(std::function<bool(const OperatorNode&)> c) const {
  TM_ASSERT(kind == Kind::op || kind == Kind::commutative) << "only operator patterns have checks";
  Pattern p = *this;
  p.check = std::move(c);
  return p;
}

Pattern input(std::string name) {
  Pattern p;
  p.kind = Pattern::Kind::input;
  p.name = std::move(name);
  return p;
}

Pattern constant(std::string name) {
  Pattern p;
  p.kind = Pattern::Kind::constant;
  p.name = std::move(name);
  return p;
}

Pattern scalar(double value) {
  Pattern p;
  p.kind = Pattern::Kind::scalar;
  p.value = value;
  return p;
}

Pattern op(std::string type, std::vector<Pattern> inputs) {
  Pattern p;
  p.kind = Pattern::Kind::op;
  p.type = std::move(type);
  p.inputs = std::move(inputs);
  return p;
}

Pattern commutative(std::string type, Pattern a, Pattern b) {
  Pattern p;
  p.kind = Pattern::Kind::commutative;
  p.type = std::move(type);
  p.inputs = {std::move(a), std::move(b)};
  return p;
}

Pattern product(std::vector<Pattern> factors) {
  TM_ASSERT(factors.size() >= 2) << "a product needs two factors or more";
  Pattern p;
  p.kind = Pattern::Kind::product;
  p.inputs = std::move(factors);
  return p;
}

Pattern either(std::vector<Pattern> alternatives) {
  Pattern p;
  p.kind = Pattern::Kind::either;
  p.inputs = std::move(alternatives);
  return p;
}

const Tensor& Match::at(const std::string& name) const {
  auto it = tensors.find(name);
  TM_ASSERT(it != tensors.end()) << "the pattern binds no tensor '" << name << "'";
  return it->second;
}

Uses::Uses(const Graph& graph) {
  for (const Operator& op : graph.ops)
    for (const Tensor& t : op->inputs)
      if (t) readers_[t.get()].push_back(op.get());
  for (const Tensor& t : graph.outputs) outputs_.insert(t.get());
}

const std::vector<const OperatorNode*>& Uses::readers(const TensorNode* t) const {
  static const std::vector<const OperatorNode*> kNone;
  auto it = readers_.find(t);
  return it == readers_.end() ? kNone : it->second;
}

bool Uses::unused(const TensorNode* t) const {
  return t == nullptr || (count(t) == 0 && !is_graph_output(t));
}

const OperatorNode* producer_of_type(const Tensor& t, const std::string& type) {
  const OperatorNode* op = t ? t->producer : nullptr;
  if (op == nullptr || op->type != type || !op->domain.empty() || t->producer_output != 0)
    return nullptr;
  return op;
}

namespace {

bool close_to(double actual, double expected) {
  return std::abs(actual - expected) <= 1e-4 * std::max(std::abs(expected), 1e-30);
}

}  // namespace

std::optional<Match> Matcher::match(const Pattern& pattern, const Tensor& root) const {
  Match m;
  if (!match_at(pattern, root, m)) return std::nullopt;
  std::sort(m.ops.begin(), m.ops.end());
  m.ops.erase(std::unique(m.ops.begin(), m.ops.end()), m.ops.end());
  // Everything but the root must stay inside the match.
  std::unordered_set<const OperatorNode*> inside(m.ops.begin(), m.ops.end());
  for (const OperatorNode* op : m.ops) {
    for (const Tensor& out : op->outputs) {
      if (!out || out == root) continue;
      if (uses_.is_graph_output(out.get())) return std::nullopt;
      for (const OperatorNode* reader : uses_.readers(out.get()))
        if (!inside.count(reader)) return std::nullopt;
    }
  }
  return m;
}

bool Matcher::match_at(const Pattern& p, const Tensor& t, Match& m) const {
  if (!t) return false;
  if (!p.name.empty()) {
    auto it = m.tensors.find(p.name);
    if (it != m.tensors.end()) return it->second == t;
  }
  if (!match_node(p, t, m)) return false;
  if (!p.name.empty()) m.tensors[p.name] = t;
  return true;
}

bool Matcher::match_node(const Pattern& p, const Tensor& t, Match& m) const {
  using Kind = Pattern::Kind;
  switch (p.kind) {
    case Kind::input:
      return !t->is_constant();
    case Kind::constant:
      return t->is_constant();
    case Kind::scalar:
      return t->is_constant() && t->constant.numel() == 1 &&
             close_to(t->constant.get_double(0), p.value);
    case Kind::op:
    case Kind::commutative: {
      const OperatorNode* op = producer_of_type(t, p.type);
      if (op == nullptr || op->inputs.size() != p.inputs.size() || (p.check && !p.check(*op)))
        return false;
      Match trial = m;
      bool matched = match_inputs(p.inputs, op->inputs, trial);
      if (!matched && p.kind == Kind::commutative) {
        trial = m;
        matched = match_inputs({p.inputs[1], p.inputs[0]}, op->inputs, trial);
      }
      if (!matched) return false;
      m = std::move(trial);
      m.ops.push_back(op);
      return true;
    }
    case Kind::product: {
      if (!producer_of_type(t, "Mul")) return false;
      Match trial = m;
      std::vector<Tensor> factors;
      collect_factors(t, /*is_root=*/true, factors, trial);
      if (factors.size() != p.inputs.size()) return false;
      std::vector<bool> taken(factors.size(), false);
      if (!match_any_order(p.inputs, 0, factors, taken, trial)) return false;
      m = std::move(trial);
      return true;
    }
    case Kind::either:
      for (const Pattern& alternative : p.inputs) {
        Match trial = m;
        if (match_at(alternative, t, trial)) {
          m = std::move(trial);
          return true;
        }
      }
      return false;
  }
  TM_UNREACHABLE();
}

bool Matcher::match_inputs(const std::vector<Pattern>& ps, const std::vector<Tensor>& ts,
                           Match& m) const {
  for (size_t i = 0; i < ps.size(); ++i)
    if (!match_at(ps[i], ts[i], m)) return false;
  return true;
}

bool Matcher::match_any_order(const std::vector<Pattern>& ps, size_t first,
                              const std::vector<Tensor>& ts, std::vector<bool>& taken,
                              Match& m) const {
  if (first == ps.size()) return true;
  for (size_t j = 0; j < ts.size(); ++j) {
    if (taken[j]) continue;
    Match trial = m;
    taken[j] = true;
    if (match_at(ps[first], ts[j], trial) && match_any_order(ps, first + 1, ts, taken, trial)) {
      m = std::move(trial);
      return true;
    }
    taken[j] = false;
  }
  return false;
}

void Matcher::collect_factors(const Tensor& t, bool is_root, std::vector<Tensor>& factors,
                              Match& m) const {
  const OperatorNode* mul = producer_of_type(t, "Mul");
  bool inner = is_root || (uses_.count(t.get()) == 1 && !uses_.is_graph_output(t.get()));
  if (mul == nullptr || mul->inputs.size() != 2 || !inner) {
    factors.push_back(t);
    return;
  }
  m.ops.push_back(mul);
  collect_factors(mul->inputs[0], false, factors, m);
  collect_factors(mul->inputs[1], false, factors, m);
}

std::optional<Conv2dAttrs> conv2d_attrs(const OperatorNode& op) {
  auto auto_pad = attr_or<std::string>(op, "auto_pad", "NOTSET");
  auto group = attr_or<int64_t>(op, "group", 1);
  auto strides = attr_or<std::vector<int64_t>>(op, "strides", {1, 1});
  auto dilations = attr_or<std::vector<int64_t>>(op, "dilations", {1, 1});
  auto pads = attr_or<std::vector<int64_t>>(op, "pads", {0, 0, 0, 0});
  if (!auto_pad || *auto_pad != "NOTSET" || !group || !strides || strides->size() != 2 ||
      !dilations || dilations->size() != 2 || !pads || pads->size() != 4)
    return std::nullopt;
  return Conv2dAttrs{*group, *strides, *dilations, *pads};
}

}  // namespace taskmap::graph::patterns
