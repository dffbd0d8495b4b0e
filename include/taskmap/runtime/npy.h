#pragma once
// NumPy .npy files (format versions 1 to 3, C order, little-endian) for model inputs and outputs.
// Element types: <f8 <f4 <f2 <i8 <i4 <i2 |i1 |u1 |b1. Anything else (Fortran order, big-endian,
// other types) is a UserError naming the file and what it holds.
#include <string>
#include <string_view>

#include "taskmap/runtime/ndarray.h"

namespace taskmap {

NDArray load_npy(const std::string& path);
NDArray parse_npy(std::string_view bytes, const std::string& source);
// Written atomically. bf16 has no NumPy type: a UserError.
void save_npy(const NDArray& value, const std::string& path);

}  // namespace taskmap
