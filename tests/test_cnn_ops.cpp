// CNN ops beyond what the conformance table checks: maxpool2d_backward turns
// an argmax outside its plane into a tinyopt::Error (never a wild write), and
// every conv2d / conv2d_backward variant agrees with cpu.naive on the CNN's
// own layer shapes at a batch large enough to take the threaded per-image
// paths (the table's finite-difference cases must stay too small for that).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "core/dispatcher.h"
#include "core/ops_nn.h"

using namespace tinyopt;

namespace {

Tensor random_f32(const Shape& shape, uint64_t seed) {
  Tensor t = Tensor::empty(shape, DType::f32);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

// ||a - b|| / ||b|| over all elements.
double relative_error(const Tensor& a, const Tensor& b) {
  double err = 0, ref = 0;
  for (int64_t i = 0; i < b.numel(); ++i) {
    const double d = double(a.data<float>()[i]) - b.data<float>()[i];
    err += d * d;
    ref += double(b.data<float>()[i]) * b.data<float>()[i];
  }
  return std::sqrt(err / ref);
}

template <class Args>
void run_named(const Op<Args>& op, const std::string& name, const Args& args) {
  OptimizedBackend::instance();
  for (const auto& v : op.variants())
    if (v.name == name) return op.run_variant(v, args);
  FAIL() << op.name() << " has no variant " << name;
}

TEST(MaxPool2dBackward, ArgmaxOutsideThePlaneIsAnError) {
  for (int32_t bad : {-1, 16, 1 << 30}) {
    Tensor dy = random_f32({2, 3, 2, 2}, 1);
    Tensor argmax = Tensor::zeros({2, 3, 2, 2}, DType::i32);
    argmax.data<int32_t>()[13] = bad;  // plane 3, position 1
    Tensor dx = Tensor::empty({2, 3, 4, 4}, DType::f32);
    try {
      ops::maxpool2d_backward(MaxPool2dBackwardArgs{dy, argmax, dx});
      FAIL() << "argmax " << bad << " was accepted";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("argmax " + std::to_string(bad)), std::string::npos) << what;
      EXPECT_NE(what.find("4x4"), std::string::npos) << what;
    }
  }
}

struct Layer {
  int64_t n, c, h, w, o, k;
  bool dx;
};

class ConvVariantsAgree : public testing::TestWithParam<Layer> {};

TEST_P(ConvVariantsAgree, OnTheCnnLayers) {
  const Layer l = GetParam();
  const int64_t oh = l.h - l.k + 1, ow = l.w - l.k + 1;
  Tensor x = random_f32({l.n, l.c, l.h, l.w}, 2), w = random_f32({l.o, l.c, l.k, l.k}, 3);
  Tensor b = random_f32({l.o}, 4), dy = random_f32({l.n, l.o, oh, ow}, 5);
  auto forward = [&](const std::string& v) {
    Conv2dArgs args{x, w, b, Tensor::empty({l.n, l.o, oh, ow}, DType::f32), {}};
    run_named(ops::conv2d, v, args);
    return args.y;
  };
  auto backward = [&](const std::string& v) {
    Conv2dBackwardArgs args{x,  w, dy, l.dx ? Tensor::empty(x.shape(), DType::f32) : Tensor(),
                            Tensor::empty(w.shape(), DType::f32), Tensor::empty({l.o}, DType::f32), {}};
    run_named(ops::conv2d_backward, v, args);
    return args;
  };
  const Tensor y_ref = forward("cpu.naive");
  const Conv2dBackwardArgs g_ref = backward("cpu.naive");
  for (const std::string v : {"cpu.blocked", "cpu.onednn"}) {
    EXPECT_LT(relative_error(forward(v), y_ref), 1e-5) << v;
    const Conv2dBackwardArgs g = backward(v);
    EXPECT_LT(relative_error(g.dw, g_ref.dw), 1e-5) << v;
    EXPECT_LT(relative_error(g.db, g_ref.db), 1e-5) << v;
    if (l.dx) {
      EXPECT_LT(relative_error(g.dx, g_ref.dx), 1e-5) << v;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(CnnLayers, ConvVariantsAgree,
                         testing::Values(Layer{8, 1, 28, 28, 32, 3, false}, Layer{8, 32, 13, 13, 64, 3, true},
                                         Layer{5, 32, 13, 13, 64, 1, true}));

}  // namespace
