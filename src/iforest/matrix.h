// Matrix: a dense, row-major table of doubles (rows x cols), the input of
// training and of batch scoring. Plain data; no invariants beyond
// data.size() == rows * cols, which users keep.
//
// Thread safety: as for std::vector (concurrent const access is safe).
#ifndef MH_IFOREST_MATRIX_H_
#define MH_IFOREST_MATRIX_H_

#include <cstddef>
#include <span>
#include <vector>

#include "core/check.h"

namespace mh::iforest {

struct Matrix {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<double> data;  // rows * cols values, row i at [i * cols, (i + 1) * cols)

  // Row i (i < rows, checked) as a view valid until `data` is reallocated.
  std::span<const double> Row(std::size_t i) const {
    MH_CHECK(i < rows && data.size() == rows * cols);
    return std::span<const double>(data.data() + i * cols, cols);
  }
};

}  // namespace mh::iforest

#endif  // MH_IFOREST_MATRIX_H_
