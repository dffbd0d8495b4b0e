#pragma once
// The conformance driver's parts: one test run (in a child process), and the report.
#include <string>
#include <vector>

namespace taskmap::conformance {

enum class Status { passed, failed, unsupported, error, excluded };
const char* status_name(Status status);

struct TestResult {
  std::string name;     // "test_abs"
  std::string suite;    // "node" or "simple"
  std::string op_type;  // the operator the test is about
  Status status = Status::error;
  std::string message;  // why it did not pass
  double seconds = 0;
};

// Runs one test folder (model.onnx and test_data_set_*): compiles the model, runs every data set
// and compares with the expected outputs (floats: |a - b| <= atol + rtol * |b|, NaN equals NaN;
// integers and bools exactly).
TestResult run_test(const std::string& dir, const std::string& suite);

// The Markdown table, one row per operator, and the totals.
std::string markdown_report(const std::vector<TestResult>& results,
                            const std::vector<std::pair<std::string, std::string>>& excluded);

}  // namespace taskmap::conformance
