// NumPy .npy files: how tensors go in and out of the CLI.
//
// Format (numpy/lib/format.py): magic "\x93NUMPY", a major and minor version
// byte, a little-endian header length (u16 in version 1.0, u32 in 2.0 and
// 3.0), then a Python literal dict such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and ended by '\n', then the raw array data.
//
// The reader accepts versions 1.0, 2.0 and 3.0; dtypes '<f4', '<f8', '|i1',
// '|u1', '<i4', '<i8' (one-byte types also spelled with '<' or '>'); C order
// (fortran_order True is an error unless rank <= 1, where the two orders are
// the same bytes). The header dict is parsed as a Python literal, so spacing,
// quotes, key order and trailing commas do not matter. The data must be
// exactly numel * itemsize bytes. Errors name the file and say what was
// expected and found.
#pragma once

#include <string>

#include "core/tensor.h"

namespace tinyopt {

// Loads a .npy file into a contiguous CPU tensor.
Tensor load_npy(const std::string& path);

// Parses .npy bytes held in memory; `name` stands in for the path in errors.
Tensor parse_npy(const std::string& bytes, const std::string& name);

// Writes `tensor` (any device, any layout) as a version 1.0 .npy file in C
// order, header padded so the data starts at a multiple of 64 bytes; atomic.
void save_npy(const std::string& path, const Tensor& tensor);

// The .npy descr string for a dtype ("<f4", "|i1", ...).
std::string npy_descr(DType dtype);

}  // namespace tinyopt
