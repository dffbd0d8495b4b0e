// The ONNX importer on hand-made models: external data files, unused foreign opset imports,
// named and unnamed symbolic dims, Constant nodes, and a round trip through save_model.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "taskmap/error.h"
#include "taskmap/frontend/onnx.h"
#include "taskmap/model.h"

namespace {

namespace fs = std::filesystem;
using taskmap::NDArray;
namespace ir = taskmap::ir;

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() /
                 ("taskmap-onnx-import-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void add_dim(onnx::TensorShapeProto* shape, const std::string& param, int64_t value = -1) {
  auto* d = shape->add_dim();
  if (!param.empty())
    d->set_dim_param(param);
  else if (value >= 0)
    d->set_dim_value(value);
}

// y = (x + w) * c, x: f32[batch, ?, 3], w: f32[3] from an external file, c: a Constant node.
onnx::ModelProto make_model(const fs::path& dir, const std::vector<float>& w) {
  std::ofstream(dir / "weights.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(w.data()), static_cast<std::streamsize>(w.size() * 4));
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(17);
  auto* foreign = m.add_opset_import();  // imported, never used: must be ignored
  foreign->set_domain("com.example.unused");
  foreign->set_version(3);
  auto* g = m.mutable_graph();
  g->set_name("external");
  auto* x = g->add_input();
  x->set_name("x");
  x->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = x->mutable_type()->mutable_tensor_type()->mutable_shape();
  add_dim(shape, "batch");
  add_dim(shape, "");  // unnamed, unknown
  add_dim(shape, "", 3);
  auto* init = g->add_initializer();
  init->set_name("w");
  init->set_data_type(onnx::TensorProto::FLOAT);
  init->add_dims(3);
  init->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* loc = init->add_external_data();
  loc->set_key("location");
  loc->set_value("weights.bin");
  auto* constant = g->add_node();
  constant->set_op_type("Constant");
  constant->add_output("c");
  auto* value = constant->add_attribute();
  value->set_name("value_float");
  value->set_type(onnx::AttributeProto::FLOAT);
  value->set_f(2.5f);
  auto* add = g->add_node();
  add->set_op_type("Add");
  add->add_input("x");
  add->add_input("w");
  add->add_output("s");
  auto* mul = g->add_node();
  mul->set_op_type("Mul");
  mul->add_input("s");
  mul->add_input("c");
  mul->add_output("y");
  g->add_output()->set_name("y");
  return m;
}

TEST(OnnxImport, ExternalDataForeignOpsetsSymbolicDimsConstants) {
  fs::path dir = fresh_dir("external");
  std::vector<float> w = {0.25f, -1.5f, 3.0f};
  onnx::ModelProto m = make_model(dir, w);
  std::ofstream(dir / "model.onnx", std::ios::binary) << m.SerializeAsString();

  taskmap::graph::Graph g = taskmap::onnx::load_model((dir / "model.onnx").string());
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(taskmap::graph::shape_str(g.inputs[0]->shape), "[batch, ?, 3]");
  EXPECT_EQ(g.ops.size(), 2u);  // the Constant node became a constant tensor

  taskmap::Model model(std::move(g));
  NDArray x(ir::f32, {2, 5, 3});
  for (int64_t i = 0; i < x.numel(); ++i) x.set_double(i, 0.37 * static_cast<double>(i) - 4.1);
  std::vector<NDArray> y = model.run({x});
  ASSERT_EQ(y.size(), 1u);
  ASSERT_EQ(y[0].shape(), x.shape());
  for (int64_t i = 0; i < x.numel(); ++i)
    EXPECT_FLOAT_EQ(y[0].data<float>()[i], (x.data<float>()[i] + w[i % 3]) * 2.5f) << i;

  // Saved and read back, the model computes the same (weights now inline).
  taskmap::onnx::save_model(model.graph(), (dir / "copy.onnx").string());
  taskmap::Model copy = taskmap::Model::load((dir / "copy.onnx").string());
  std::vector<NDArray> y2 = copy.run({x});
  ASSERT_EQ(y2[0].nbytes(), y[0].nbytes());
  EXPECT_EQ(std::memcmp(y2[0].raw(), y[0].raw(), y[0].nbytes()), 0);
  fs::remove_all(dir);
}

TEST(OnnxImport, ExternalDataOutsideTheModelFolderIsRejected) {
  fs::path dir = fresh_dir("escape");
  onnx::ModelProto m = make_model(dir, {1, 2, 3});
  m.mutable_graph()->mutable_initializer(0)->mutable_external_data(0)->set_value(
      "../../etc/passwd");
  std::ofstream(dir / "model.onnx", std::ios::binary) << m.SerializeAsString();
  try {
    taskmap::onnx::load_model((dir / "model.onnx").string());
    FAIL() << "expected a UserError";
  } catch (const taskmap::UserError& e) {
    EXPECT_NE(std::string(e.what()).find("must stay inside the model folder"), std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

TEST(OnnxImport, ShortExternalDataIsRejected) {
  fs::path dir = fresh_dir("short");
  onnx::ModelProto m = make_model(dir, {1, 2});  // 8 bytes where 12 are needed
  std::ofstream(dir / "model.onnx", std::ios::binary) << m.SerializeAsString();
  try {
    taskmap::onnx::load_model((dir / "model.onnx").string());
    FAIL() << "expected a UserError";
  } catch (const taskmap::UserError& e) {
    EXPECT_NE(std::string(e.what()).find("holds 8 bytes of data, but f32[3] needs 12"),
              std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
