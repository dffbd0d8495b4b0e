#pragma once
// Options shared by the commands that take a model (run, bench, inspect): the model path,
// --target, --threads, --dim NAME=VALUE, --input FILE, and the helpers that turn them into a
// Model and its inputs.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "taskmap/model.h"

namespace taskmap::cli {

struct ModelArgs {
  std::string path;
  int threads = 0;
  bool no_fuse = false;
  bool no_winograd = false;
  std::string layout = "nhwc";
  std::string precision = "f32";    // "f32", "f16" or "bf16" (ModelOptions::precision)
  bool tf32 = false;                // ModelOptions::tf32 (CUDA targets only)
  std::string target = "cpu";       // "cpu[:...]" or "cuda[:sm_XY,...]" (target.h)
  std::vector<std::string> dims;    // "NAME=VALUE"
  std::vector<std::string> inputs;  // .pb or .npy files, in graph-input order
  uint64_t seed = 0;

  // Registers MODEL, --threads, --dim (and --input, --seed when `with_inputs`).
  void add_to(CLI::App* cmd, bool with_inputs);
  Model load() const;  // parses --dim and --target; a bad one is a UserError
  // The --input files read and checked against the model's inputs, or seeded random inputs of
  // the declared shapes when none are given.
  std::vector<NDArray> make_inputs(const Model& model) const;
};

// The compiler warnings of a compilation, on stderr (nothing when there are none).
void print_warnings(const CompileReport& report);

// Reads a .pb (TensorProto) or .npy file, by extension.
NDArray read_tensor_file(const std::string& path);

// "f32[1, 1000]  min -3.1  max 4.2  mean 0.01".
std::string summarize(const NDArray& value);

}  // namespace taskmap::cli
