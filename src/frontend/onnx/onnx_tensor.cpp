// TensorProto <-> NDArray, and the .pb tensor files of the ONNX test data.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "frontend/onnx/onnx_proto.h"
#include "taskmap/error.h"
#include "taskmap/frontend/onnx.h"
#include "taskmap/runtime/file_io.h"

namespace taskmap::onnx {

using ::onnx::TensorProto;

ir::DType dtype_from_onnx(int onnx_type, const std::string& where) {
  switch (onnx_type) {
    case TensorProto::FLOAT:
      return ir::f32;
    case TensorProto::DOUBLE:
      return ir::f64;
    case TensorProto::FLOAT16:
      return ir::f16;
    case TensorProto::BFLOAT16:
      return ir::bf16;
    case TensorProto::INT64:
      return ir::i64;
    case TensorProto::INT32:
      return ir::i32;
    case TensorProto::INT16:
      return ir::i16;
    case TensorProto::INT8:
      return ir::i8;
    case TensorProto::UINT8:
      return ir::u8;
    case TensorProto::BOOL:
      return ir::boolean;
    default:
      break;
  }
  std::string name = TensorProto::DataType_IsValid(onnx_type)
                         ? TensorProto::DataType_Name(static_cast<TensorProto::DataType>(onnx_type))
                         : "data type " + std::to_string(onnx_type);
  TM_USER_ERROR() << where << "tensor element type " << name
                  << " is not supported (supported: float, double, float16, bfloat16, int64, "
                     "int32, int16, int8, uint8, bool)";
}

int dtype_to_onnx(ir::DType dtype) {
  switch (dtype.kind()) {
    case ir::ScalarKind::f32:
      return TensorProto::FLOAT;
    case ir::ScalarKind::f64:
      return TensorProto::DOUBLE;
    case ir::ScalarKind::f16:
      return TensorProto::FLOAT16;
    case ir::ScalarKind::bf16:
      return TensorProto::BFLOAT16;
    case ir::ScalarKind::i64:
      return TensorProto::INT64;
    case ir::ScalarKind::i32:
      return TensorProto::INT32;
    case ir::ScalarKind::i16:
      return TensorProto::INT16;
    case ir::ScalarKind::i8:
      return TensorProto::INT8;
    case ir::ScalarKind::u8:
      return TensorProto::UINT8;
    case ir::ScalarKind::boolean:
      return TensorProto::BOOL;
  }
  TM_UNREACHABLE();
}

namespace {

int64_t parse_count(const std::string& text, const std::string& where) {
  char* end = nullptr;
  errno = 0;
  long long value = std::strtoll(text.c_str(), &end, 10);
  TM_USER_CHECK(!text.empty() && *end == '\0' && errno == 0 && value >= 0)
      << where << "external data offset or length '" << text << "' is not a non-negative integer";
  return value;
}

std::string external_bytes(const TensorProto& proto, const std::string& where,
                           const std::string& base_dir) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& entry : proto.external_data()) {
    if (entry.key() == "location") location = entry.value();
    if (entry.key() == "offset") offset = parse_count(entry.value(), where);
    if (entry.key() == "length") length = parse_count(entry.value(), where);
  }
  TM_USER_CHECK(!location.empty())
      << where << "external data of '" << proto.name() << "' has no location";
  TM_USER_CHECK(location.find("..") == std::string::npos && location[0] != '/')
      << where << "external data location '" << location << "' must stay inside the model folder";
  std::string path = (std::filesystem::path(base_dir) / location).string();
  std::string bytes = read_file(path, "external data of '" + proto.name() + "'");
  TM_USER_CHECK(offset >= 0 && offset <= static_cast<int64_t>(bytes.size()))
      << where << "external data offset " << offset << " is past the end of '" << path << "'";
  if (length < 0) length = static_cast<int64_t>(bytes.size()) - offset;
  TM_USER_CHECK(length <= static_cast<int64_t>(bytes.size()) - offset)
      << where << "external data of '" << proto.name() << "' is truncated in '" << path << "'";
  return bytes.substr(offset, length);
}

}  // namespace

NDArray tensor_from_proto(const TensorProto& proto, const std::string& where,
                          const std::string& base_dir) {
  std::string what = where + "tensor '" + proto.name() + "': ";
  ir::DType dtype = dtype_from_onnx(proto.data_type(), what);
  std::vector<int64_t> shape(proto.dims().begin(), proto.dims().end());
  for (int64_t d : shape) TM_USER_CHECK(d >= 0) << what << "negative dimension " << d;
  int64_t n = shape_numel(shape);
  int64_t bytes = 0;
  TM_USER_CHECK(!__builtin_mul_overflow(n, int64_t{dtype.bytes()}, &bytes))
      << what << "shape " << shape_str(shape) << " has too many elements";

  // The data's size is checked before anything is allocated: a corrupt header must not make us
  // allocate gigabytes.
  auto check_bytes = [&](size_t have) {
    TM_USER_CHECK(static_cast<int64_t>(have) == bytes)
        << what << "holds " << have << " bytes of data, but " << dtype.name() << shape_str(shape)
        << " needs " << bytes;
  };
  if (proto.data_location() == TensorProto::EXTERNAL) {
    std::string data = external_bytes(proto, what, base_dir);
    check_bytes(data.size());
    NDArray out(dtype, shape);
    std::memcpy(out.raw(), data.data(), data.size());
    return out;
  }
  if (proto.has_raw_data()) {
    check_bytes(proto.raw_data().size());
    NDArray out(dtype, shape);
    std::memcpy(out.raw(), proto.raw_data().data(), proto.raw_data().size());
    return out;
  }
  int64_t count = 0;
  switch (proto.data_type()) {
    case TensorProto::FLOAT:
      count = proto.float_data_size();
      break;
    case TensorProto::DOUBLE:
      count = proto.double_data_size();
      break;
    case TensorProto::INT64:
      count = proto.int64_data_size();
      break;
    default:
      count = proto.int32_data_size();
      break;
  }
  TM_USER_CHECK(count == n) << what << "holds " << count << " values, but " << dtype.name()
                            << shape_str(shape) << " needs " << n;
  NDArray out(dtype, shape);
  switch (proto.data_type()) {
    case TensorProto::FLOAT:
      for (int64_t i = 0; i < n; ++i) out.data<float>()[i] = proto.float_data(i);
      break;
    case TensorProto::DOUBLE:
      for (int64_t i = 0; i < n; ++i) out.data<double>()[i] = proto.double_data(i);
      break;
    case TensorProto::INT64:
      for (int64_t i = 0; i < n; ++i) out.data<int64_t>()[i] = proto.int64_data(i);
      break;
    case TensorProto::FLOAT16:
    case TensorProto::BFLOAT16:
      for (int64_t i = 0; i < n; ++i)
        out.data<uint16_t>()[i] = static_cast<uint16_t>(proto.int32_data(i));
      break;
    default:  // int32, int16, int8, uint8, bool: all in int32_data
      for (int64_t i = 0; i < n; ++i) out.set_int(i, proto.int32_data(i));
      break;
  }
  return out;
}

void tensor_to_proto(const NDArray& value, TensorProto* proto) {
  proto->set_data_type(dtype_to_onnx(value.dtype()));
  for (int64_t d : value.shape()) proto->add_dims(d);
  proto->set_raw_data(value.raw(), value.nbytes());
}

NDArray parse_tensor(std::string_view bytes, const std::string& source) {
  TensorProto proto;
  TM_USER_CHECK(bytes.size() < (size_t(1) << 31) &&
                proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
      << source << ": not a valid ONNX TensorProto (truncated or malformed protobuf)";
  TM_USER_CHECK(proto.has_data_type() && proto.data_type() != TensorProto::UNDEFINED)
      << source << ": not a valid ONNX TensorProto (no data type)";
  return tensor_from_proto(proto, source + ": ", std::filesystem::path(source).parent_path());
}

NDArray load_tensor(const std::string& path) {
  return parse_tensor(read_file(path, "tensor file"), path);
}

void save_tensor(const NDArray& value, const std::string& path, const std::string& name) {
  TensorProto proto;
  proto.set_name(name);
  tensor_to_proto(value, &proto);
  write_file_atomically(path, proto.SerializeAsString());
}

}  // namespace taskmap::onnx
