// `taskmap cache [--clear]`: where compiled kernels are cached, how much is there, and clearing it.
#include <cstdio>

#include "commands.h"
#include "taskmap/build/compiler.h"

namespace taskmap::cli {

void add_cache_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("cache", "Show the kernel cache (location, files, size) or clear it");
  cmd->footer(
      "The cache lives in $TASKMAP_CACHE_DIR, else $XDG_CACHE_HOME/taskmap, else "
      "~/.cache/taskmap.\nExample: taskmap cache --clear");
  auto clear = std::make_shared<bool>(false);
  cmd->add_flag("--clear", *clear, "Remove every cached kernel");
  cmd->callback([clear] {
    std::string dir = build::kernel_cache_dir().string();
    if (*clear) {
      build::CacheUsage before = build::kernel_cache_usage();
      build::clear_kernel_cache();
      std::printf("cleared %lld files (%.1f MiB) from %s\n", static_cast<long long>(before.files),
                  static_cast<double>(before.bytes) / (1 << 20), dir.c_str());
      return;
    }
    build::CacheUsage usage = build::kernel_cache_usage();
    std::printf("kernel cache  %s\nfiles         %lld\nsize          %.1f MiB\n", dir.c_str(),
                static_cast<long long>(usage.files), static_cast<double>(usage.bytes) / (1 << 20));
  });
}

}  // namespace taskmap::cli
