// cpu.simd embedding (a row gather) and embedding_backward (a scatter-add).
//
// Ids are checked in one serial pass before anything is written: an id outside
// [0, V) throws tinyopt::Error naming its position, value and the vocabulary
// size (inside an OpenMP region an exception would abort the process).
//
// The backward scatter-add has collisions by design (a repeated token adds
// into the same row of dtable). Rather than float atomics (racy order, so
// run-to-run different sums) or per-thread copies of the table, the threads
// split the embedding *columns*: each thread walks every id in order and adds
// its own column range of dout into dtable. No two threads touch one element
// and every element's sum is taken in id order, so the result is bit-identical
// for any thread count. Column ranges are whole cache lines (16 floats) so the
// threads never share a line.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/cpu/cpu_kernels_transformer.h"
#include "backends/cpu/simd_clones.h"

namespace tinyopt::cpu {

namespace {

constexpr int64_t kParallelMin = 16384;  // elements of out/dout

// The ids as int64, each checked against the vocabulary size.
std::vector<int64_t> checked_ids(const Tensor& ids, int64_t vocab, const char* op) {
  std::vector<int64_t> out(static_cast<size_t>(ids.numel()));
  auto check = [&](auto* p) {
    for (size_t i = 0; i < out.size(); ++i) {
      const auto v = static_cast<int64_t>(p[i]);
      TINYOPT_CHECK(v >= 0 && v < vocab, "{}: id {} at index {} is outside the vocabulary of {} rows [0, {})", op, v,
                    i, vocab, vocab);
      out[i] = v;
    }
  };
  if (ids.dtype() == DType::i32) {
    check(ids.data<int32_t>());
  } else {
    check(ids.data<int64_t>());
  }
  return out;
}

// dtable[ids[i], j0:j1] += dout[i, j0:j1] for every i, in order.
TINYOPT_SIMD_BODY void scatter_add_columns_body(const int64_t* ids, const float* dout, float* dtable, int64_t n,
                                                int64_t d, int64_t j0, int64_t j1) {
  for (int64_t i = 0; i < n; ++i) {
    const float* src = dout + i * d;
    float* dst = dtable + ids[i] * d;
#pragma omp simd
    for (int64_t j = j0; j < j1; ++j) dst[j] += src[j];
  }
}
TINYOPT_SIMD_CLONES(scatter_add_columns, scatter_add_columns_body,
                    (const int64_t* ids, const float* dout, float* dtable, int64_t n, int64_t d, int64_t j0,
                     int64_t j1),
                    (ids, dout, dtable, n, d, j0, j1))

}  // namespace

bool embedding_supports(const EmbeddingArgs& args) {
  return args.ids.is_contiguous() && args.table.is_contiguous() && args.out.is_contiguous();
}

void embedding_run(const EmbeddingArgs& args) {
  const int64_t vocab = args.table.size(0);
  const int64_t d = args.table.size(1);
  const std::vector<int64_t> ids = checked_ids(args.ids, vocab, "embedding");
  const int64_t n = static_cast<int64_t>(ids.size());
  const float* table = args.table.data<float>();
  float* out = args.out.data<float>();
#pragma omp parallel for schedule(static) if (n * d >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) std::memcpy(out + i * d, table + ids[i] * d, sizeof(float) * d);
}

bool embedding_backward_supports(const EmbeddingBackwardArgs& args) {
  return args.ids.is_contiguous() && args.dout.is_contiguous() && args.dtable.is_contiguous();
}

void embedding_backward_run(const EmbeddingBackwardArgs& args) {
  const int64_t vocab = args.dtable.size(0);
  const int64_t d = args.dtable.size(1);
  const std::vector<int64_t> ids = checked_ids(args.ids, vocab, "embedding_backward");
  const int64_t n = static_cast<int64_t>(ids.size());
  const float* dout = args.dout.data<float>();
  float* dtable = args.dtable.data<float>();
  std::memset(dtable, 0, sizeof(float) * vocab * d);
  constexpr int64_t kLine = 16;  // floats per cache line
#pragma omp parallel if (n * d >= kParallelMin && d >= 2 * kLine)
  {
    const int64_t threads = omp_get_num_threads();
    const int64_t t = omp_get_thread_num();
    const int64_t lines = (d + kLine - 1) / kLine;
    const int64_t j0 = std::min(d, lines * t / threads * kLine);
    const int64_t j1 = std::min(d, lines * (t + 1) / threads * kLine);
    if (j0 < j1) scatter_add_columns(ids.data(), dout, dtable, n, d, j0, j1);
  }
}

}  // namespace tinyopt::cpu
