#include <gtest/gtest.h>

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
