#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include "conformance.h"
#include "taskmap/error.h"
#include "taskmap/frontend/onnx.h"
#include "taskmap/model.h"

namespace taskmap::conformance {
namespace fs = std::filesystem;

const char* status_name(Status status) {
  switch (status) {
    case Status::passed:
      return "passed";
    case Status::failed:
      return "failed";
    case Status::unsupported:
      return "unsupported";
    case Status::error:
      return "error";
    case Status::excluded:
      return "excluded";
  }
  return "?";
}

namespace {

std::string snake_case(const std::string& type) {
  std::string out;
  for (size_t i = 0; i < type.size(); ++i) {
    char c = type[i];
    bool upper = std::isupper(static_cast<unsigned char>(c));
    bool prev_lower = i > 0 && !std::isupper(static_cast<unsigned char>(type[i - 1]));
    bool next_lower = i + 1 < type.size() && std::islower(static_cast<unsigned char>(type[i + 1]));
    if (upper && i > 0 && (prev_lower || next_lower)) out += '_';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// The operator a test is about: the model's op type whose snake_case name the test name starts
// with (the longest such), else the first operator.
std::string op_under_test(const graph::Graph& g, const std::string& test) {
  std::string best;
  size_t best_len = 0;
  for (const graph::Operator& op : g.ops) {
    std::string prefix = "test_" + snake_case(op->type);
    if (test.rfind(prefix, 0) == 0 && prefix.size() > best_len) {
      best = op->type;
      best_len = prefix.size();
    }
  }
  if (!best.empty()) return best;
  return g.ops.empty() ? "(none)" : g.ops.front()->type;
}

// Empty when `actual` matches `expected`, else what differs.
std::string compare(const NDArray& actual, const NDArray& expected, size_t k) {
  std::ostringstream os;
  if (actual.dtype() != expected.dtype() || actual.shape() != expected.shape()) {
    os << "output " << k << ": expected " << expected.type_str() << ", got " << actual.type_str();
    return os.str();
  }
  const double rtol = 1e-3, atol = 1e-5;
  int64_t bad = 0, first = -1;
  for (int64_t i = 0; i < expected.numel(); ++i) {
    bool ok;
    if (expected.dtype().is_float()) {
      double a = actual.get_double(i), e = expected.get_double(i);
      ok = (std::isnan(a) && std::isnan(e)) || a == e ||
           std::fabs(a - e) <= atol + rtol * std::fabs(e);
    } else {
      ok = actual.get_int(i) == expected.get_int(i);
    }
    if (!ok && bad++ == 0) first = i;
  }
  if (bad == 0) return "";
  os << "output " << k << ": " << bad << " of " << expected.numel() << " elements differ; first at "
     << first << ": got " << actual.get_double(first) << ", expected "
     << expected.get_double(first);
  return os.str();
}

std::vector<NDArray> read_tensors(const fs::path& dir, const std::string& prefix) {
  std::vector<NDArray> out;
  for (int k = 0;; ++k) {
    fs::path p = dir / (prefix + "_" + std::to_string(k) + ".pb");
    if (!fs::exists(p)) break;
    out.push_back(onnx::load_tensor(p.string()));
  }
  return out;
}

}  // namespace

TestResult run_test(const std::string& dir, const std::string& suite) {
  TestResult r;
  r.name = fs::path(dir).filename().string();
  r.suite = suite;
  auto start = std::chrono::steady_clock::now();
  try {
    Model model = Model::load((fs::path(dir) / "model.onnx").string());
    r.op_type = op_under_test(model.graph(), r.name);
    std::vector<fs::path> sets;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0)
        sets.push_back(entry.path());
    std::sort(sets.begin(), sets.end());
    TM_USER_CHECK(!sets.empty()) << "no test data sets";
    std::string mismatch;
    for (const fs::path& set : sets) {
      std::vector<NDArray> inputs = read_tensors(set, "input");
      std::vector<NDArray> expected = read_tensors(set, "output");
      std::vector<NDArray> actual = model.run(inputs);
      TM_USER_CHECK(actual.size() == expected.size())
          << "the model gave " << actual.size() << " outputs, the data set has " << expected.size();
      for (size_t k = 0; k < expected.size() && mismatch.empty(); ++k)
        mismatch = compare(actual[k], expected[k], k);
      if (!mismatch.empty()) {
        mismatch = set.filename().string() + ": " + mismatch;
        break;
      }
    }
    r.status = mismatch.empty() ? Status::passed : Status::failed;
    r.message = mismatch;
  } catch (const UserError& e) {
    std::string what = e.what();
    bool unsupported = what.find("not supported") != std::string::npos;
    r.status = unsupported ? Status::unsupported : Status::error;
    r.message = what;
  } catch (const std::exception& e) {
    r.status = Status::error;
    r.message = std::string("internal error: ") + e.what();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace taskmap::conformance
