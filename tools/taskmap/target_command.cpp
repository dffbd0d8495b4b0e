// `taskmap target [TARGET]`: what code would be built for. Without an argument, the host CPU, the
// first CUDA device (or why there is none) and the NVRTC that would build CUDA kernels; with one
// ("cpu:avx2", "cuda:sm_90,smem=100k"), that target with every field filled in, or an error that
// says what is wrong with it.
#include <cstdio>
#include <optional>
#include <string>

#include "commands.h"
#include "taskmap/build/cuda_compiler.h"
#include "taskmap/error.h"
#include "taskmap/target.h"

namespace taskmap::cli {
namespace {

void print_cuda(const CudaTarget& t) {
  std::printf(
      "%s\n  architecture %s, %d SMs, %lld bytes of shared memory per block, %d registers "
      "per block, %d threads per block\n",
      t.str().c_str(), t.arch().c_str(), t.sm_count, static_cast<long long>(t.shared_per_block),
      t.registers_per_block, t.max_threads_per_block);
}

void print_cpu(const CpuTarget& t) {
  std::printf("%s\n  %d-byte vectors, compiler flags:", t.str().c_str(), t.vector_bytes());
  for (const std::string& flag : t.isa_flags()) std::printf(" %s", flag.c_str());
  std::printf("\n");
}

}  // namespace

void add_target_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "target", "Show the targets of this machine (CPU, CUDA device, NVRTC) or resolve one");
  cmd->footer(
      "Targets: cpu[:<isa>][,cores=N][,l1d=B][,l2=B][,l3=B] or "
      "cuda[:sm_XY[a]][,sms=N][,smem=B][,regs=N]\nExamples: taskmap target\n          taskmap "
      "target cuda:sm_80\n          taskmap target cpu:avx2,cores=4");
  auto text = std::make_shared<std::string>();
  cmd->add_option("target", *text, "A target to resolve (default: show this machine's)");
  cmd->callback([text] {
    if (text->rfind("cuda", 0) == 0) {
      print_cuda(CudaTarget::parse(*text));
      return;
    }
    if (!text->empty()) {
      TM_USER_CHECK(text->rfind("cpu", 0) == 0)
          << "unknown target '" << *text << "': a target starts with 'cpu' or 'cuda'";
      print_cpu(CpuTarget::parse(*text));
      return;
    }
    std::printf("cpu   ");
    print_cpu(CpuTarget::host());
    std::string why_not;
    std::optional<CudaTarget> device = CudaTarget::device(0, &why_not);
    std::printf("cuda  ");
    if (device.has_value())
      print_cuda(*device);
    else
      std::printf("none: %s\n", why_not.c_str());
    std::string nvrtc_missing;
    if (build::nvrtc_available(&nvrtc_missing))
      std::printf("nvrtc %s (builds CUDA kernels for any architecture from sm_75)\n",
                  build::nvrtc_version().c_str());
    else
      std::printf("nvrtc none: %s\n", nvrtc_missing.c_str());
  });
}

}  // namespace taskmap::cli
