#include "io/interrupt_cleanup.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

namespace tinyopt {

namespace {

// A fixed table, because the signal handler may only touch memory that never
// moves and operations that are async-signal-safe (atomics, unlink).
constexpr int kSlots = 64;
constexpr size_t kMaxPath = 4096;
enum SlotState : int { slot_free = 0, slot_filling = 1, slot_live = 2 };
struct Slot {
  std::atomic<int> state{slot_free};
  char path[kMaxPath];
};
Slot g_slots[kSlots];
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free atomics");

void remove_temp_files_and_reraise(int sig) {
  for (Slot& slot : g_slots)
    if (slot.state.load(std::memory_order_acquire) == slot_live) ::unlink(slot.path);
  ::signal(sig, SIG_DFL);  // delivered again once this handler returns: the process ends by `sig`
  ::raise(sig);
}

}  // namespace

int register_temp_file(const char* path) {
  const size_t n = std::strlen(path);
  if (n >= kMaxPath) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expected = slot_free;
    if (g_slots[i].state.compare_exchange_strong(expected, slot_filling, std::memory_order_acquire)) {
      std::memcpy(g_slots[i].path, path, n + 1);
      g_slots[i].state.store(slot_live, std::memory_order_release);
      return i;
    }
  }
  return -1;
}

void release_temp_file(int slot) {
  if (slot >= 0 && slot < kSlots) g_slots[slot].state.store(slot_free, std::memory_order_release);
}

void install_interrupt_cleanup() {
  struct sigaction action {};
  action.sa_handler = remove_temp_files_and_reraise;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &action, nullptr);
}

}  // namespace tinyopt
