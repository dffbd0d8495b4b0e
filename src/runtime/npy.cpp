#include "taskmap/runtime/npy.h"

#include <cstring>
#include <regex>

#include "taskmap/error.h"
#include "taskmap/runtime/file_io.h"

namespace taskmap {
namespace {

struct NpyType {
  const char* descr;
  ir::DType dtype;
};

constexpr NpyType kTypes[] = {{"f8", ir::f64}, {"f4", ir::f32}, {"f2", ir::f16},
                              {"i8", ir::i64}, {"i4", ir::i32}, {"i2", ir::i16},
                              {"i1", ir::i8},  {"u1", ir::u8},  {"b1", ir::boolean}};

constexpr char kMagic[] = "\x93NUMPY";

}  // namespace

NDArray parse_npy(std::string_view bytes, const std::string& source) {
  TM_USER_CHECK(bytes.size() >= 10 && bytes.substr(0, 6) == std::string_view(kMagic, 6))
      << source << ": not a NumPy .npy file (bad magic)";
  int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else {
    TM_USER_CHECK((major == 2 || major == 3) && bytes.size() >= 12)
        << source << ": .npy format version " << major << " is not supported";
    for (int i = 0; i < 4; ++i)
      header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    offset = 12;
  }
  TM_USER_CHECK(offset + header_len <= bytes.size()) << source << ": truncated .npy header";
  std::string header(bytes.substr(offset, header_len));
  std::smatch m;
  TM_USER_CHECK(std::regex_search(header, m, std::regex(R"('descr'\s*:\s*'([<>|=])([a-z]\d+)')")))
      << source << ": .npy header has no 'descr'";
  std::string order = m[1], code = m[2];
  TM_USER_CHECK(order != ">") << source << ": big-endian .npy data is not supported";
  const NpyType* type = nullptr;
  for (const NpyType& t : kTypes)
    if (code == t.descr) type = &t;
  TM_USER_CHECK(type != nullptr) << source << ": .npy element type '" << code
                                 << "' is not supported";
  TM_USER_CHECK(!std::regex_search(header, std::regex(R"('fortran_order'\s*:\s*True)")))
      << source << ": Fortran-order .npy data is not supported";
  TM_USER_CHECK(std::regex_search(header, m, std::regex(R"('shape'\s*:\s*\(([^)]*)\))")))
      << source << ": .npy header has no 'shape'";
  std::vector<int64_t> shape;
  std::string dims = m[1];
  static const std::regex number(R"(\d+)");
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it)
    shape.push_back(std::stoll(it->str()));
  NDArray out(type->dtype, shape);
  size_t data = offset + header_len;
  TM_USER_CHECK(bytes.size() - data == out.nbytes())
      << source << ": .npy data holds " << bytes.size() - data << " bytes, but " << out.type_str()
      << " needs " << out.nbytes();
  std::memcpy(out.raw(), bytes.data() + data, out.nbytes());
  return out;
}

NDArray load_npy(const std::string& path) {
  return parse_npy(read_file(path, ".npy file"), path);
}

void save_npy(const NDArray& value, const std::string& path) {
  const NpyType* type = nullptr;
  for (const NpyType& t : kTypes)
    if (t.dtype == value.dtype()) type = &t;
  TM_USER_CHECK(type != nullptr) << "cannot write " << value.type_str() << " to '" << path
                                 << "': NumPy has no " << value.dtype().name() << " type";
  std::string shape;
  for (int64_t d : value.shape()) shape += std::to_string(d) + ", ";
  if (value.rank() > 1) shape.resize(shape.size() - 1);
  std::string header = "{'descr': '" + std::string(value.dtype().bytes() == 1 ? "|" : "<") +
                       type->descr + "', 'fortran_order': False, 'shape': (" + shape + "), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out(kMagic, 6);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(static_cast<const char*>(value.raw()), value.nbytes());
  write_file_atomically(path, out);
}

}  // namespace taskmap
