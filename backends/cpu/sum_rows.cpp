// cpu.simd sum_rows: out[c] = sum over rows of x[r, c] (x viewed as [rows,
// cols]): the bias gradient of a linear layer, summed over the batch.
//
// Rows are read in order (unit stride, vectorised over columns) and added into
// a row of float64 accumulators: the reads are what costs (the op is memory
// bound), and double accumulation keeps long sums (a 60000-row column) at
// float rounding instead of growing ~sqrt(rows) ulps.
//
// Threads (OpenMP, once there are 64K elements): with enough rows, each
// thread sums a contiguous block of rows into its own accumulator row, then
// the team adds the partial rows column by column in thread order
// (deterministic for a given thread count). With fewer rows than that, each
// thread owns a block of columns instead and no reduction is needed.
#include <omp.h>

#include "backends/cpu/cpu_kernels_cnn.h"
#include "backends/cpu/scratch_buffer.h"

namespace tinyopt::cpu {

namespace {

void split_range(int64_t total, int parts, int index, int64_t& begin, int64_t& end) {
  begin = total * index / parts;
  end = total * (index + 1) / parts;
}

// acc[c0, c1) (+)= rows [r0, r1) of x over columns [c0, c1).
void sum_block(const float* x, int64_t cols, int64_t r0, int64_t r1, int64_t c0, int64_t c1, double* acc) {
  for (int64_t c = c0; c < c1; ++c) acc[c] = 0.0;
  for (int64_t r = r0; r < r1; ++r) {
    const float* row = x + r * cols;
#pragma omp simd
    for (int64_t c = c0; c < c1; ++c) acc[c] += static_cast<double>(row[c]);
  }
}

}  // namespace

bool sum_rows_supports(const SumRowsArgs& args) { return args.x.is_contiguous() && args.out.is_contiguous(); }

void sum_rows_run(const SumRowsArgs& args) {
  const int64_t cols = args.x.size(-1);
  if (cols == 0) return;
  const int64_t rows = args.x.numel() / cols;
  const float* x = args.x.data<float>();
  float* out = args.out.data<float>();

  const int max_team = omp_get_max_threads();
  const bool threaded = max_team > 1 && rows * cols >= 65536;
  const bool split_rows = rows >= 4 * max_team;
  // Accumulator rows: one per thread when splitting rows, one shared (disjoint
  // column blocks) otherwise. Owned by the calling thread, read by the team.
  static thread_local ScratchBuffer<double> scratch;
  double* acc = scratch.get(static_cast<size_t>((split_rows && threaded ? max_team : 1) * cols));

#pragma omp parallel if (threaded)
  {
    const int team = omp_get_num_threads(), tid = omp_get_thread_num();
    int64_t c0, c1;
    split_range(cols, team, tid, c0, c1);
    if (split_rows) {
      int64_t r0, r1;
      split_range(rows, team, tid, r0, r1);
      sum_block(x, cols, r0, r1, 0, cols, acc + tid * cols);
#pragma omp barrier
      for (int64_t c = c0; c < c1; ++c) {
        double sum = 0.0;
        for (int t = 0; t < team; ++t) sum += acc[t * cols + c];
        out[c] = static_cast<float>(sum);
      }
    } else {
      sum_block(x, cols, 0, rows, c0, c1, acc);
      for (int64_t c = c0; c < c1; ++c) out[c] = static_cast<float>(acc[c]);
    }
  }
}

}  // namespace tinyopt::cpu
