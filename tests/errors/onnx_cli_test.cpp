// Bad models and bad inputs given to `taskmap run / inspect / bench`: each exits 1 with one line,
// "taskmap: error: ...", that names the file and, where there is one, the node and op type.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "errors/cli_support.h"
#include "taskmap/frontend/onnx.h"
#include "taskmap/runtime/npy.h"

namespace {

using taskmap::NDArray;
using taskmap::testing::run_cli;
namespace graph = taskmap::graph;
namespace ir = taskmap::ir;

// A one-node model y = <type>(x, w) with x: f32[2, 3] and w a constant f32[2, 3].
graph::Graph one_node_model(const std::string& type, bool with_weight = true) {
  graph::Graph g;
  g.name = "bad";
  auto x = graph::make_tensor("x", ir::f32, {2, 3});
  g.inputs.push_back(x);
  auto node = std::make_shared<graph::OperatorNode>();
  node->type = type;
  node->name = "the_node";
  node->inputs.push_back(x);
  if (with_weight) {
    NDArray w(ir::f32, {2, 3});
    for (int i = 0; i < 6; ++i) w.set_double(i, 0.5 + i);
    node->inputs.push_back(graph::make_constant("w", w));
  }
  auto y = graph::make_tensor("y", ir::f32, {2, 3});
  node->outputs.push_back(y);
  g.add(node);
  g.outputs.push_back(y);
  return g;
}

std::string write_model(const graph::Graph& g, const std::string& name) {
  std::string path = taskmap::testing::temp_dir() + "/" + name;
  taskmap::onnx::save_model(g, path);
  return path;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Exit status 1 and one line starting "taskmap: error: " that contains every part of `parts`.
void expect_error(const std::string& args, const std::vector<std::string>& parts) {
  SCOPED_TRACE(args);
  auto result = run_cli(args);
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_EQ(result.output.rfind("taskmap: error: ", 0), 0u) << result.output;
  EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
  for (const std::string& part : parts)
    EXPECT_NE(result.output.find(part), std::string::npos)
        << "missing '" << part << "' in: " << result.output;
}

TEST(OnnxErrors, MissingModelFile) {
  expect_error("run /nonexistent/model.onnx", {"/nonexistent/model.onnx", "no such file"});
}

TEST(OnnxErrors, MalformedProtobuf) {
  std::string path = taskmap::testing::temp_dir() + "/garbage.onnx";
  write_bytes(path, std::string("\xff\xff\xff\xff this is not a protobuf \x01\x02", 31));
  expect_error("run '" + path + "'", {path, "not a valid ONNX model"});
  expect_error("inspect '" + path + "'", {path, "not a valid ONNX model"});
}

TEST(OnnxErrors, TruncatedProtobuf) {
  std::string good = write_model(one_node_model("Add"), "good.onnx");
  std::string bytes = read_bytes(good);
  for (size_t cut : {bytes.size() / 2, bytes.size() - 3, size_t(7)}) {
    std::string path = taskmap::testing::temp_dir() + "/truncated.onnx";
    write_bytes(path, bytes.substr(0, cut));
    expect_error("run '" + path + "'", {path, "not a valid ONNX model"});
  }
}

TEST(OnnxErrors, UnknownOperator) {
  std::string path = write_model(one_node_model("FrobnicateAll"), "unknown_op.onnx");
  expect_error("run '" + path + "'", {path, "the_node", "FrobnicateAll", "not supported"});
}

TEST(OnnxErrors, UnsupportedAttributeValue) {
  graph::Graph g = one_node_model("Softmax", /*with_weight=*/false);
  g.ops[0]->attrs["axis"] = int64_t{7};
  std::string path = write_model(g, "bad_axis.onnx");
  expect_error("run '" + path + "'", {path, "the_node", "Softmax", "axis 7"});
}

TEST(OnnxErrors, MissingInitializer) {
  graph::Graph g = one_node_model("Add");
  g.ops[0]->inputs[1] =
      graph::make_tensor("w_missing", ir::f32, {2, 3});  // neither input nor constant
  std::string path = write_model(g, "missing_init.onnx");
  expect_error("run '" + path + "'", {path, "the_node", "Add", "'w_missing' is not defined"});
}

TEST(OnnxErrors, InputFileOfWrongDtypeOrShape) {
  std::string model = write_model(one_node_model("Add"), "add.onnx");
  std::string dir = taskmap::testing::temp_dir();
  taskmap::save_npy(NDArray(ir::f64, {2, 3}), dir + "/f64.npy");
  expect_error("run '" + model + "' --input '" + dir + "/f64.npy'",
               {dir + "/f64.npy", "f64[2, 3]", "f32[2, 3]", "'x'"});
  taskmap::onnx::save_tensor(NDArray(ir::f32, {3, 2}), dir + "/shape.pb");
  expect_error("run '" + model + "' --input '" + dir + "/shape.pb'",
               {dir + "/shape.pb", "f32[3, 2]", "f32[2, 3]"});
  write_bytes(dir + "/x.txt", "1 2 3");
  expect_error("run '" + model + "' --input '" + dir + "/x.txt'", {dir + "/x.txt", ".pb", ".npy"});
  write_bytes(dir + "/bad.npy", "\x93NUMPY junk");
  expect_error("run '" + model + "' --input '" + dir + "/bad.npy'", {dir + "/bad.npy", ".npy"});
  expect_error("run '" + model + "' --input '" + dir + "/f64.npy' --input '" + dir + "/f64.npy'",
               {"takes 1 inputs", "2 --input files"});
}

TEST(OnnxErrors, UnwritableOutputDirectory) {
  std::string model = write_model(one_node_model("Add"), "add.onnx");
  std::string file = taskmap::testing::temp_dir() + "/a_file";
  write_bytes(file, "x");
  expect_error("run '" + model + "' --output-dir '" + file + "'", {file, "not a directory"});
  expect_error("run '" + model + "' --output-dir '" + file + "/sub'",
               {file + "/sub", "cannot create output directory"});
}

TEST(OnnxErrors, UnknownSymbolicDimension) {
  graph::Graph g = one_node_model("Add", /*with_weight=*/false);
  g.ops[0]->inputs.push_back(g.inputs[0]);
  g.inputs[0]->shape = {graph::Dim::symbol("batch"), 3};
  std::string path = write_model(g, "symbolic.onnx");
  expect_error("run '" + path + "'", {"'x'", "batch", "--dim batch=VALUE"});
  auto ok = run_cli("run '" + path + "' --dim batch=4");
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_NE(ok.output.find("f32[4, 3]"), std::string::npos) << ok.output;
}

}  // namespace
