#include "core/threads.h"

#include <omp.h>

#include <atomic>
#include <thread>

namespace tinyopt {

int num_threads() { return omp_get_max_threads(); }
void set_num_threads(int n) { omp_set_num_threads(n < 1 ? 1 : n); }
int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

namespace {
std::atomic<int> g_default_threads{0};  // 0: not chosen, all hardware threads
}

int default_threads() {
  const int n = g_default_threads.load(std::memory_order_relaxed);
  return n > 0 ? n : hardware_threads();
}
void set_default_threads(int n) { g_default_threads.store(n < 1 ? 1 : n, std::memory_order_relaxed); }

ScopedThreads::ScopedThreads(int n) : previous_(num_threads()) { set_num_threads(n > 0 ? n : default_threads()); }
ScopedThreads::~ScopedThreads() { set_num_threads(previous_); }

}  // namespace tinyopt
