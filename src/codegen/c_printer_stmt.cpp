// CPrinter: statements and output (the expression half is in c_printer.cpp).
// Requires: lowered IR (no ForMapping). Guarantees: every binding is scoped like the IR's; names
// bound by a Declare are released at the end of the enclosing block.
#include <string_view>

#include "codegen/c_printer.h"
#include "taskmap/error.h"

namespace taskmap::codegen {
using namespace ir;

namespace {

constexpr size_t kLineWidth = 100;

bool is_operator_char(char c) {
  return std::string_view("+-*/%<>=!&|^?:").find(c) != std::string_view::npos;
}

// Splits a long statement into a first line of at most `width` characters and continuation
// lines of at most `width - 4`, the way a person would: after a comma or a binary operator,
// preferring the least nested one (so `a * b +` breaks before `c * d`, not inside a call).
// A piece that cannot be split stays long.
std::vector<std::string> split_line(std::string text, size_t width) {
  std::vector<std::string> pieces;
  while (text.size() > width) {
    int depth = 0;
    bool in_string = false;
    size_t best = std::string::npos;
    int best_depth = 1 << 30;
    for (size_t i = 0; i + 1 < text.size() && i < width; ++i) {
      char c = text[i];
      if (c == '"' && (i == 0 || text[i - 1] != '\\')) in_string = !in_string;
      if (in_string) continue;
      if (c == '(' || c == '[') ++depth;
      if (c == ')' || c == ']') --depth;
      if (c != ' ' || i == 0) continue;
      // A break point is the space after "," or after " op " (an operator between spaces).
      size_t op_begin = text.rfind(' ', i - 1);
      bool after_comma = text[i - 1] == ',';
      bool after_operator = op_begin != std::string::npos && op_begin + 1 < i &&
                            is_operator_char(text[op_begin + 1]) && is_operator_char(text[i - 1]);
      if ((after_comma || after_operator) && depth <= best_depth) {
        best = i;
        best_depth = depth;
      }
    }
    if (best == std::string::npos) break;
    pieces.push_back(text.substr(0, best));
    text = text.substr(best + 1);
    if (pieces.size() == 1) width = width >= 24 ? width - 4 : 20;
  }
  pieces.push_back(text);
  return pieces;
}

}  // namespace

void CPrinter::line(const std::string& text) {
  std::string pad(2 * indent_, ' ');
  bool is_code = text.find('\n') == std::string::npos && text[0] != '#' && text[0] != '/';
  if (!is_code || pad.size() + text.size() <= kLineWidth) {
    out_ << pad << text << "\n";
    return;
  }
  std::vector<std::string> pieces = split_line(text, kLineWidth - pad.size());
  out_ << pad << pieces[0] << "\n";
  for (size_t i = 1; i < pieces.size(); ++i) out_ << pad << "    " << pieces[i] << "\n";
}

void CPrinter::begin_scope() {
  ++indent_;
  declared_in_block_.emplace_back();
}

void CPrinter::end_scope() {
  TM_ASSERT(declared_in_block_.size() > 1) << "end_scope without begin_scope";
  for (const Var& var : declared_in_block_.back()) unbind_name(var);
  declared_in_block_.pop_back();
  --indent_;
}

void CPrinter::open_block(const std::string& head) {
  line(head + " {");
  begin_scope();
}

void CPrinter::close_block() {
  end_scope();
  line("}");
}

void CPrinter::print_block_body(const Stmt& body) {
  if (body.defined()) print_stmt(body);
}

void CPrinter::print_stmt(const Stmt& s) {
  TM_ASSERT(s.defined()) << "an undefined statement reached code generation";
  switch (s.kind()) {
    case NodeKind::Declare:
      print_declare(s.as<DeclareNode>());
      return;
    case NodeKind::LetStmt: {
      const auto* op = s.as<LetStmtNode>();
      std::string value = print_text(op->value);
      const Type& type = op->var.type();
      // `const float* x` would make the pointee const; the binding is what never changes.
      // The C declaration outlives the IR scope (it lasts to the end of the C block), so the
      // name is released with the block's declarations.
      const std::string& name = bind_declared_name(op->var);
      std::string decl = type.is_scalar() ? "const " + type_name(type) + " " + name
                                          : type_name(type) + " const " + name;
      line(decl + " = " + value + ";");
      print_block_body(op->body);
      return;
    }
    case NodeKind::Assign: {
      const auto* op = s.as<AssignNode>();
      line(name_of(op->var.get()) + " = " + print_text(op->value) + ";");
      return;
    }
    case NodeKind::Store: {
      const auto* op = s.as<StoreNode>();
      TM_ASSERT(op->indices.size() == 1)
          << "a Store with " << op->indices.size() << " indices on '" << op->buffer.name()
          << "' reached code generation (flatten the tensor indices first)";
      line(name_of(op->buffer.get()) + "[" + print_text(op->indices[0]) +
           "] = " + print_text(op->value) + ";");
      return;
    }
    case NodeKind::Seq:
      for (const Stmt& stmt : s.as<SeqNode>()->stmts) print_stmt(stmt);
      return;
    case NodeKind::IfThenElse:
      print_if(s.as<IfThenElseNode>(), "");
      return;
    case NodeKind::For:
      print_for(s.as<ForNode>());
      return;
    case NodeKind::Evaluate:
      line(print_text(s.as<EvaluateNode>()->value) + ";");
      return;
    case NodeKind::Return: {
      const auto* op = s.as<ReturnNode>();
      line(op->value.defined() ? "return " + print_text(op->value) + ";" : "return;");
      return;
    }
    case NodeKind::Assert:
      print_assert(s.as<AssertNode>());
      return;
    default:
      break;
  }
  TM_UNREACHABLE() << "an unlowered " << node_kind_name(s.kind())
                   << " statement reached code generation (lower the task mappings first)";
}

void CPrinter::print_if(const IfThenElseNode* op, const std::string& lead) {
  line(lead + "if (" + print_text(op->cond) + ") {");
  begin_scope();
  print_block_body(op->then_case);
  end_scope();
  if (!op->else_case.defined()) {
    line("}");
  } else if (const auto* chained = op->else_case.as<IfThenElseNode>()) {
    print_if(chained, "} else ");
  } else {
    line("} else {");
    begin_scope();
    print_block_body(op->else_case);
    close_block();
  }
}

void CPrinter::print_for(const ForNode* op) {
  std::string extent = wrap(print(op->extent), kRelational + 1);
  for (const std::string& pragma : loop_pragmas(op)) line(pragma);
  std::string type = dtype_name(op->var.dtype());
  std::string name = bind_name(op->var);
  open_block("for (" + type + " " + name + " = 0; " + name + " < " + extent + "; ++" + name + ")");
  enter_loop(op);
  print_block_body(op->body);
  exit_loop(op);
  close_block();
  unbind_name(op->var);
}

void CPrinter::print_declare(const DeclareNode* op) {
  const Type& type = op->var.type();
  std::string init = op->init.defined() ? " = " + print_text(op->init) : "";
  std::string name = bind_declared_name(op->var);
  if (!type.is_tensor()) {
    line(type_name(type) + " " + name + init + ";");
    return;
  }
  TM_ASSERT(!op->init.defined()) << "tensor '" << op->var.name()
                                 << "' is declared with an initial value";
  TM_ASSERT(op->scope == StorageScope::local)
      << "this target cannot declare tensor '" << op->var.name() << "' in that storage scope";
  // 64 bytes: a cache line, and the widest vector, so vector accesses to the tile are aligned.
  line("alignas(64) " + dtype_name(type.dtype()) + " " + name + "[" +
       std::to_string(type.layout().size()) + "];");
}

}  // namespace taskmap::codegen
