// Recurrences: RNN, GRU, LSTM.
//
// A chain of computes, one (or two) per time step, each reading the previous step's state. Every
// step holds reductions (the products with W and R), so the auto-scheduler materializes each one
// in order. Directions are the leading dim of every state; with sequence_lens, steps past a
// batch entry's length keep its state and its Y rows are zero.
#include <algorithm>
#include <cctype>

#include "graph/ops/nn_util.h"

namespace taskmap::graph::ops {
namespace {

using ir::Expr;
using ir::Index;

enum class Cell { rnn, gru, lstm };

// An activation function with its alpha and beta.
struct Activation {
  std::string name;
  double alpha = 0, beta = 0;

  Expr operator()(const Expr& x) const {
    ir::DType t = x.dtype();
    auto c = [&](double v) { return ir::make_const(t, v); };
    if (name == "sigmoid") return ir::call("sigmoid", {x});
    if (name == "tanh") return ir::call("tanh", {x});
    if (name == "relu") return ir::max(x, c(0));
    if (name == "affine") return x * c(alpha) + c(beta);
    if (name == "leakyrelu") return ir::select(x >= c(0), x, x * c(alpha));
    if (name == "thresholdedrelu") return ir::select(x > c(alpha), x, c(0));
    if (name == "scaledtanh") return c(alpha) * ir::call("tanh", {x * c(beta)});
    if (name == "hardsigmoid") return ir::min(ir::max(x * c(alpha) + c(beta), c(0)), c(1));
    if (name == "elu") return ir::select(x >= c(0), x, c(alpha) * (ir::call("exp", {x}) - c(1)));
    if (name == "softsign") return x / (c(1) + ir::call("abs", {x}));
    TM_ASSERT(name == "softplus") << "activation " << name;
    return ir::call("log", {c(1) + ir::call("exp", {x})});
  }
};

// The activations of the node: as many per direction as `defaults` has, `defaults` when absent.
std::vector<Activation> activations(const OpContext& ctx, const std::vector<std::string>& defaults,
                                    int64_t directions) {
  std::vector<std::string> names = ctx.attr_strings("activations", {});
  if (names.empty()) {
    for (int64_t d = 0; d < directions; ++d)
      names.insert(names.end(), defaults.begin(), defaults.end());
  }
  TM_OP_CHECK(ctx, names.size() == defaults.size() * static_cast<size_t>(directions))
      << "activations must list " << defaults.size() * directions << " functions";
  std::vector<double> alphas = ctx.attr_floats("activation_alpha", {});
  std::vector<double> betas = ctx.attr_floats("activation_beta", {});
  size_t next_alpha = 0, next_beta = 0;
  std::vector<Activation> out;
  for (const std::string& given : names) {
    Activation a;
    for (char ch : given) a.name += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    // (default alpha, default beta); `none` marks a parameter the function does not take.
    const double none = -1e300;
    std::pair<double, double> params = {none, none};
    if (a.name == "affine") params = {1.0, 0.0};
    if (a.name == "leakyrelu") params = {0.01, none};
    if (a.name == "thresholdedrelu" || a.name == "elu") params = {1.0, none};
    if (a.name == "scaledtanh") params = {1.0, 1.0};
    if (a.name == "hardsigmoid") params = {0.2, 0.5};
    bool known = params.first != none || a.name == "sigmoid" || a.name == "tanh" ||
                 a.name == "relu" || a.name == "softsign" || a.name == "softplus";
    TM_OP_CHECK(ctx, known) << "activation '" << given << "' is not supported";
    if (params.first != none) {
      a.alpha = next_alpha < alphas.size() ? alphas[next_alpha++] : params.first;
    }
    if (params.second != none)
      a.beta = next_beta < betas.size() ? betas[next_beta++] : params.second;
    out.push_back(a);
  }
  return out;
}

// Inputs: X, W, R, B, sequence_lens, initial_h (LSTM: initial_c, P).
class Recurrence {
 public:
  Recurrence(const OpContext& ctx, Cell cell) : ctx_(ctx) {
    gates_ = cell == Cell::lstm ? 4 : cell == Cell::gru ? 3 : 1;
    check_float(ctx, 0);
    dtype_ = ctx.dtype(0);
    acc_ = accumulate_dtype(dtype_);
    layout_ = ctx.attr_int("layout", 0);
    TM_OP_CHECK(ctx, layout_ == 0 || layout_ == 1) << "layout " << layout_ << " is not supported";
    const auto& x = ctx.shape(0);
    TM_OP_CHECK(ctx, x.size() == 3) << "X must have rank 3";
    steps_ = layout_ == 0 ? x[0] : x[1];
    batch_ = layout_ == 0 ? x[1] : x[0];
    input_size_ = x[2];
    std::string direction = ctx.attr_string("direction", "forward");
    TM_OP_CHECK(ctx,
                direction == "forward" || direction == "reverse" || direction == "bidirectional")
        << "direction '" << direction << "' is not supported";
    directions_ = direction == "bidirectional" ? 2 : 1;
    reverse_only_ = direction == "reverse";
    const auto& r = ctx.shape(2);
    hidden_ = ctx.attr_int("hidden_size", r.size() == 3 ? r[2] : 0);
    TM_OP_CHECK(
        ctx, ctx.shape(1) == std::vector<int64_t>({directions_, gates_ * hidden_, input_size_}) &&
                 r == std::vector<int64_t>({directions_, gates_ * hidden_, hidden_}))
        << "W or R does not have the shape the attributes imply";
    TM_OP_CHECK(ctx, steps_ > 0) << "a sequence of length 0 is not supported";
    if (ctx.has_input(3)) {
      TM_OP_CHECK(ctx, ctx.shape(3) == std::vector<int64_t>({directions_, 2 * gates_ * hidden_}))
          << "B must have shape [" << directions_ << ", " << 2 * gates_ * hidden_ << "]";
    }
    clip_ = ctx.attr_float("clip", 0);
  }

  ir::DType acc() const { return acc_; }
  int64_t steps() const { return steps_; }
  std::vector<int64_t> state_shape() const { return {directions_, batch_, hidden_}; }

  // The length of batch entry b's sequence (clamped to [0, steps]).
  Expr length(const Expr& b) const {
    if (!ctx_.has_input(4)) return ir::int_imm(steps_);
    Expr len = ir::cast(ir::i64, ir::load(ctx_.param(4), {b}));
    return ir::min(ir::max(len, 0), steps_);
  }
  Expr active(int64_t s, const Expr& b) const {
    return ctx_.has_input(4) ? Expr(s) < length(b) : ir::bool_imm(true);
  }
  // The time index step s of direction d reads (in range even for inactive steps).
  Expr time(const Expr& d, int64_t s, const Expr& b) const {
    Expr reverse = ctx_.has_input(4) ? ir::max(length(b) - (s + 1), 0) : Expr(steps_ - 1 - s);
    if (directions_ == 2) return ir::select(ir::eq(d, 0), Expr(s), reverse);
    return reverse_only_ ? reverse : Expr(s);
  }
  // The step that wrote time t of direction d (meaningful for t < length).
  Expr step_of(const Expr& d, const Expr& t, const Expr& b) const {
    Expr reverse = length(b) - 1 - t;
    if (directions_ == 2) return ir::select(ir::eq(d, 0), t, reverse);
    return reverse_only_ ? reverse : t;
  }

  // Activation k (of each direction's list) for direction d.
  Expr activate(const std::vector<Activation>& acts, size_t k, const Expr& d, const Expr& x) const {
    size_t per = acts.size() / static_cast<size_t>(directions_);
    Expr forward = acts[k](x);
    if (directions_ == 1 ||
        (acts[k].name == acts[per + k].name && acts[k].alpha == acts[per + k].alpha &&
         acts[k].beta == acts[per + k].beta)) {
      return forward;
    }
    return ir::select(ir::eq(d, 0), forward, acts[per + k](x));
  }
  Expr clip(const Expr& x) const {
    if (clip_ <= 0) return x;
    return ir::min(ir::max(x, ir::make_const(acc_, -clip_)), ir::make_const(acc_, clip_));
  }

  // An initial state input (initial_h / initial_c) at (d, b, j); 0 when absent.
  Expr initial(int input, const Index& dbj) const {
    if (!ctx_.has_input(input)) return ir::make_const(acc_, 0);
    Index at = layout_ == 0 ? dbj : Index{dbj[1], dbj[0], dbj[2]};
    return ir::cast(acc_, ir::load(ctx_.param(input), at));
  }
  // The state `states` (one compute per step) after step s - 1 at (d, b, j).
  Expr previous(const std::vector<Expr>& states, int input, int64_t s, const Index& dbj) const {
    return s == 0 ? initial(input, dbj) : ir::load(states[s - 1], dbj);
  }
  bool has_previous_h(int64_t s) const { return s > 0 || ctx_.has_input(5); }

  // X_t · W[gate]ᵀ + Wb[gate] at (d, b, j) for step s.
  Expr input_part(int64_t gate, int64_t s, const Index& dbj) const {
    Expr t = time(dbj[0], s, dbj[1]);
    Expr row = gate * hidden_ + dbj[2];
    Expr sum = sum_reduce(
        {input_size_},
        [&](const Index& r) {
          Index xi = layout_ == 0 ? Index{t, dbj[1], r[0]} : Index{dbj[1], t, r[0]};
          return ir::cast(acc_, ir::load(ctx_.param(0), xi)) *
                 ir::cast(acc_, ir::load(ctx_.param(1), {dbj[0], row, r[0]}));
        },
        acc_);
    if (ctx_.has_input(3)) sum = sum + ir::cast(acc_, ir::load(ctx_.param(3), {dbj[0], row}));
    return sum;
  }
  // h · R[gate]ᵀ + Rb[gate] at (d, b, j), where h(k) is the hidden state read at unit k.
  Expr recurrent_part(int64_t gate, int64_t s, const Index& dbj,
                      const std::function<Expr(const Expr&)>& h) const {
    Expr row = gate * hidden_ + dbj[2];
    Expr sum = ir::make_const(acc_, 0);
    if (has_previous_h(s)) {
      sum = sum_reduce(
          {hidden_},
          [&](const Index& r) {
            return h(r[0]) * ir::cast(acc_, ir::load(ctx_.param(2), {dbj[0], row, r[0]}));
          },
          acc_);
    }
    if (ctx_.has_input(3)) {
      Expr bias = ir::load(ctx_.param(3), {dbj[0], gates_ * hidden_ + row});
      sum = sum + ir::cast(acc_, bias);
    }
    return sum;
  }
  // The previous hidden state at unit k, for recurrent_part.
  std::function<Expr(const Expr&)> previous_h(const std::vector<Expr>& h, int64_t s,
                                              const Index& dbj) const {
    return [this, &h, s, dbj](const Expr& k) { return previous(h, 5, s, {dbj[0], dbj[1], k}); };
  }

  // Y [T, D, B, H] (layout 1: [B, T, D, H]) from the per-step hidden states.
  Expr output_sequence(const std::vector<Expr>& h) const {
    std::vector<int64_t> shape = {steps_, directions_, batch_, hidden_};
    if (layout_ == 1) shape = {batch_, steps_, directions_, hidden_};
    return ir::compute("y", shape, [&](const Index& o) {
      Expr t = layout_ == 0 ? o[0] : o[1];
      Expr d = layout_ == 0 ? o[1] : o[2];
      Expr b = layout_ == 0 ? o[2] : o[0];
      Expr step = step_of(d, t, b);
      Expr value = ir::make_const(acc_, 0);
      for (int64_t s = steps_; s-- > 0;) {
        value = ir::select(ir::eq(step, s), ir::load(h[s], {d, b, o[3]}), value);
      }
      if (ctx_.has_input(4)) value = ir::select(t < length(b), value, ir::make_const(acc_, 0));
      return ir::cast(dtype_, value);
    });
  }
  // Y_h / Y_c [D, B, H] (layout 1: [B, D, H]): the last step's state.
  Expr final_state(const std::string& name, const Expr& last) const {
    std::vector<int64_t> shape = {directions_, batch_, hidden_};
    if (layout_ == 1) shape = {batch_, directions_, hidden_};
    return ir::compute(name, shape, [&](const Index& o) {
      Index dbj = layout_ == 0 ? o : Index{o[1], o[0], o[2]};
      return ir::cast(dtype_, ir::load(last, dbj));
    });
  }

  const OpContext& ctx() const { return ctx_; }
  int64_t directions() const { return directions_; }
  int64_t hidden() const { return hidden_; }

 private:
  const OpContext& ctx_;
  int64_t gates_ = 1, layout_ = 0, steps_ = 0, batch_ = 0, input_size_ = 0, hidden_ = 0;
  int64_t directions_ = 1;
  bool reverse_only_ = false;
  double clip_ = 0;
  ir::DType dtype_, acc_;
};

// Ht = f(Xt·Wᵀ + Ht-1·Rᵀ + Wb + Rb).
Outputs lower_rnn(const OpContext& ctx) {
  Recurrence rec(ctx, Cell::rnn);
  std::vector<Activation> acts = activations(ctx, {"Tanh"}, rec.directions());
  std::vector<Expr> h;
  for (int64_t s = 0; s < rec.steps(); ++s) {
    h.push_back(ir::compute("h" + std::to_string(s), rec.state_shape(), [&](const Index& dbj) {
      Expr prev = rec.previous(h, 5, s, dbj);
      Expr pre =
          rec.input_part(0, s, dbj) + rec.recurrent_part(0, s, dbj, rec.previous_h(h, s, dbj));
      Expr next = rec.activate(acts, 0, dbj[0], rec.clip(pre));
      return ir::select(rec.active(s, dbj[1]), next, prev);
    }));
  }
  return {rec.output_sequence(h), rec.final_state("y_h", h.back())};
}

// Gates z, r, h (in that order in W, R, B):
//   zt = f(Xt·Wzᵀ + Ht-1·Rzᵀ + Wbz + Rbz)      rt likewise
//   ht = g(Xt·Whᵀ + (rt ⊙ Ht-1)·Rhᵀ + Rbh + Wbh)              linear_before_reset = 0
//   ht = g(Xt·Whᵀ + rt ⊙ (Ht-1·Rhᵀ + Rbh) + Wbh)              linear_before_reset = 1
//   Ht = (1 - zt) ⊙ ht + zt ⊙ Ht-1
Outputs lower_gru(const OpContext& ctx) {
  Recurrence rec(ctx, Cell::gru);
  std::vector<Activation> acts = activations(ctx, {"Sigmoid", "Tanh"}, rec.directions());
  const bool linear_before_reset = ctx.attr_int("linear_before_reset", 0) != 0;
  const ir::DType acc = rec.acc();
  std::vector<Expr> h;
  for (int64_t s = 0; s < rec.steps(); ++s) {
    Expr r = ir::compute("r" + std::to_string(s), rec.state_shape(), [&](const Index& dbj) {
      Expr pre =
          rec.input_part(1, s, dbj) + rec.recurrent_part(1, s, dbj, rec.previous_h(h, s, dbj));
      return rec.activate(acts, 0, dbj[0], rec.clip(pre));
    });
    h.push_back(ir::compute("h" + std::to_string(s), rec.state_shape(), [&](const Index& dbj) {
      Expr prev = rec.previous(h, 5, s, dbj);
      Expr zpre =
          rec.input_part(0, s, dbj) + rec.recurrent_part(0, s, dbj, rec.previous_h(h, s, dbj));
      Expr z = rec.activate(acts, 0, dbj[0], rec.clip(zpre));
      Expr hpre = rec.input_part(2, s, dbj);
      if (linear_before_reset) {
        hpre = hpre + ir::load(r, dbj) * rec.recurrent_part(2, s, dbj, rec.previous_h(h, s, dbj));
      } else {
        auto reset_h = [&](const Expr& k) {
          return ir::load(r, {dbj[0], dbj[1], k}) * rec.previous(h, 5, s, {dbj[0], dbj[1], k});
        };
        hpre = hpre + rec.recurrent_part(2, s, dbj, reset_h);
      }
      Expr candidate = rec.activate(acts, 1, dbj[0], rec.clip(hpre));
      Expr next = (ir::make_const(acc, 1) - z) * candidate + z * prev;
      return ir::select(rec.active(s, dbj[1]), next, prev);
    }));
  }
  return {rec.output_sequence(h), rec.final_state("y_h", h.back())};
}

// Gates i, o, f, c (in that order in W, R, B; peepholes P in the order i, o, f):
//   it = f(Xt·Wiᵀ + Ht-1·Riᵀ + Pi ⊙ Ct-1 + Wbi + Rbi)      ft likewise with Pf
//   ct = g(Xt·Wcᵀ + Ht-1·Rcᵀ + Wbc + Rbc)
//   Ct = ft ⊙ Ct-1 + it ⊙ ct
//   ot = f(Xt·Woᵀ + Ht-1·Roᵀ + Po ⊙ Ct + Wbo + Rbo)
//   Ht = ot ⊙ h(Ct)
// With input_forget, ft = 1 - it.
Outputs lower_lstm(const OpContext& ctx) {
  Recurrence rec(ctx, Cell::lstm);
  std::vector<Activation> acts = activations(ctx, {"Sigmoid", "Tanh", "Tanh"}, rec.directions());
  const bool input_forget = ctx.attr_int("input_forget", 0) != 0;
  const ir::DType acc = rec.acc();
  const int64_t hidden = rec.hidden();
  if (ctx.has_input(7)) {
    TM_OP_CHECK(ctx, ctx.shape(7) == std::vector<int64_t>({rec.directions(), 3 * hidden}))
        << "P must have shape [" << rec.directions() << ", " << 3 * hidden << "]";
  }
  auto peephole = [&](int64_t k, const Index& dbj, const Expr& c) {
    if (!ctx.has_input(7)) return ir::make_const(acc, 0);
    return ir::cast(acc, ir::load(ctx.param(7), {dbj[0], k * hidden + dbj[2]})) * c;
  };
  auto gate = [&](int64_t g, int64_t s, const Index& dbj, const std::vector<Expr>& h) {
    return rec.input_part(g, s, dbj) + rec.recurrent_part(g, s, dbj, rec.previous_h(h, s, dbj));
  };
  std::vector<Expr> h, c;
  for (int64_t s = 0; s < rec.steps(); ++s) {
    c.push_back(ir::compute("c" + std::to_string(s), rec.state_shape(), [&](const Index& dbj) {
      Expr prev = rec.previous(c, 6, s, dbj);
      Expr i = rec.activate(acts, 0, dbj[0], rec.clip(gate(0, s, dbj, h) + peephole(0, dbj, prev)));
      Expr f = input_forget ? ir::make_const(acc, 1) - i
                            : rec.activate(acts, 0, dbj[0],
                                           rec.clip(gate(2, s, dbj, h) + peephole(2, dbj, prev)));
      Expr cell = rec.activate(acts, 1, dbj[0], rec.clip(gate(3, s, dbj, h)));
      return ir::select(rec.active(s, dbj[1]), f * prev + i * cell, prev);
    }));
    h.push_back(ir::compute("h" + std::to_string(s), rec.state_shape(), [&](const Index& dbj) {
      Expr prev = rec.previous(h, 5, s, dbj);
      Expr cell = ir::load(c[s], dbj);
      Expr o = rec.activate(acts, 0, dbj[0], rec.clip(gate(1, s, dbj, h) + peephole(1, dbj, cell)));
      Expr next = o * rec.activate(acts, 2, dbj[0], cell);
      return ir::select(rec.active(s, dbj[1]), next, prev);
    }));
  }
  return {rec.output_sequence(h), rec.final_state("y_h", h.back()),
          rec.final_state("y_c", c.back())};
}

OpDef recurrence(const std::string& type, Outputs (*lower)(const OpContext&)) {
  OpDef def{type};
  def.lower = lower;
  return def;
}

}  // namespace

void register_rnn_ops(std::vector<OpDef>& defs) {
  defs.push_back(recurrence("RNN", lower_rnn));
  defs.push_back(recurrence("GRU", lower_gru));
  defs.push_back(recurrence("LSTM", lower_lstm));
}

}  // namespace taskmap::graph::ops
