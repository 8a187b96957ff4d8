#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "core/dispatcher.h"
#include "core/ops.h"

using namespace tinyopt;

TEST(Dispatcher, MatmulRoutesAutomaticallyAndComputes) {
  Tensor a = Tensor::empty({2, 3}, DType::f32);
  Tensor b = Tensor::empty({3, 2}, DType::f32);
  for (int i = 0; i < 6; ++i) {
    a.data<float>()[i] = float(i + 1);
    b.data<float>()[i] = float(6 - i);
  }
  Tensor c = matmul(a, b);
  // [1 2 3;4 5 6] x [6 5;4 3;2 1] = [20 14; 56 41]
  EXPECT_FLOAT_EQ(c.data<float>()[0], 20);
  EXPECT_FLOAT_EQ(c.data<float>()[1], 14);
  EXPECT_FLOAT_EQ(c.data<float>()[2], 56);
  EXPECT_FLOAT_EQ(c.data<float>()[3], 41);
}

namespace {
// The variant index a matmul call on the CPU would run now.
std::string routed_matmul() {
  Tensor a = Tensor::zeros({4, 4}, DType::f32), b = Tensor::zeros({4, 4}, DType::f32);
  MatmulArgs args{a, b, Tensor::empty({4, 4}, DType::f32)};
  return ops::matmul.select(args, Device::cpu())->name;
}
}  // namespace

TEST(Dispatcher, ScopedChoicesNestRestoreAndLeaveTheProcessChoiceAlone) {
  OptimizedBackend& backend = OptimizedBackend::instance();
  backend.set_choice("cpu.naive");  // the process-wide choice (--backend)
  EXPECT_EQ(routed_matmul(), "cpu.naive");
  {
    const ScopedBackendChoice blocked(backend.parse_choice("cpu.blocked"));
    EXPECT_EQ(routed_matmul(), "cpu.blocked");
    {
      const ScopedBackendChoice per_op(backend.parse_choice("matmul=cpu.onednn"));
      EXPECT_EQ(routed_matmul(), "cpu.onednn");
    }
    EXPECT_EQ(routed_matmul(), "cpu.blocked");
  }
  EXPECT_EQ(routed_matmul(), "cpu.naive");
  try {  // an exception out of a scope restores it too
    const ScopedBackendChoice automatic(BackendChoice{});
    EXPECT_NE(routed_matmul(), "cpu.naive");
    throw std::runtime_error("out");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(routed_matmul(), "cpu.naive");
  EXPECT_EQ(backend.choice_summary(), "cpu.naive");
  backend.set_choice("auto");
}

TEST(Dispatcher, TwoThreadsRunDifferentKernelsAtOnce) {
  OptimizedBackend& backend = OptimizedBackend::instance();
  const BackendChoice naive = backend.parse_choice("cpu.naive"), blocked = backend.parse_choice("cpu.blocked");
  std::string seen_a, seen_b;
  std::atomic<int> inside{0};
  auto run = [&](const BackendChoice& choice, std::string& seen) {
    const ScopedBackendChoice scope(choice);
    ++inside;
    while (inside.load() < 2) std::this_thread::yield();  // both scopes are in force now
    seen = routed_matmul();
  };
  std::thread a(run, std::cref(naive), std::ref(seen_a)), b(run, std::cref(blocked), std::ref(seen_b));
  a.join();
  b.join();
  EXPECT_EQ(seen_a, "cpu.naive");
  EXPECT_EQ(seen_b, "cpu.blocked");
  EXPECT_EQ(backend.choice_summary(), "auto");
}
