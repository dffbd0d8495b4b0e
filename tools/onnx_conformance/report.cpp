#include <map>
#include <sstream>

#include "conformance.h"

namespace taskmap::conformance {

std::string markdown_report(const std::vector<TestResult>& results,
                            const std::vector<std::pair<std::string, std::string>>& excluded) {
  struct Row {
    int passed = 0, failed = 0, unsupported = 0, error = 0, excluded = 0;
  };
  std::map<std::string, Row> rows;
  Row total;
  for (const TestResult& r : results) {
    Row& row = rows[r.op_type.empty() ? "(unknown)" : r.op_type];
    for (Row* x : {&row, &total}) {
      switch (r.status) {
        case Status::passed:
          ++x->passed;
          break;
        case Status::failed:
          ++x->failed;
          break;
        case Status::unsupported:
          ++x->unsupported;
          break;
        case Status::error:
          ++x->error;
          break;
        case Status::excluded:
          ++x->excluded;
          break;
      }
    }
  }
  int considered = total.passed + total.failed + total.unsupported + total.error;
  int all = considered + total.excluded;
  std::ostringstream os;
  os << "# ONNX conformance\n\n"
     << "Debian's libonnx-testdata (node and simple tests) run through taskmap by "
        "`scripts/conformance.sh`, which regenerates this page. Outputs are compared with "
        "rtol 1e-3, atol 1e-5 for floats (NaN equals NaN) and exactly for integers and bools.\n\n";
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "**Totals:** %d tests; %d excluded (%.1f%%); of the other %d, %d passed (%.1f%%), "
                "%d failed, %d unsupported, %d errors.\n\n",
                all, total.excluded, all ? 100.0 * total.excluded / all : 0.0, considered,
                total.passed, considered ? 100.0 * total.passed / considered : 0.0, total.failed,
                total.unsupported, total.error);
  os << buf;
  os << "| operator | passed | failed | unsupported | error | excluded |\n"
     << "|---|---:|---:|---:|---:|---:|\n";
  for (const auto& [op, row] : rows) {
    os << "| " << op << " | " << row.passed << " | " << row.failed << " | " << row.unsupported
       << " | " << row.error << " | " << row.excluded << " |\n";
  }
  os << "\n## Not passing\n\n";
  for (const TestResult& r : results) {
    if (r.status == Status::passed || r.status == Status::excluded) continue;
    std::string msg = r.message.substr(0, 300);
    for (char& c : msg)
      if (c == '\n' || c == '|') c = ' ';
    os << "- `" << r.name << "` (" << status_name(r.status) << "): " << msg << "\n";
  }
  os << "\n## Excluded, with reasons\n\n";
  for (const auto& [name, reason] : excluded) os << "- `" << name << "`: " << reason << "\n";
  return os.str();
}

}  // namespace taskmap::conformance
