// cpu.blocked matmul: our own cache-blocked FP32 GEMM, the middle rung of the
// speedup ladder (naive -> blocked -> oneDNN), in the GotoBLAS / BLIS style.
//
// A naive matmul re-reads its operands from DRAM; here each loop level keeps
// its working set in one level of the memory hierarchy, so the FMA units are
// fed from registers and caches and DRAM is touched about once per block:
//
//   for ic in M step MC:            A panel  MC x KC   stays in L3 (read by all cores)
//     for pc in K step KC:          (a transposed A is packed here, per thread)
//       for jc in my N step NC:     B block  KC x NC   packed into this core's L2
//         for ir in MC step MR:     A micro-panel MR x KC, reused for the NC / NR calls below
//           for jr in NC step NR:   B micro-panel KC x NR, streamed from L2
//             micro-kernel:         C tile MR x NR (+)= A micro-panel * B micro-panel,
//                                   accumulated in 24 zmm registers (see the header)
//
// Packing copies a block into the exact order the micro-kernel reads (unit
// stride, 64-byte aligned, zero-padded at the edges), which also absorbs the
// transposes: the kernel sees one layout whatever trans_a / trans_b say.
// Row-major A needs no packing (each row is already contiguous in k), and
// small-M calls skip packing B, whose cost there would match the multiply.
//
// Threads (OpenMP, the project's only pool) split the columns of C; each packs
// its own B block and writes only its own C tiles. Tiny problems stay on one
// thread, and x @ W^T with a few rows of x (a Linear layer at small batch)
// uses dot-product kernels instead of packing W.
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/cpu_info.h"
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/matmul_blocked_microkernel.h"

namespace tinyopt::cpu {

namespace {

using blocked::MicroKernel;

const MicroKernel& select_microkernel() {
  switch (simd_isa()) {
    case SimdIsa::avx512: return blocked::kMicroKernelAvx512;
    case SimdIsa::avx2: return blocked::kMicroKernelAvx2;
    case SimdIsa::base: break;
  }
  return blocked::kMicroKernelScalar;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// Splits [0, total) into `parts` nearly equal pieces; returns piece `index`.
void split_range(int64_t total, int parts, int index, int64_t& begin, int64_t& end) {
  begin = total * index / parts;
  end = total * (index + 1) / parts;
}

// Upper bounds on the block sizes, from this machine's caches (cpu_info() reads
// them from sysfs). On the 2-core Zen 4 dev box (L1d 32 KiB, L2 1 MiB per core,
// L3 32 MiB) with the 6 x 64 AVX-512 tile: KC = 512, NC = 256, MC = 4092.
struct Blocking {
  int64_t kc, nc, mc;
};

Blocking blocking_limits(const MicroKernel& uk, int64_t k) {
  const CpuInfo& info = cpu_info();
  const int64_t f = sizeof(float), nr = uk.nr;
  Blocking bs{};
  // KC, the depth of one rank-KC update. Deep is good: every micro-kernel call
  // loads and stores its C tile once, so that cost shrinks as 1 / KC. The limit
  // is L2: the B block (KC x NC) must fit in half of it with room for at least
  // 4 micro-panels (NC >= 4 NR), so each A micro-panel is reused 4+ times.
  // Why not L1, as in the textbook? Keeping a KC x NR micro-panel in a 32 KiB
  // L1 would cap KC near 64 for a 64-wide tile, and it is not needed: Zen 4's
  // L2 delivers at least 32 B/cycle while the 6 x 64 kernel consumes ~12 B/cycle, so
  // the kernel runs at peak with both micro-panels streaming from L2 (measured
  // at 1 thread: KC = 256 ... 2048 all within 2%; KC = 64 costs ~5%).
  bs.kc = static_cast<int64_t>(info.l2_bytes) / 2 / (f * 4 * nr);
  bs.kc = std::clamp<int64_t>(bs.kc, 64, 2048);
  bs.kc = ceil_div(k, ceil_div(k, bs.kc));  // equal blocks: 784 = 2 x 392, not 512 + 272
  // NC: as many columns as fit the B block into half of L2 at this depth; the
  // other half holds the A micro-panels and C tiles flowing through.
  bs.nc = std::max(nr, static_cast<int64_t>(info.l2_bytes) / 2 / (f * bs.kc) / nr * nr);
  // MC: the A panel (MC x KC) is re-read for every B block, so it should stay
  // in L3; L3 is shared by all cores and also holds B and C, so use a quarter.
  bs.mc = std::max<int64_t>(uk.mr, static_cast<int64_t>(info.l3_bytes) / 4 / (f * bs.kc) / uk.mr * uk.mr);
  return bs;
}

// A 64-byte-aligned scratch buffer that only grows; one per thread, kept
// between calls so steady-state calls never allocate (and never page-fault).
// Its size is bounded by the cache-derived block sizes (a few MiB at most).
struct ScratchBuffer {
  float* data = nullptr;
  size_t capacity = 0;
  ~ScratchBuffer() { std::free(data); }
  float* get(size_t count) {
    if (count > capacity) {
      std::free(data);
      capacity = static_cast<size_t>(round_up(static_cast<int64_t>(count), 16));
      data = static_cast<float*>(std::aligned_alloc(64, capacity * sizeof(float)));
      if (data == nullptr) throw std::bad_alloc();
    }
    return data;
  }
};

// A stored operand: row stride and whether it is read transposed.
struct Operand {
  const float* data;
  int64_t ld;
  bool trans;
};

// Packs rows [i0, i0 + rows) x depth [p0, p0 + kc) of op(A) = A^T, with A stored
// [K, M], into MR-row micro-panels, k-major: panel t holds
// dst[t * MR * kc + p * MR + r] = A(i0 + t*MR + r, p0 + p), zero-padded to whole
// panels so the micro-kernel never branches. A stored row holds MR consecutive
// rows of op(A), so each p is a short contiguous copy. (Reading A^T in place
// would touch a new cache line every k step, at a stride that for power-of-two
// M maps them all to a few cache sets.)
void pack_a_transposed(const Operand& a, int64_t i0, int64_t rows, int64_t p0, int64_t kc, int mr, float* dst) {
  for (int64_t t = 0; t < rows; t += mr, dst += mr * kc) {
    const int live = static_cast<int>(std::min<int64_t>(mr, rows - t));
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = a.data + (p0 + p) * a.ld + i0 + t;
      for (int r = 0; r < mr; ++r) dst[p * mr + r] = r < live ? src[r] : 0.0f;
    }
  }
}

// Packs one NR-wide micro-panel of op(B): dst[p * NR + j] = B(p0 + p, j0 + j), zero
// for j >= cols. Row-major B is a row-by-row copy; transposed B is transposed in
// 8 x 8 blocks (8 stored rows = 8 columns of the panel, 8 values of p at a time).
void pack_b_panel(const Operand& b, int64_t p0, int64_t kc, int64_t j0, int64_t cols, int nr, float* dst) {
  if (!b.trans) {
    for (int64_t p = 0; p < kc; ++p) {
      std::memcpy(dst + p * nr, b.data + (p0 + p) * b.ld + j0, static_cast<size_t>(cols) * sizeof(float));
      std::fill(dst + p * nr + cols, dst + (p + 1) * nr, 0.0f);
    }
    return;
  }
  const bool simd = simd_isa() != SimdIsa::base && nr % 8 == 0;
  for (int64_t j = 0; j < nr; j += 8) {
    const int live = static_cast<int>(std::clamp<int64_t>(cols - j, 0, 8));
    const float* src = b.data + (j0 + j) * b.ld + p0;
    int64_t p = 0;
    if (simd)
      for (; p + 8 <= kc; p += 8) blocked::transpose_8x8_avx2(src + p, b.ld, live, dst + p * nr + j, nr);
    for (; p < kc; ++p)
      for (int64_t jj = 0; jj < std::min<int64_t>(8, nr - j); ++jj)
        dst[p * nr + j + jj] = jj < live ? src[jj * b.ld + p] : 0.0f;
  }
}

// Everything one call needs, shared read-only by the threads of the team.
struct GemmPlan {
  const MicroKernel* uk;
  Operand a, b;
  float* c;
  int64_t m, n, k;
  Blocking limit;
  bool pack_a, pack_b;
};

// The work of thread `tid` of `team`; with team == 1 it is the whole matmul.
// Threads share nothing they write: each packs its own blocks and owns its own
// columns of C. (Packing a block once and sharing it looks thriftier, but
// moving freshly written lines from one core's L2 to another's cost more than
// packing twice: measured here, sharing one packed A made 256^3 at 2 threads
// barely faster than 1 thread, 126 vs 114 GFLOP/s; private copies give ~220.)
void gemm_thread(const GemmPlan& g, int team, int tid) {
  const int mr = g.uk->mr, nr = g.uk->nr, vec = g.uk->vec;
  // Threads form a tm x tn grid. Prefer splitting columns: then every thread
  // reads the same A (read-only, so sharing it is free) and packs only its B.
  int tn = team;
  while (tn > 1 && (team % tn != 0 || g.n < tn * nr)) --tn;
  const int tm = team / tn, ti = tid / tn, tj = tid % tn;
  int64_t col_begin, col_end;  // in whole SIMD vectors, for balance: 129 = 80 + 49, not 128 + 1
  split_range(ceil_div(g.n, vec), tn, tj, col_begin, col_end);
  col_begin *= vec;
  col_end = std::min(g.n, col_end * vec);
  const int64_t my_cols = col_end - col_begin;
  const int64_t nc_max = my_cols > 0 ? round_up(ceil_div(my_cols, ceil_div(my_cols, g.limit.nc)), nr) : nr;
  const int64_t mc_max = g.limit.mc, kc_max = g.limit.kc;

  static thread_local ScratchBuffer a_scratch, b_scratch;
  float* a_pack = g.pack_a ? a_scratch.get(static_cast<size_t>(mc_max * kc_max)) : nullptr;
  float* b_pack = b_scratch.get(static_cast<size_t>(kc_max * nc_max));

  for (int64_t ic = 0; ic < g.m; ic += mc_max) {
    const int64_t mc = std::min(mc_max, g.m - ic);
    int64_t t0, t1;  // this thread's MR-row tiles of the panel
    split_range(ceil_div(mc, mr), tm, ti, t0, t1);
    for (int64_t pc = 0; pc < g.k; pc += kc_max) {
      const int64_t kc = std::min(kc_max, g.k - pc);
      if (g.pack_a && t1 > t0)
        pack_a_transposed(g.a, ic + t0 * mr, std::min(mc, t1 * mr) - t0 * mr, pc, kc, mr, a_pack);
      for (int64_t jc = col_begin; jc < col_end; jc += nc_max) {
        const int64_t nc = std::min(nc_max, col_end - jc), panels = ceil_div(nc, nr);
        if (g.pack_b)
          for (int64_t q = 0; q < panels; ++q)
            pack_b_panel(g.b, pc, kc, jc + q * nr, std::min<int64_t>(nr, nc - q * nr), nr, b_pack + q * kc * nr);
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t i0 = ic + t * mr, rows = std::min<int64_t>(mr, mc - t * mr);
          // The A micro-panel: packed k-major (row stride 1, k stride MR), or
          // read in place from row-major A (row stride lda, k stride 1).
          const float* a_panel = g.pack_a ? a_pack + (t - t0) * mr * kc : g.a.data + i0 * g.a.ld + pc;
          const int64_t a_rs = g.pack_a ? 1 : g.a.ld, a_ps = g.pack_a ? mr : 1;
          for (int64_t q = 0; q < panels; ++q) {
            const int64_t j0 = jc + q * nr, cols = std::min<int64_t>(nr, nc - q * nr);
            const float* b_panel = b_pack + q * kc * nr;
            int64_t ldb = nr;
            if (!g.pack_b && cols == nr) {  // read B in place: panel row p is row pc + p of B
              b_panel = g.b.data + pc * g.b.ld + j0;
              ldb = g.b.ld;
            } else if (!g.pack_b) {  // a ragged last panel is still packed, to zero-pad it
              pack_b_panel(g.b, pc, kc, j0, cols, nr, b_pack);
              b_panel = b_pack;
            }
            // A narrow edge tile runs a kernel with fewer vectors (N = 10 uses 16 lanes, not 64).
            const int64_t vecs = ceil_div(cols, vec);
            g.uk->tile[vecs][rows](kc, a_panel, a_rs, a_ps, b_panel, ldb, g.c + i0 * g.n + j0, g.n, cols, pc > 0);
          }
        }
      }
    }
  }
}

// Few rows of A times a transposed B: C[i][j] = dot(row i of A, row j of stored B).
// Threads split the columns; A's rows stay in cache while each thread streams
// its rows of stored B exactly once, with no packing at all.
void gemm_dot_thread(const GemmPlan& g, int team, int tid) {
  constexpr int rows_max = blocked::kDotRows, cols_max = blocked::kDotCols;
  int64_t j_begin, j_end;
  split_range(ceil_div(g.n, cols_max), team, tid, j_begin, j_end);
  for (int64_t j = j_begin * cols_max; j < std::min(g.n, j_end * cols_max); j += cols_max) {
    const int cols = static_cast<int>(std::min<int64_t>(cols_max, g.n - j));
    for (int64_t i = 0; i < g.m; i += rows_max) {
      const int64_t rows = std::min<int64_t>(rows_max, g.m - i);
      g.uk->dot_rows[rows](g.k, g.a.data + i * g.a.ld, g.a.ld, g.b.data + j * g.b.ld, g.b.ld, g.c + i * g.n + j, g.n,
                           cols);
    }
  }
}

}  // namespace

void matmul_blocked_f32(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool trans_a,
                        bool trans_b) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {  // an empty sum: C = 0
    std::fill(c, c + m * n, 0.0f);
    return;
  }
  GemmPlan g{};
  g.uk = &select_microkernel();
  g.a = Operand{a, trans_a ? m : k, trans_a};
  g.b = Operand{b, trans_b ? k : n, trans_b};
  g.c = c;
  g.m = m, g.n = n, g.k = k;
  g.limit = blocking_limits(*g.uk, k);
  // Packing B pays off through reuse by the MR-row tiles of A; with only a few
  // tiles (M <= 4 MR) it would cost about as much as the multiply itself.
  g.pack_a = trans_a;
  g.pack_b = trans_b || m > 4 * g.uk->mr;
  const bool dot = !trans_a && trans_b && m <= 4 * g.uk->mr;

  // Fork threads only when there is enough work: 0.5 MFLOP is ~5 us on one
  // core, against ~1-2 us to wake the team and join it again.
  const double flops = 2.0 * double(m) * double(n) * double(k);
  const int threads = flops < 5.0e5 ? 1 : omp_get_max_threads();
  void (*work)(const GemmPlan&, int, int) = dot ? gemm_dot_thread : gemm_thread;
  if (threads == 1) {
    work(g, 1, 0);
    return;
  }
#pragma omp parallel num_threads(threads)
  work(g, omp_get_num_threads(), omp_get_thread_num());
}

bool matmul_blocked_supports(const MatmulArgs& args) { return all_contiguous_f32(args); }

void matmul_blocked_run(const MatmulArgs& args) {
  matmul_blocked_f32(args.a.data<float>(), args.b.data<float>(), args.c.data<float>(), args.m(), args.n(), args.k(),
                     args.trans_a, args.trans_b);
}

}  // namespace tinyopt::cpu
