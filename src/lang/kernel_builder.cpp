// KernelBuilder: a stack of statement lists, one per open scope.
#include "taskmap/lang/kernel_builder.h"

#include "taskmap/error.h"

namespace taskmap::lang {

KernelBuilder::KernelBuilder(std::string name, ir::FunctionKind kind)
    : name_(std::move(name)), kind_(kind) {
  stack_.emplace_back();
}

Var KernelBuilder::param(std::string name, Type type) {
  Var v = ir::var(std::move(name), std::move(type));
  params_.push_back(v);
  return v;
}

void KernelBuilder::params(const std::vector<Var>& vars) {
  params_.insert(params_.end(), vars.begin(), vars.end());
}

Var KernelBuilder::scalar(std::string name, DType dtype, Expr init) {
  Var v = ir::var(std::move(name), dtype);
  if (init.defined() && init.dtype() != dtype && !init.as<ir::IntImmNode>() &&
      !init.as<ir::FloatImmNode>()) {
    init = ir::cast(dtype, init);
  } else if (init.defined() && init.dtype() != dtype) {
    init = ir::make_const(dtype, init.as<ir::IntImmNode>()
                                     ? static_cast<double>(init.as<ir::IntImmNode>()->value)
                                     : init.as<ir::FloatImmNode>()->value);
  }
  append(ir::declare(v, init));
  return v;
}

Var KernelBuilder::register_tensor(std::string name, DType dtype, Layout layout) {
  Var v = ir::var(std::move(name), Type::tensor(dtype, layout.shape(), layout));
  append(ir::declare(v, {}, ir::StorageScope::local));
  return v;
}

Var KernelBuilder::heap_tensor(std::string name, DType dtype, std::vector<int64_t> shape) {
  Var v = ir::var(std::move(name), Type::tensor(dtype, std::move(shape)));
  append(ir::declare(v, {}, ir::StorageScope::heap));
  return v;
}

Var KernelBuilder::shared_tensor(std::string name, DType dtype, std::vector<int64_t> shape) {
  Var v = ir::var(std::move(name), Type::tensor(dtype, std::move(shape)));
  append(ir::declare(v, {}, ir::StorageScope::shared));
  return v;
}

Stmt KernelBuilder::scope(const std::function<void()>& body) {
  TM_USER_CHECK(!built_) << "kernel '" << name_ << "' was already built";
  stack_.emplace_back();
  body();
  std::vector<Stmt> stmts = std::move(stack_.back());
  stack_.pop_back();
  Stmt s = ir::seq(std::move(stmts));
  return s.defined() ? s : ir::seq({});
}

void KernelBuilder::for_range(std::string var_name, Expr extent, LoopHint hint,
                              const std::function<void(const Var&)>& body) {
  Var v = ir::var(std::move(var_name));
  Stmt s = scope([&] { body(v); });
  append(ir::for_loop(v, std::move(extent), s, hint));
}

void KernelBuilder::for_mapping(const TaskMapping& mapping, Expr worker,
                                const std::function<void(const Index&)>& body,
                                std::vector<std::string> names) {
  static const char* const defaults[] = {"i", "j", "k", "l"};
  Axes vars;
  for (int d = 0; d < mapping.rank(); ++d) {
    std::string n = d < static_cast<int>(names.size()) ? names[d]
                    : d < 4                            ? defaults[d]
                                                       : "t" + std::to_string(d);
    vars.push_back(ir::var(n));
  }
  Stmt s = scope([&] { body(Index(vars.begin(), vars.end())); });
  append(ir::for_mapping(vars, mapping, std::move(worker), s));
}

void KernelBuilder::let(std::string name, Expr value, const std::function<void(const Var&)>& body) {
  Var v = ir::var(std::move(name), value.type());
  Stmt b = scope([&] { body(v); });
  append(ir::let_stmt(v, std::move(value), b));
}

void KernelBuilder::if_then(Expr cond, const std::function<void()>& then_body) {
  Stmt t = scope(then_body);
  append(ir::if_then_else(std::move(cond), t));
}

void KernelBuilder::if_then_else(Expr cond, const std::function<void()>& then_body,
                                 const std::function<void()>& else_body) {
  Stmt t = scope(then_body);
  Stmt e = scope(else_body);
  append(ir::if_then_else(std::move(cond), t, e));
}

void KernelBuilder::store(const Var& buffer, std::vector<Expr> indices, Expr value) {
  append(ir::store(buffer, std::move(indices), std::move(value)));
}

void KernelBuilder::assign(const Var& var, Expr value) {
  append(ir::assign(var, std::move(value)));
}

void KernelBuilder::evaluate(Expr value) {
  append(ir::evaluate(std::move(value)));
}

void KernelBuilder::append(Stmt stmt) {
  TM_USER_CHECK(!built_) << "kernel '" << name_ << "' was already built";
  if (stmt.defined()) stack_.back().push_back(std::move(stmt));
}

void KernelBuilder::attr(std::string key, std::string value) {
  attrs_[std::move(key)] = std::move(value);
}

Function KernelBuilder::build() {
  TM_USER_CHECK(!built_) << "kernel '" << name_ << "' was already built";
  TM_ASSERT(stack_.size() == 1) << "unbalanced scopes in kernel '" << name_ << "'";
  built_ = true;
  Stmt body = ir::seq(std::move(stack_.back()));
  if (!body.defined()) body = ir::seq({});
  Function f(name_, params_, body, kind_, Type::void_type(), attrs_);
  verify_kernel(f);
  return f;
}

}  // namespace taskmap::lang
