#include "model_args.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

#include "taskmap/error.h"
#include "taskmap/frontend/onnx.h"
#include "taskmap/runtime/npy.h"

namespace taskmap::cli {

void ModelArgs::add_to(CLI::App* cmd, bool with_inputs) {
  cmd->add_option("model", path, "ONNX model file")->required();
  cmd->add_option("--threads", threads, "Threads the kernels use (default: one per core)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--target", target,
                  "What to compile for: cpu (this machine, the default), cpu:avx2 and the like, "
                  "cuda (the first GPU) or cuda:sm_90 (no GPU needed to compile; running needs "
                  "one). See `taskmap target`");
  cmd->add_option("--dim", dims, "Size of a symbolic input dimension, NAME=VALUE (repeatable)");
  cmd->add_flag("--no-fuse", no_fuse,
                "One kernel per operator (no post-scheduling fusion), for comparisons");
  cmd->add_flag("--no-winograd", no_winograd,
                "Run 3x3 convolutions directly instead of by Winograd's F(4x4, 3x3) / F(2x2, 3x3) "
                "(slower; the results differ from the direct ones by float rounding)");
  cmd->add_option("--layout", layout,
                  "Layout convolutions run in: nhwc (channels last, the default) or nchw (as the "
                  "model has it), for comparisons")
      ->check(CLI::IsMember({"nhwc", "nchw"}));
  cmd->add_option("--precision", precision,
                  "Type the float operators store their values in: f32 (the default), f16 or "
                  "bf16 (inputs and outputs stay f32; on a GPU the matmuls and convolutions run "
                  "on tensor cores, on the CPU the other precisions are slower than f32)")
      ->check(CLI::IsMember({"f32", "f16", "bf16"}));
  cmd->add_flag("--tf32", tf32,
                "On CUDA: f32 matmuls and convolutions on tensor cores, their operands rounded to "
                "tf32 (10 mantissa bits), as PyTorch's allow_tf32 (default: exact f32)");
  if (with_inputs) {
    cmd->add_option("--input", inputs,
                    "Input tensor file (.pb TensorProto or .npy), in graph-input order "
                    "(repeatable; default: seeded random inputs)");
    cmd->add_option("--seed", seed, "Seed of the random inputs (default 0)");
  }
}

Model ModelArgs::load() const {
  ModelOptions options;
  options.threads = threads;
  options.fuse = !no_fuse;
  options.channels_last = layout == "nhwc";
  options.winograd = !no_winograd;
  options.precision = precision == "f16" ? ir::f16 : precision == "bf16" ? ir::bf16 : ir::f32;
  options.progress = true;  // on stderr, so `--json` output stays clean
  TM_USER_CHECK(target.rfind("cpu", 0) == 0 || target.rfind("cuda", 0) == 0)
      << "--target '" << target << "': a target starts with 'cpu' or 'cuda'";
  if (target.rfind("cuda", 0) == 0) {
    options.cuda = CudaTarget::parse(target);
    options.tf32 = tf32;
  } else {
    TM_USER_CHECK(!tf32) << "--tf32: a CUDA option (tensor cores); the target is " << target;
    options.compile.target = CpuTarget::parse(target);
    if (options.precision != ir::f32)
      std::fprintf(stderr,
                   "note: --precision %s on the CPU: its templates are f32, so the narrowed "
                   "operators are auto-scheduled (expect it slower than f32)\n",
                   precision.c_str());
    // Kernels built for an ISA this machine lacks would die of an illegal instruction.
    const CpuTarget::Isa host = CpuTarget::host().isa;
    TM_USER_CHECK(options.compile.target.isa <= host)
        << "--target " << target << ": this machine's CPU runs " << isa_name(host)
        << " code at most";
  }
  for (const std::string& d : dims) {
    size_t eq = d.find('=');
    TM_USER_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < d.size())
        << "--dim '" << d << "': expected NAME=VALUE";
    std::string value = d.substr(eq + 1);
    char* end = nullptr;
    long long v = std::strtoll(value.c_str(), &end, 10);
    TM_USER_CHECK(*end == '\0' && v > 0)
        << "--dim '" << d << "': the value must be a positive integer";
    options.dims[d.substr(0, eq)] = v;
  }
  return Model::load(path, options);
}

void print_warnings(const CompileReport& report) {
  for (const std::string& w : report.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
}

NDArray read_tensor_file(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".npy") return load_npy(path);
  TM_USER_CHECK(ext == ".pb") << "input file '" << path
                              << "': expected a .pb (ONNX TensorProto) or .npy file";
  return onnx::load_tensor(path);
}

std::vector<NDArray> ModelArgs::make_inputs(const Model& model) const {
  const auto& declared = model.graph().inputs;
  std::vector<NDArray> values;
  if (!inputs.empty()) {
    TM_USER_CHECK(inputs.size() == declared.size())
        << "the model takes " << declared.size() << " inputs, " << inputs.size()
        << " --input files were given";
    for (size_t i = 0; i < inputs.size(); ++i) {
      NDArray v = read_tensor_file(inputs[i]);
      const graph::TensorNode& t = *declared[i];
      bool shape_ok = v.rank() == static_cast<int64_t>(t.shape.size());
      for (size_t d = 0; shape_ok && d < t.shape.size(); ++d)
        shape_ok = !t.shape[d].is_known() || t.shape[d].size() == v.shape()[d];
      TM_USER_CHECK(v.dtype() == t.dtype && shape_ok)
          << "input file '" << inputs[i] << "' holds " << v.type_str() << ", but input '" << t.name
          << "' is " << t.type_str();
      values.push_back(v);
    }
    return values;
  }
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> real(-1.0, 1.0);
  std::uniform_int_distribution<int64_t> small(0, 9);
  for (const graph::InputBinding& b : model.default_bindings()) {
    NDArray v(b.dtype, b.shape);
    for (int64_t i = 0; i < v.numel(); ++i) {
      if (b.dtype.is_float())
        v.set_double(i, real(rng));
      else if (b.dtype.is_bool())
        v.set_int(i, small(rng) % 2);
      else
        v.set_int(i, small(rng));
    }
    values.push_back(v);
  }
  return values;
}

std::string summarize(const NDArray& value) {
  std::string s = value.type_str();
  if (value.numel() == 0) return s + "  (empty)";
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  int64_t nan = 0;
  for (int64_t i = 0; i < value.numel(); ++i) {
    double x = value.get_double(i);
    if (std::isnan(x)) {
      ++nan;
      continue;
    }
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    sum += x;
  }
  char buf[160];
  std::snprintf(buf, sizeof buf, "  min %.6g  max %.6g  mean %.6g", lo, hi,
                sum / static_cast<double>(std::max<int64_t>(1, value.numel() - nan)));
  s += buf;
  if (nan) s += "  (" + std::to_string(nan) + " NaN)";
  return s;
}

}  // namespace taskmap::cli
