// Library: dlopen / dlsym / dlclose around a compiled kernel shared object.
// Requires: a shared object produced by the build driver (or any .so with taskmap_entry_ symbols).
// Guarantees: errors are UserErrors that name the file (and the kernel for missing entries).
#include "taskmap/runtime/library.h"

#include <dlfcn.h>

#include "taskmap/error.h"

namespace taskmap::runtime {
namespace {

constexpr const char* kEntryPrefix = "taskmap_entry_";
constexpr const char* kLastErrorSymbol = "taskmap_last_error";

std::string loader_message() {
  const char* message = dlerror();
  return message != nullptr ? message : "unknown error";
}

}  // namespace

std::shared_ptr<Library> Library::open(const std::string& path) {
  // RTLD_NOW: a missing symbol shows up here, not in the middle of a run. RTLD_LOCAL: kernels of
  // different libraries share symbol names (helpers, entry points) and must not bind to each other.
  // RTLD_NODELETE: a kernel library stays mapped after dlclose. Kernels pull in libgomp, whose
  // worker threads outlive any one call; unloading the last library that needs libgomp would
  // unmap the code those parked threads run (a crash seen when tests released kernels).
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  TM_USER_CHECK(handle != nullptr)
      << "cannot load kernel library '" << path << "': " << loader_message();
  return std::shared_ptr<Library>(new Library(path, handle));
}

Library::~Library() {
  if (handle_ != nullptr) dlclose(handle_);
}

Library::EntryFn Library::entry(const std::string& kernel_name) const {
  dlerror();  // clear a stale message so the one below belongs to this lookup
  void* symbol = dlsym(handle_, (kEntryPrefix + kernel_name).c_str());
  TM_USER_CHECK(symbol != nullptr) << "kernel library '" << path_ << "' has no kernel '"
                                   << kernel_name << "': " << loader_message();
  return reinterpret_cast<EntryFn>(symbol);
}

bool Library::has_entry(const std::string& kernel_name) const {
  return dlsym(handle_, (kEntryPrefix + kernel_name).c_str()) != nullptr;
}

std::string Library::last_error() const {
  using LastErrorFn = const char* (*)();
  void* symbol = dlsym(handle_, kLastErrorSymbol);
  if (symbol == nullptr) return "";
  const char* message = reinterpret_cast<LastErrorFn>(symbol)();
  return message != nullptr ? message : "";
}

}  // namespace taskmap::runtime
