#include "codegen/codegen_support.h"

#include <random>

#include "taskmap/build/compiler.h"

namespace taskmap::testing {
namespace {

std::vector<std::shared_ptr<runtime::Library>>& loaded() {
  static std::vector<std::shared_ptr<runtime::Library>> libraries;
  return libraries;
}

}  // namespace

CpuTarget fixed_target() {
  return CpuTarget::parse("cpu:avx2,cores=4,l1d=32k,l2=1m,l3=8m");
}

std::string source_of(const ir::Function& f) {
  return codegen::generate_cpu_source(ir::Module{"test", {f}}, fixed_target());
}

runtime::Library::EntryFn compile_for_host(const ir::Function& f) {
  build::BuildOptions options;
  options.target = CpuTarget::host();
  std::string source = codegen::generate_cpu_source(ir::Module{f->name, {f}}, options.target);
  auto libraries = build::build_shared_objects({{f->name, source}}, options);
  loaded().push_back(libraries.at(0));
  return libraries.at(0)->entry(f->name);
}

std::shared_ptr<runtime::Library> last_library() {
  return loaded().back();
}

std::vector<float> random_floats(size_t n, float lo, float hi) {
  static std::mt19937 rng(1234);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

ir::Var tensor(const std::string& name, ir::DType dtype, int64_t n) {
  return ir::var(name, ir::Type::tensor(dtype, {n}));
}

bool contains(const std::string& text, const std::string& piece) {
  return text.find(piece) != std::string::npos;
}

}  // namespace taskmap::testing
