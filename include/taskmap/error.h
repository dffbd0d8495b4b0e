#pragma once
// Two error channels (STYLE habit 9):
//   TM_USER_CHECK(cond) << "..."   bad input from a user or a template author: UserError.
//   TM_ASSERT(cond) << "..."       a broken compiler invariant: InternalError.
// Both stream a message and throw when the statement ends. Callers at the edge (the CLI, the
// Python bindings) catch UserError and report it without a stack trace.
#include <sstream>
#include <stdexcept>
#include <string>

namespace taskmap {

class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

namespace detail {

// Collects a message with operator<< and throws E from its destructor.
template <typename E>
class ErrorStream {
 public:
  ErrorStream(const char* file, int line, const char* condition) {
    if constexpr (std::is_same_v<E, InternalError>) {
      stream_ << "internal error at " << file << ":" << line << ": check `" << condition
              << "` failed: ";
    }
  }
  ErrorStream(const ErrorStream&) = delete;
  ErrorStream& operator=(const ErrorStream&) = delete;
  ~ErrorStream() noexcept(false) { throw E(stream_.str()); }

  template <typename T>
  ErrorStream& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  std::ostringstream stream_;
};

}  // namespace detail
}  // namespace taskmap

#define TM_USER_CHECK(cond) \
  if (cond) {               \
  } else                    \
    ::taskmap::detail::ErrorStream<::taskmap::UserError>(__FILE__, __LINE__, #cond)

#define TM_ASSERT(cond) \
  if (cond) {           \
  } else                \
    ::taskmap::detail::ErrorStream<::taskmap::InternalError>(__FILE__, __LINE__, #cond)

// Unconditional forms. The `while (true)` tells the compiler control does not continue (the
// stream throws when the statement ends), so no dummy return is needed after them.
#define TM_USER_ERROR() \
  while (true) ::taskmap::detail::ErrorStream<::taskmap::UserError>(__FILE__, __LINE__, "")
#define TM_UNREACHABLE() \
  while (true)           \
  ::taskmap::detail::ErrorStream<::taskmap::InternalError>(__FILE__, __LINE__, "unreachable")
