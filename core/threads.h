// One thread pool for the whole process: OpenMP's. Debian's oneDNN runs on
// libgomp, so our kernels use OpenMP too; a second pool spinning beside it
// would fight it for the two cores.
#pragma once

namespace tinyopt {

int num_threads();            // threads a parallel kernel will use now
void set_num_threads(int n);  // n >= 1; validated by callers that take user input
int hardware_threads();

// The thread count work uses when nothing asks for another: --threads,
// OMP_NUM_THREADS, or the cores free when the command started (the CLI
// decides, cli/common.cpp); all hardware threads until something sets it.
int default_threads();
void set_default_threads(int n);

// Threads for parallel kernels started by the calling thread, for as long as
// the guard lives (n <= 0: default_threads()); restores the previous count.
class ScopedThreads {
 public:
  explicit ScopedThreads(int n);
  ~ScopedThreads();
  ScopedThreads(const ScopedThreads&) = delete;
  ScopedThreads& operator=(const ScopedThreads&) = delete;

 private:
  int previous_;
};

}  // namespace tinyopt
