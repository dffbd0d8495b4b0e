// `taskmap mapping` from the outside: malformed expressions and bad options exit non-zero with a
// one-line message that names the problem; valid expressions print the mapping and exit 0.
#include <gtest/gtest.h>

#include <string>

#include "errors/cli_support.h"

namespace {

using taskmap::testing::run_cli;
using Result = taskmap::testing::CliResult;

// A failing run: exit status 1 and exactly one line, "taskmap: error: ...".
void expect_error(const std::string& args, const std::string& message) {
  SCOPED_TRACE(args);
  const Result result = run_cli(args);
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.output, "taskmap: error: " + message + "\n");
}

TEST(MappingCli, MalformedExpressions) {
  expect_error("mapping 'spatial(4,)'",
               "invalid mapping expression 'spatial(4,)' at column 11: expected an integer");
  expect_error("mapping 'spatail(4, 8)'",
               "invalid mapping expression 'spatail(4, 8)' at column 1: unknown mapping 'spatail'; "
               "expected spatial, repeat, col_spatial, col_repeat or auto_map");
  expect_error("mapping 'repeat(2, -3)'",
               "invalid mapping expression 'repeat(2, -3)' at column 11: an extent must be "
               "positive, got -3");
  expect_error("mapping 'spatial(4, 8) * repeat(2)'",
               "invalid mapping expression 'spatial(4, 8) * repeat(2)' at column 15: cannot "
               "compose spatial(4, 8) with repeat(2): ranks differ (2 vs 1)");
  expect_error("mapping 'spatial(65536, 65536) * repeat(65536, 65536)'",
               "invalid mapping expression 'spatial(65536, 65536) * repeat(65536, 65536)' at "
               "column 23: task mapping spatial(65536, 65536) * repeat(65536, 65536) has too many "
               "tasks (the count overflows a 64-bit integer)");
  expect_error("mapping 'auto_map(8, 3, workers=16)'",
               "invalid mapping expression 'auto_map(8, 3, workers=16)' at column 1: auto_map(8, "
               "3, workers=16): the 24 tasks cannot be split evenly over 16 workers");
}

TEST(MappingCli, WorkerOutOfRange) {
  expect_error("mapping 'spatial(4, 8) * repeat(2, 2)' --worker 32",
               "worker 32 is out of range: spatial(4, 8) * repeat(2, 2) has 32 workers (0..31)");
  expect_error("mapping 'spatial(4, 8)' --worker -1",
               "worker -1 is out of range: spatial(4, 8) has 32 workers (0..31)");
  expect_error("mapping 'repeat(4)' -w 1", "worker 1 is out of range: repeat(4) has 1 worker (0)");
}

TEST(MappingCli, MissingExpression) {
  const Result result = run_cli("mapping");
  EXPECT_NE(result.status, 0);
  EXPECT_NE(result.output.find("expression is required"), std::string::npos) << result.output;
}

TEST(MappingCli, OneWorker) {
  const Result result = run_cli("mapping 'spatial(4, 8) * repeat(2, 2)' --worker 13");
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("mapping      spatial(4, 8) * repeat(2, 2)\n"), std::string::npos);
  EXPECT_NE(result.output.find("workers      32\n"), std::string::npos);
  EXPECT_NE(result.output.find("task shape   (8, 16)\n"), std::string::npos);
  EXPECT_NE(result.output.find("tasks/worker 4\n"), std::string::npos);
  EXPECT_NE(result.output.find("worker 13: (2, 10) (2, 11) (3, 10) (3, 11)\n"), std::string::npos)
      << result.output;
}

TEST(MappingCli, TableIsCutUnlessAll) {
  const Result cut = run_cli("mapping 'spatial(16, 16)'");
  EXPECT_EQ(cut.status, 0) << cut.output;
  EXPECT_NE(cut.output.find("worker  63: (3, 15)\n"), std::string::npos) << cut.output;
  EXPECT_EQ(cut.output.find("worker  64:"), std::string::npos);
  EXPECT_NE(cut.output.find("192 more workers"), std::string::npos);
  const Result all = run_cli("mapping 'spatial(16, 16)' --all");
  EXPECT_EQ(all.status, 0);
  EXPECT_NE(all.output.find("worker 255: (15, 15)\n"), std::string::npos);
}

TEST(MappingCli, HugeMappingsAreSummarized) {
  const Result huge = run_cli("mapping 'spatial(2, 2) * repeat(4096, 1024)'");
  EXPECT_EQ(huge.status, 0) << huge.output;
  EXPECT_NE(huge.output.find("(4194304 tasks per worker: too many to list)"), std::string::npos)
      << huge.output;
}

TEST(MappingCli, Lowering) {
  const Result result = run_cli("mapping 'spatial(4, 8) * repeat(2, 2)' --lower");
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("for r0 in range(2) unroll"), std::string::npos) << result.output;
}

TEST(MappingCli, HelpHasAnExample) {
  const Result result = run_cli("mapping --help");
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.output.find("taskmap mapping 'spatial(4, 8) * repeat(2, 2)'"),
            std::string::npos);
}

}  // namespace
