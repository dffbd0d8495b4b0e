#pragma once
// A compiled kernel library (a shared object built by the build driver) and its entry points.
// Part of the runtime library: it needs no compiler, only the .so file.
//
// Every kernel function F of a generated source exports `int taskmap_entry_F(void* const* args)`:
// args[i] points to the buffer of tensor/pointer parameter i, or to the value of scalar parameter
// i. The entry returns 0 on success and non-zero when an assertion inside the kernel failed; the
// message is then available from last_error().
#include <memory>
#include <string>

namespace taskmap::runtime {

class Library {
 public:
  using EntryFn = int (*)(void* const* args);

  // Loads the shared object at `path` (all symbols bound now, none exported to other libraries).
  // Loading the same path twice shares one handle. A file that cannot be loaded is a UserError
  // that names the path and carries the loader's message.
  static std::shared_ptr<Library> open(const std::string& path);

  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  ~Library();  // unloads; entry points must not be called afterwards

  // The entry point of kernel `kernel_name`; a UserError naming the kernel and the file when the
  // library has no such kernel.
  EntryFn entry(const std::string& kernel_name) const;
  // Whether the library has a kernel of that name.
  bool has_entry(const std::string& kernel_name) const;
  // The message of the last failed kernel assertion, or "" when none failed (or the library has
  // no assertions).
  std::string last_error() const;

  const std::string& path() const { return path_; }

 private:
  Library(std::string path, void* handle) : path_(std::move(path)), handle_(handle) {}
  std::string path_;
  void* handle_;
};

}  // namespace taskmap::runtime
