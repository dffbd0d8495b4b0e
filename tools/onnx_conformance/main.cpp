// taskmap-conformance: runs the ONNX backend test data through taskmap, one child process per
// test (a crash or a hang fails that test only), several at a time.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "conformance.h"
#include "taskmap/runtime/file_io.h"

namespace fs = std::filesystem;
using namespace taskmap::conformance;
using json = nlohmann::json;

namespace {

struct Test {
  std::string dir, suite, name;
};

// "name  reason" lines; '#' starts a comment.
std::vector<std::pair<std::string, std::string>> read_excluded(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  if (path.empty()) return out;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read exclusion list '" + path + "'");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.find_first_of(" \t");
    std::string name = line.substr(0, space);
    std::string reason =
        space == std::string::npos ? "" : line.substr(line.find_first_not_of(" \t", space));
    out.emplace_back(name, reason);
  }
  return out;
}

json to_json(const TestResult& r) {
  return {{"name", r.name},       {"suite", r.suite},
          {"op", r.op_type},      {"status", status_name(r.status)},
          {"message", r.message}, {"seconds", r.seconds}};
}

TestResult from_json(const json& j) {
  TestResult r;
  r.name = j["name"];
  r.suite = j["suite"];
  r.op_type = j["op"];
  std::string s = j["status"];
  for (Status st : {Status::passed, Status::failed, Status::unsupported, Status::error})
    if (s == status_name(st)) r.status = st;
  r.message = j["message"];
  r.seconds = j["seconds"];
  return r;
}

struct Child {
  pid_t pid;
  int fd;
  Test test;
  std::string output;
  std::chrono::steady_clock::time_point start;
};

Child start_child(const Test& t) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string line = to_json(run_test(t.dir, t.suite)).dump();
    size_t off = 0;
    while (off < line.size()) {
      ssize_t n = write(fds[1], line.data() + off, line.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  return {pid, fds[0], t, "", std::chrono::steady_clock::now()};
}

TestResult finish_child(Child& c, bool timed_out, double timeout) {
  int status = 0;
  waitpid(c.pid, &status, 0);
  close(c.fd);
  TestResult r;
  r.name = c.test.name;
  r.suite = c.test.suite;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - c.start).count();
  if (timed_out) {
    r.status = Status::error;
    r.message = "timed out after " + std::to_string(static_cast<int>(timeout)) + " s";
  } else if (WIFSIGNALED(status) || c.output.empty()) {
    r.status = Status::error;
    r.message = "crashed (" +
                std::string(WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "no result") + ")";
  } else {
    return from_json(json::parse(c.output));
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Runs the ONNX backend node and simple tests through taskmap."};
  std::string data = "/usr/share/libonnx-testdata/data";
  std::string filter = ".*", excluded_path, report_path, json_path;
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  double timeout = 300, min_pass_rate = 0, max_excluded = 1;
  bool verbose = false;
  app.add_option("--data", data, "test data folder (holding node/ and simple/)");
  app.add_option("--filter", filter, "run only tests whose name matches this regex");
  app.add_option("--excluded", excluded_path, "exclusion list: one 'test_name reason' a line");
  app.add_option("--report", report_path, "write the Markdown table here");
  app.add_option("--json", json_path, "write every result here as JSON");
  app.add_option("-j,--jobs", jobs, "tests run at once");
  app.add_option("--timeout", timeout, "seconds one test may take");
  app.add_option("--min-pass-rate", min_pass_rate,
                 "exit 1 when fewer of the non-excluded tests pass (0..1)");
  app.add_option("--max-excluded", max_excluded,
                 "exit 1 when more of the suite is excluded (0..1)");
  app.add_flag("-v,--verbose", verbose, "print every test, not only the ones that do not pass");
  CLI11_PARSE(app, argc, argv);

  try {
    auto excluded = read_excluded(excluded_path);
    std::map<std::string, std::string> excluded_by_name(excluded.begin(), excluded.end());
    std::regex pattern(filter);
    std::vector<Test> tests;
    std::vector<TestResult> results;
    for (const char* suite : {"node", "simple"}) {
      fs::path root = fs::path(data) / suite;
      if (!fs::is_directory(root))
        throw std::runtime_error("no test folder '" + root.string() + "'");
      std::vector<fs::path> dirs;
      for (const auto& e : fs::directory_iterator(root)) dirs.push_back(e.path());
      std::sort(dirs.begin(), dirs.end());
      for (const fs::path& d : dirs) {
        std::string name = d.filename().string();
        if (!std::regex_search(name, pattern)) continue;
        if (excluded_by_name.count(name)) {
          TestResult r;
          r.name = name;
          r.suite = suite;
          r.op_type = "(excluded)";
          r.status = Status::excluded;
          r.message = excluded_by_name[name];
          results.push_back(r);
          continue;
        }
        tests.push_back({d.string(), suite, name});
      }
    }

    std::vector<Child> running;
    size_t next = 0, done = 0;
    while (next < tests.size() || !running.empty()) {
      while (next < tests.size() && static_cast<int>(running.size()) < jobs)
        running.push_back(start_child(tests[next++]));
      std::vector<pollfd> fds;
      for (const Child& c : running) fds.push_back({c.fd, POLLIN, 0});
      poll(fds.data(), fds.size(), 200);
      for (size_t i = running.size(); i-- > 0;) {
        Child& c = running[i];
        bool finished = false, timed_out = false;
        if (fds[i].revents & (POLLIN | POLLHUP)) {
          char buf[4096];
          ssize_t n = read(c.fd, buf, sizeof buf);
          if (n > 0)
            c.output.append(buf, static_cast<size_t>(n));
          else
            finished = true;
        }
        double age =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - c.start).count();
        if (!finished && age > timeout) {
          kill(c.pid, SIGKILL);
          finished = timed_out = true;
        }
        if (!finished) continue;
        TestResult r = finish_child(c, timed_out, timeout);
        ++done;
        if (verbose || r.status != Status::passed) {
          std::cout << "[" << done << "/" << tests.size() << "] " << r.name << ": "
                    << status_name(r.status)
                    << (r.message.empty() ? "" : " - " + r.message.substr(0, 240)) << std::endl;
        }
        results.push_back(r);
        running.erase(running.begin() + static_cast<long>(i));
      }
    }
    std::sort(results.begin(), results.end(),
              [](const TestResult& a, const TestResult& b) { return a.name < b.name; });

    int passed = 0, excluded_count = 0;
    for (const TestResult& r : results) {
      passed += r.status == Status::passed;
      excluded_count += r.status == Status::excluded;
    }
    int considered = static_cast<int>(results.size()) - excluded_count;
    double pass_rate = considered ? static_cast<double>(passed) / considered : 1.0;
    double excluded_share =
        results.empty() ? 0.0 : static_cast<double>(excluded_count) / results.size();
    std::printf("conformance: %d tests, %d excluded (%.1f%%), %d of %d passed (%.1f%%)\n",
                static_cast<int>(results.size()), excluded_count, 100 * excluded_share, passed,
                considered, 100 * pass_rate);
    if (!report_path.empty())
      taskmap::write_file_atomically(report_path, markdown_report(results, excluded));
    if (!json_path.empty()) {
      json all = json::array();
      for (const TestResult& r : results) all.push_back(to_json(r));
      taskmap::write_file_atomically(json_path, all.dump(1));
    }
    if (pass_rate < min_pass_rate) {
      std::printf("conformance: pass rate %.1f%% is below the required %.1f%%\n", 100 * pass_rate,
                  100 * min_pass_rate);
      return 1;
    }
    if (excluded_share > max_excluded) {
      std::printf("conformance: %.1f%% excluded is above the allowed %.1f%%\n",
                  100 * excluded_share, 100 * max_excluded);
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "taskmap-conformance: " << e.what() << "\n";
    return 2;
  }
}
