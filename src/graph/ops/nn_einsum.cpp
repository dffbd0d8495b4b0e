// Einsum: one compute whose output axes are the output labels and whose reduction runs over the
// other labels. A label repeated within an operand reads its diagonal; "..." stands for the
// broadcast of the operands' leading dims.
#include <algorithm>
#include <map>

#include "graph/ops/nn_util.h"

namespace taskmap::graph::ops {
namespace {

using ir::Expr;
using ir::Index;

// Labels are letters; the dims of "..." get the labels 0, 1, ... (their position in the
// broadcast ellipsis, counted from the left), all below 'A'.
using Label = int;
bool is_ellipsis(Label l) {
  return l < 'A';
}

std::string strip_spaces(const std::string& s) {
  std::string out;
  for (char c : s)
    if (c != ' ') out += c;
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts(1);
  for (char c : s) {
    if (c == sep)
      parts.emplace_back();
    else
      parts.back() += c;
  }
  return parts;
}

// The labels of a term for an operand of `rank` dims; "..." covers `rank - letters` dims, which
// are the last of the `ellipsis_rank` broadcast ellipsis dims.
std::vector<Label> term_labels(const OpContext& ctx, const std::string& term, int64_t rank,
                               int64_t ellipsis_rank) {
  std::vector<Label> labels;
  size_t dots = term.find("...");
  int64_t letters = static_cast<int64_t>(term.size()) - (dots == std::string::npos ? 0 : 3);
  int64_t covered = rank - letters;
  for (size_t p = 0; p < term.size(); ++p) {
    if (p == dots) {
      for (int64_t d = 0; d < covered; ++d)
        labels.push_back(static_cast<Label>(ellipsis_rank - covered + d));
      p += 2;
      continue;
    }
    char c = term[p];
    TM_OP_CHECK(ctx, std::isalpha(static_cast<unsigned char>(c)))
        << "equation term '" << term << "' has the character '" << c << "'";
    labels.push_back(c);
  }
  return labels;
}

// The number of letters of a term (its dims other than those of "...").
int64_t letter_count(const std::string& term) {
  return static_cast<int64_t>(term.size()) - (term.find("...") == std::string::npos ? 0 : 3);
}

// An equation resolved against the input shapes.
struct EinsumPlan {
  std::vector<std::vector<Label>> operands;  // the label of each dim of each input
  std::vector<Label> out, summed;
  std::map<Label, int64_t> size;
};

EinsumPlan plan_einsum(const OpContext& ctx, const std::string& equation) {
  size_t arrow = equation.find("->");
  std::vector<std::string> terms = split(equation.substr(0, arrow), ',');
  TM_OP_CHECK(ctx, static_cast<int>(terms.size()) == ctx.num_inputs())
      << "equation '" << equation << "' has " << terms.size() << " operands, the node has "
      << ctx.num_inputs() << " inputs";
  int64_t ellipsis_rank = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    bool dots = terms[i].find("...") != std::string::npos;
    int64_t rank = ctx.rank(static_cast<int>(i)), letters = letter_count(terms[i]);
    TM_OP_CHECK(ctx, dots ? rank >= letters : rank == letters)
        << "term '" << terms[i] << "' does not fit input " << i << " of rank " << rank;
    if (dots) ellipsis_rank = std::max(ellipsis_rank, rank - letters);
  }
  EinsumPlan plan;
  std::map<Label, int> count;
  for (size_t i = 0; i < terms.size(); ++i) {
    const auto& shape = ctx.shape(static_cast<int>(i));
    plan.operands.push_back(
        term_labels(ctx, terms[i], ctx.rank(static_cast<int>(i)), ellipsis_rank));
    for (size_t d = 0; d < shape.size(); ++d) {
      Label l = plan.operands[i][d];
      ++count[l];
      auto [it, fresh] = plan.size.emplace(l, shape[d]);
      if (fresh || it->second == shape[d]) continue;
      TM_OP_CHECK(ctx, is_ellipsis(l) && (it->second == 1 || shape[d] == 1))
          << "label sizes differ in equation '" << equation << "'";
      it->second = std::max(it->second, shape[d]);
    }
  }
  // The output labels: explicit, or the ellipsis then the letters seen once, sorted.
  if (arrow != std::string::npos) {
    std::string rhs = equation.substr(arrow + 2);
    for (Label l : term_labels(ctx, rhs, ellipsis_rank + letter_count(rhs), ellipsis_rank)) {
      TM_OP_CHECK(ctx, plan.size.count(l) && std::count(plan.out.begin(), plan.out.end(), l) == 0)
          << "an output label of '" << equation << "' is missing from the inputs or repeated";
      plan.out.push_back(l);
    }
  } else {
    for (Label l = 0; l < ellipsis_rank; ++l) plan.out.push_back(l);
    for (const auto& [l, n] : count)
      if (!is_ellipsis(l) && n == 1) plan.out.push_back(l);
  }
  for (const auto& [l, n] : plan.size)
    if (std::find(plan.out.begin(), plan.out.end(), l) == plan.out.end()) plan.summed.push_back(l);
  return plan;
}

OpDef einsum() {
  OpDef def{"Einsum"};
  def.lower = [](const OpContext& ctx) -> Outputs {
    const ir::DType dtype = ctx.dtype(0);
    TM_OP_CHECK(ctx, !dtype.is_bool()) << "dtype bool is not supported";
    for (int i = 1; i < ctx.num_inputs(); ++i)
      TM_OP_CHECK(ctx, ctx.dtype(i) == dtype) << "all inputs must have the same dtype";
    EinsumPlan plan = plan_einsum(ctx, strip_spaces(ctx.attr_string("equation", "")));
    std::vector<int64_t> out_shape, summed_extents;
    for (Label l : plan.out) out_shape.push_back(plan.size[l]);
    for (Label l : plan.summed) summed_extents.push_back(plan.size[l]);
    const ir::DType acc = accumulate_dtype(dtype);
    // The product of the operands with every label bound (size-1 dims read index 0).
    auto product = [&](const std::map<Label, Expr>& at) {
      Expr p;
      for (size_t i = 0; i < plan.operands.size(); ++i) {
        const auto& shape = ctx.shape(static_cast<int>(i));
        Index index;
        for (size_t d = 0; d < shape.size(); ++d)
          index.push_back(shape[d] == 1 ? Expr(0) : at.at(plan.operands[i][d]));
        Expr v = ir::cast(acc, ir::load(ctx.param(static_cast<int>(i)), index));
        p = p.defined() ? p * v : v;
      }
      return p;
    };
    return {ir::compute("einsum", out_shape, [&](const Index& o) {
      std::map<Label, Expr> at;
      for (size_t d = 0; d < plan.out.size(); ++d) at[plan.out[d]] = o[d];
      if (plan.summed.empty()) return ir::cast(dtype, product(at));
      Expr sum = sum_reduce(
          summed_extents,
          [&](const Index& r) {
            std::map<Label, Expr> all = at;
            for (size_t d = 0; d < plan.summed.size(); ++d) all[plan.summed[d]] = r[d];
            return product(all);
          },
          acc);
      return ir::cast(dtype, sum);
    })};
  };
  return def;
}

}  // namespace

void register_einsum_op(std::vector<OpDef>& defs) {
  defs.push_back(einsum());
}

}  // namespace taskmap::graph::ops
