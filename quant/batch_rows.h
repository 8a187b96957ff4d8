// Rows [begin, begin + count) of a contiguous tensor as a view (no copy),
// shaped `shape`; calibration and reports walk their images in such batches.
#pragma once

#include "core/tensor.h"

namespace tinyopt::quant {

inline Tensor batch_rows(const Tensor& t, int64_t begin, const Shape& shape) {
  TINYOPT_CHECK(t.is_contiguous(), "batch_rows: needs a contiguous tensor, found {}", t.describe());
  const int64_t row = t.size(0) == 0 ? 0 : t.numel() / t.size(0);
  TINYOPT_CHECK(shape.numel() % (row == 0 ? 1 : row) == 0 && begin >= 0 && begin * row + shape.numel() <= t.numel(),
                "batch_rows: rows from {} shaped {} do not fit {}", begin, shape.str(), t.describe());
  // The view's offset counts from the start of the storage, which `t` itself may not start at.
  const size_t base = static_cast<size_t>(static_cast<const char*>(t.raw_data()) -
                                          static_cast<const char*>(t.storage()->data()));
  return Tensor::view_of(t.storage(), shape, t.dtype(), base + static_cast<size_t>(begin * row) * dtype_size(t.dtype()));
}

}  // namespace tinyopt::quant
