// Parser for the text form of task mappings, the inverse of TaskMapping::str():
//
//   mapping  := term ('*' term)*                       (left-associative)
//   term     := name '(' int (',' int)* (',' keyword)* ')'
//   name     := spatial | repeat | col_spatial | col_repeat | auto_map
//   keyword  := 'workers' '=' int                      (auto_map only, required there)
//             | 'ranks' '=' '[' int (',' int)* ']'     (spatial, repeat, auto_map)
//             | 'hints' '=' '[' hint (',' hint)* ']'   (repeat, col_repeat)
//   hint     := serial | unroll | parallel ['(' int ')'] | vectorize
//
// Whitespace may appear between tokens. Every error is a one-line UserError that quotes the
// expression and gives the 1-based column of the offending token; errors raised by the factories
// (bad ranks, rank mismatch, overflow) are reported at the term or '*' that caused them.
#include <cctype>
#include <optional>
#include <string>

#include "taskmap/error.h"
#include "taskmap/ir/mapping.h"

namespace taskmap::ir {
namespace {

class MappingParser {
 public:
  explicit MappingParser(std::string_view text) : text_(text) {}

  TaskMapping parse() {
    TaskMapping mapping = term();
    while (true) {
      skip_space();
      if (pos_ == text_.size()) return mapping;
      const size_t star = pos_;
      if (!consume('*')) fail(pos_, "expected '*' or the end of the expression");
      TaskMapping inner = term();
      mapping = reported_at(star, [&] { return mapping * inner; });
    }
  }

 private:
  struct Arguments {
    std::vector<int64_t> extents;
    std::optional<int64_t> workers;
    std::vector<int> ranks;
    std::vector<LoopHint> hints;
  };

  [[noreturn]] void fail(size_t pos, const std::string& what) const {
    // The expression is echoed on one line, so messages stay one line.
    std::string shown(text_);
    for (char& c : shown) {
      if (std::iscntrl(static_cast<unsigned char>(c))) c = ' ';
    }
    throw UserError("invalid mapping expression '" + shown + "' at column " +
                    std::to_string(pos + 1) + ": " + what);
  }

  // Runs a factory or composition and reports its user errors at `pos`.
  template <typename F>
  TaskMapping reported_at(size_t pos, F&& build) const {
    try {
      return build();
    } catch (const UserError& error) {
      fail(pos, error.what());
    }
  }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  bool consume(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void expect(char c) {
    if (!consume(c)) fail(pos_, std::string("expected '") + c + "'");
  }

  bool at_identifier() {
    skip_space();
    return pos_ < text_.size() &&
           (std::isalpha(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_');
  }

  std::string identifier() {
    skip_space();
    const size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
      ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  int64_t integer() {
    skip_space();
    const size_t start = pos_;
    bool negative = false;
    if (pos_ < text_.size() && (text_[pos_] == '-' || text_[pos_] == '+')) {
      negative = text_[pos_] == '-';
      ++pos_;
    }
    if (pos_ == text_.size() || !std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      fail(start, "expected an integer");
    }
    int64_t value = 0;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      const int digit = text_[pos_] - '0';
      if (__builtin_mul_overflow(value, 10, &value) ||
          __builtin_add_overflow(value, digit, &value)) {
        fail(start, "integer is too large");
      }
      ++pos_;
    }
    return negative ? -value : value;
  }

  // A positive integer used as an extent or worker count.
  int64_t positive(const char* what) {
    skip_space();
    const size_t start = pos_;
    const int64_t value = integer();
    if (value <= 0)
      fail(start, std::string(what) + " must be positive, got " + std::to_string(value));
    return value;
  }

  std::vector<int> rank_list() {
    expect('[');
    std::vector<int> ranks;
    do {
      skip_space();
      const size_t start = pos_;
      const int64_t rank = integer();
      if (rank < 0 || rank > 64)
        fail(start, "a rank must lie in 0..64, got " + std::to_string(rank));
      ranks.push_back(static_cast<int>(rank));
    } while (consume(','));
    expect(']');
    return ranks;
  }

  std::vector<LoopHint> hint_list() {
    expect('[');
    std::vector<LoopHint> hints;
    do {
      skip_space();
      const size_t start = pos_;
      const std::string name = identifier();
      if (name == "serial") {
        hints.push_back(LoopHint::serial());
      } else if (name == "unroll") {
        hints.push_back(LoopHint::unroll());
      } else if (name == "vectorize") {
        hints.push_back(LoopHint::vectorize());
      } else if (name == "parallel") {
        int64_t threads = 0;
        if (consume('(')) {
          threads = positive("a thread count");
          expect(')');
        }
        hints.push_back(LoopHint::parallel(threads));
      } else {
        fail(start, name.empty() ? "expected a loop hint"
                                 : "unknown loop hint '" + name +
                                       "'; expected serial, unroll, parallel, parallel(N) or "
                                       "vectorize");
      }
    } while (consume(','));
    expect(']');
    return hints;
  }

  void keyword(const std::string& name, Arguments& args) {
    skip_space();
    const size_t start = pos_;
    const std::string key = identifier();
    const bool is_auto = name == "auto_map";
    const bool is_repeat = name == "repeat" || name == "col_repeat";
    if (key == "workers" && is_auto) {
      if (args.workers) fail(start, "'workers' is given twice");
      expect('=');
      args.workers = positive("the number of workers");
    } else if (key == "ranks" && (name == "spatial" || name == "repeat" || is_auto)) {
      if (!args.ranks.empty()) fail(start, "'ranks' is given twice");
      expect('=');
      args.ranks = rank_list();
    } else if (key == "hints" && is_repeat) {
      if (!args.hints.empty()) fail(start, "'hints' is given twice");
      expect('=');
      args.hints = hint_list();
    } else if (key == "workers" || key == "ranks" || key == "hints") {
      fail(start, "'" + key + "' does not apply to " + name);
    } else {
      fail(start, "unknown keyword '" + key + "'; expected workers, ranks or hints");
    }
  }

  TaskMapping term() {
    skip_space();
    const size_t start = pos_;
    const std::string name = identifier();
    if (name.empty()) fail(start, "expected a mapping name (spatial, repeat, ...)");
    if (name != "spatial" && name != "repeat" && name != "col_spatial" && name != "col_repeat" &&
        name != "auto_map") {
      fail(start, "unknown mapping '" + name +
                      "'; expected spatial, repeat, col_spatial, col_repeat or auto_map");
    }
    expect('(');
    Arguments args;
    args.extents.push_back(positive("an extent"));
    while (consume(',')) {
      if (at_identifier()) {
        keyword(name, args);
      } else if (args.workers || !args.ranks.empty() || !args.hints.empty()) {
        fail(pos_, "extents must come before keyword arguments");
      } else {
        args.extents.push_back(positive("an extent"));
      }
    }
    if (name == "auto_map" && !args.workers) fail(pos_, "auto_map needs 'workers=N'");
    expect(')');
    return reported_at(start, [&] {
      if (name == "spatial") return TaskMapping::spatial(args.extents, args.ranks);
      if (name == "col_spatial") return TaskMapping::col_spatial(args.extents);
      if (name == "repeat") return TaskMapping::repeat(args.extents, args.ranks, args.hints);
      if (name == "auto_map") return TaskMapping::auto_map(args.extents, *args.workers, args.ranks);
      if (args.hints.empty()) return TaskMapping::col_repeat(args.extents);
      std::vector<int> ranks;
      for (size_t i = args.extents.size(); i-- > 0;) ranks.push_back(static_cast<int>(i));
      return TaskMapping::repeat(args.extents, ranks, args.hints);
    });
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

TaskMapping TaskMapping::parse(std::string_view text) {
  return MappingParser(text).parse();
}

}  // namespace taskmap::ir
