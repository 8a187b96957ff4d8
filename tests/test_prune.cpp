// prune/: magnitude pruning (exact sparsity, per layer vs global, masks kept
// through optimizer steps), structured pruning (removing filters whose output
// is zero leaves the model's output unchanged, through gelu, dropout,
// maxpool, flatten's NCHW order, conv without bias; linear neurons likewise),
// the gradual schedule, and every bad input: sparsity outside [0, 1), pruning
// every filter, the output layer, a mismatched mask.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "nn/conv2d.h"
#include "nn/linear.h"
#include "nn/optim.h"
#include "nn/reference_models.h"
#include "nn/train.h"
#include "prune/magnitude_pruner.h"
#include "prune/prune_model.h"
#include "prune/sparse_model.h"
#include "prune/structured.h"
#include "tests/test_io_util.h"

using namespace tinyopt;
using nlohmann::json;

namespace {

Tensor random_f32(const Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  Tensor t = Tensor::empty(shape, DType::f32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = d(rng);
  return t;
}

int64_t zeros(const Tensor& t) {
  int64_t n = 0;
  for (int64_t i = 0; i < t.numel(); ++i) n += t.data<float>()[i] == 0.0f;
  return n;
}

// A PyTorch-style model unlike ours: conv without bias, gelu, dropout,
// non-square sizes, two convs then a linear after flatten, a hidden linear.
json odd_cnn_config() {
  return {{"arch", "sequential"},
          {"input_shape", {3, 11, 9}},
          {"layers",
           {{{"type", "conv2d"}, {"in_channels", 3}, {"out_channels", 6}, {"kernel_size", 3}, {"bias", false}},
            {{"type", "gelu"}},
            {{"type", "conv2d"}, {"in_channels", 6}, {"out_channels", 5}, {"kernel_size", 2}, {"padding", 1}},
            {{"type", "relu"}},
            {{"type", "maxpool2d"}, {"kernel_size", 2}},
            {{"type", "dropout"}, {"p", 0.3}},
            {{"type", "flatten"}},
            {{"type", "linear"}, {"in_features", 5 * 5 * 4}, {"out_features", 7}},
            {{"type", "gelu"}},
            {{"type", "linear"}, {"in_features", 7}, {"out_features", 3}}}}};
}

// Zeroes filter/neuron `unit` of a conv/linear parameter set (weight rows and bias).
void zero_unit(nn::Parameter& weight, nn::Parameter& bias, int64_t unit) {
  const int64_t per = weight.value.numel() / weight.value.size(0);
  std::fill_n(weight.value.data<float>() + unit * per, per, 0.0f);
  if (bias.value.defined()) bias.value.data<float>()[unit] = 0.0f;
}

}  // namespace

TEST(MagnitudePruner, RemovesExactlyTheSmallestWeights) {
  const Tensor w = random_f32({13, 7}, 1);
  for (double s : {0.0, 0.3, 0.7, 0.9, 0.99}) {
    const prune::MaskResult r = prune::MagnitudePruner::prune(w, s);
    const int64_t k = std::llround(s * 91);
    EXPECT_EQ(zeros(r.mask), k) << s;
    EXPECT_NEAR(r.stats.actual_sparsity, double(k) / 91, 1e-12);
    EXPECT_EQ(r.stats.nonzero_after, 91 - k);
    // Every pruned weight is no larger in magnitude than every kept one, and the threshold sits between.
    float max_pruned = 0, min_kept = 1e30f;
    for (int64_t i = 0; i < 91; ++i) {
      const float a = std::fabs(w.data<float>()[i]);
      if (r.mask.data<float>()[i] == 0) max_pruned = std::max(max_pruned, a);
      else min_kept = std::min(min_kept, a);
    }
    EXPECT_LE(max_pruned, min_kept);
    if (k > 0) {
      EXPECT_FLOAT_EQ(r.stats.threshold, max_pruned);
    }
  }
}

TEST(MagnitudePruner, GlobalUsesOneThresholdPerLayerDoesNot) {
  nn::Rng rng(2);
  nn::Linear big("0", 50, 40, true, &rng), small("1", 40, 5, true, &rng);
  // Make the small layer's weights large: a global threshold should spare them.
  for (int64_t i = 0; i < small.weight.value.numel(); ++i) small.weight.value.data<float>()[i] *= 10;
  const auto stats = prune::MagnitudePruner::prune_global({&big.weight, &small.weight}, 0.8);
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(zeros(big.weight.value) + zeros(small.weight.value), std::llround(0.8 * 2200));
  EXPECT_GT(stats[0].actual_sparsity, 0.8);
  EXPECT_LT(stats[1].actual_sparsity, 0.1);
  EXPECT_EQ(stats[0].threshold, stats[1].threshold);
  nn::Linear a("0", 50, 40, true, &rng), b("1", 40, 5, true, &rng);
  const auto per = prune::MagnitudePruner::prune_per_layer({&a.weight, &b.weight}, 0.8);
  EXPECT_NEAR(per[0].actual_sparsity, 0.8, 1e-9);
  EXPECT_NEAR(per[1].actual_sparsity, 0.8, 1e-9);
}

TEST(MagnitudePruner, OptimizersKeepPrunedWeightsAtZero) {
  for (const char* opt : {"sgd", "adamw"}) {
    nn::Rng rng(4);
    nn::Linear l("0", 20, 10, true, &rng);
    prune::MagnitudePruner::prune_per_layer({&l.weight}, 0.75);
    const Tensor mask = l.weight.mask.clone();
    std::unique_ptr<nn::Optimizer> o;
    if (std::string(opt) == "sgd") o = std::make_unique<nn::SGD>(l.parameters(), 0.1, 0.9, 0.01);
    else o = std::make_unique<nn::AdamW>(l.parameters(), 0.1, 0.9, 0.999, 1e-8, 0.01);
    for (int step = 0; step < 5; ++step) {
      l.set_training(true);
      l.zero_grad();
      l.forward(random_f32({8, 20}, 10 + step));
      l.backward(random_f32({8, 10}, 20 + step));
      o->step();
    }
    int64_t kept_changed = 0;
    for (int64_t i = 0; i < 200; ++i) {
      if (mask.data<float>()[i] == 0) EXPECT_EQ(l.weight.value.data<float>()[i], 0.0f) << opt << " " << i;
      else kept_changed += l.weight.value.data<float>()[i] != 0.0f;
    }
    EXPECT_EQ(kept_changed, 50) << opt;  // the others still train
  }
}

TEST(MagnitudePruner, RejectsBadSparsityAndMismatchedMasks) {
  const Tensor w = random_f32({4, 4}, 3);
  for (double s : {-0.1, 1.0, 1.5, std::nan("")})
    test::expect_error([&] { prune::MagnitudePruner::prune(w, s); }, {"sparsity must be in [0, 1)"});
  nn::Parameter p{"3.weight", w.clone(), {}, {}};
  test::expect_error([&] { prune::apply_mask(p, Tensor::zeros({4, 5}, DType::f32)); },
                     {"3.weight", "does not match the weights"});
  Tensor half = Tensor::zeros({4, 4}, DType::f32);
  half.data<float>()[3] = 0.5f;
  test::expect_error([&] { prune::apply_mask(p, half); }, {"3.weight", "only 0 and 1"});
  test::expect_error([&] { prune::apply_mask(p, Tensor::zeros({4, 4}, DType::i32)); }, {"3.weight", "f32"});
  // An optimizer refuses a mask that was set behind apply_mask's back.
  nn::Parameter q{"5.weight", w.clone(), Tensor::zeros({4, 4}, DType::f32), Tensor::zeros({2, 8}, DType::f32)};
  nn::SGD sgd({&q}, 0.1);
  test::expect_error([&] { sgd.step(); }, {"5.weight", "does not match"});
}

TEST(MagnitudePruner, GradualScheduleRisesToTheTarget) {
  EXPECT_DOUBLE_EQ(prune::gradual_sparsity(0.9, 0, 4), 0.0);
  EXPECT_DOUBLE_EQ(prune::gradual_sparsity(0.9, 4, 4), 0.9);
  double prev = 0, prev_step = 1;
  for (int s = 1; s <= 4; ++s) {
    const double v = prune::gradual_sparsity(0.9, s, 4);
    EXPECT_GT(v, prev);
    EXPECT_LT(v - prev, prev_step + 1e-12);  // steps shrink
    prev_step = v - prev;
    prev = v;
  }
}

TEST(StructuredPruning, RemovingZeroFiltersKeepsTheOutputThroughFlatten) {
  nn::Rng rng(5);
  nn::Model model = nn::build_model(odd_cnn_config(), &rng);
  auto& seq = model.sequential();
  auto& c0 = static_cast<nn::Conv2d&>(seq.layer(0));
  auto& c2 = static_cast<nn::Conv2d&>(seq.layer(2));
  // Filters 1 and 4 of conv 0 (no bias) and 0, 3 of conv 2 produce zeros; gelu(0) = relu(0) = 0.
  for (int64_t f : {1, 4}) zero_unit(c0.weight, c0.bias, f);
  for (int64_t f : {0, 3}) zero_unit(c2.weight, c2.bias, f);
  model.module->set_training(false);
  const Tensor x = random_f32(model.batch_shape(7), 9);
  const Tensor before = model.forward(x).clone();
  const auto s0 = prune::prune_conv_filters(model, 0, 2.0 / 6, prune::FilterNorm::l1);
  EXPECT_EQ(s0.units_before, 6);
  EXPECT_EQ(s0.units_after, 4);
  const auto s2 = prune::prune_conv_filters(model, 2, 0.4, prune::FilterNorm::l2);
  EXPECT_EQ(s2.units_after, 3);
  EXPECT_NE(s2.consumer.find("after flatten"), std::string::npos);
  EXPECT_EQ(model.config["layers"][7]["in_features"], 3 * 20);
  EXPECT_EQ(model.config["layers"][2]["in_channels"], 4);
  model.module->set_training(false);
  const Tensor after = model.forward(x);
  ASSERT_EQ(after.shape(), before.shape());
  for (int64_t i = 0; i < after.numel(); ++i) EXPECT_NEAR(after.data<float>()[i], before.data<float>()[i], 1e-5) << i;
  EXPECT_LT(model.module->parameter_count(), s0.params_before);
}

TEST(StructuredPruning, LinearNeuronsToo) {
  nn::Rng rng(6);
  nn::Model model = nn::build_model(nn::mlp_config(), &rng);  // flatten, 784->128, relu, 128->64, relu, 64->10
  auto& l1 = static_cast<nn::Linear&>(model.sequential().layer(1));
  for (int64_t f = 0; f < 128; f += 2) zero_unit(l1.weight, l1.bias, f);
  const Tensor x = random_f32(model.batch_shape(5), 2);
  const Tensor before = model.forward(x).clone();
  const auto s = prune::prune_linear_neurons(model, 1, 0.5);
  EXPECT_EQ(s.units_after, 64);
  EXPECT_EQ(model.config["layers"][3]["in_features"], 64);
  const Tensor after = model.forward(x);
  for (int64_t i = 0; i < after.numel(); ++i) EXPECT_NEAR(after.data<float>()[i], before.data<float>()[i], 1e-5);
}

TEST(StructuredPruning, RejectsImpossibleCuts) {
  nn::Rng rng(5);
  nn::Model model = nn::build_model(odd_cnn_config(), &rng);
  test::expect_error([&] { prune::prune_conv_filters(model, 0, 0.95); }, {"would remove all", "at least one"});
  test::expect_error([&] { prune::prune_conv_filters(model, 0, 1.0); }, {"sparsity must be in [0, 1)"});
  test::expect_error([&] { prune::prune_conv_filters(model, 0, -0.2); }, {"sparsity must be in [0, 1)"});
  test::expect_error([&] { prune::prune_linear_neurons(model, 9, 0.5); }, {"model's outputs"});
  test::expect_error([&] { prune::prune_conv_filters(model, 7, 0.5); }, {"not conv2d"});
  test::expect_error([&] { prune::prune_conv_filters(model, 42, 0.5); }, {"does not exist"});
}

TEST(PruneModel, UnstructuredAndStructuredReports) {
  nn::Rng rng(8);
  nn::Model model = nn::build_model(odd_cnn_config(), &rng);
  prune::PruneOptions o;
  o.sparsity = 0.6;
  o.global = true;
  const prune::PruneReport r = prune::prune_model(model, o);
  EXPECT_NEAR(r.weight_sparsity_after, 0.6, 0.01);
  EXPECT_EQ(r.params_after, r.params_before);
  EXPECT_LT(r.nonzero_after, r.nonzero_before);
  EXPECT_NEAR(prune::measured_weight_sparsity(model), r.weight_sparsity_after, 1e-12);

  nn::Model g = nn::build_model(odd_cnn_config(), &rng);  // gradual: three rounds end at the target
  prune::PruneOptions go;
  go.sparsity = 0.75;
  go.gradual_steps = 3;
  const prune::PruneReport gr = prune::prune_model(g, go);
  EXPECT_NEAR(gr.weight_sparsity_after, 0.75, 0.01);
  for (const auto& l : gr.layers) EXPECT_DOUBLE_EQ(l.target_sparsity, 0.75);

  nn::Model m2 = nn::build_model(odd_cnn_config(), &rng);
  o.structured = true;
  o.sparsity = 0.5;
  const prune::PruneReport s = prune::prune_model(m2, o);
  ASSERT_EQ(s.structured_layers.size(), 3u);  // two convs and the hidden linear; never the output layer
  EXPECT_EQ(m2.config["layers"][0]["out_channels"], 3);
  EXPECT_LT(s.params_after, s.params_before);
  EXPECT_EQ(m2.forward(random_f32(m2.batch_shape(2), 1)).size(1), 3);

  nn::Model m4 = nn::build_model(odd_cnn_config(), &rng);
  o.structured_linear = false;  // conv filters only: the hidden linear keeps its 7 neurons
  const prune::PruneReport f = prune::prune_model(m4, o);
  ASSERT_EQ(f.structured_layers.size(), 2u);
  EXPECT_EQ(m4.config["layers"][7]["out_features"], 7);
  EXPECT_EQ(m4.config["layers"][2]["out_channels"], 2);

  o.finetune_epochs = 1;  // fine-tuning without data is an error, not a silent skip
  nn::Model m3 = nn::build_model(odd_cnn_config(), &rng);
  test::expect_error([&] { prune::prune_model(m3, o); }, {"needs training data"});
}

TEST(PruneModel, FineTuningKeepsMasksAndLearns) {
  // A tiny separable problem: fine-tuning after 70% pruning must keep the zeros and not lose accuracy.
  nn::Rng rng(11);
  nn::Model model = nn::build_model({{"arch", "sequential"},
                                     {"input_shape", {16}},
                                     {"layers",
                                      {{{"type", "linear"}, {"in_features", 16}, {"out_features", 32}},
                                       {{"type", "relu"}},
                                       {{"type", "linear"}, {"in_features", 32}, {"out_features", 10}}}}},
                                    &rng);
  const int64_t n = 512;
  Tensor x = random_f32({n, 16}, 3);
  Tensor y = Tensor::empty({n}, DType::i64);
  for (int64_t i = 0; i < n; ++i) {
    const float* r = x.data<float>() + i * 16;
    y.data<int64_t>()[i] = (r[0] > 0 ? 1 : 0) + (r[1] > 0 ? 2 : 0);
  }
  prune::PruneOptions o;
  o.sparsity = 0.7;  // at 0.8 per layer too few of the two informative inputs' connections survive
  o.finetune_lr = 1e-2;
  o.batch_size = 32;
  prune::prune_model(model, o);
  const double pruned = nn::evaluate_classifier(model, x, y).accuracy;
  const auto history = prune::finetune_model(model, o, 30, x, y, x, y);
  ASSERT_EQ(history.size(), 30u);
  EXPECT_GT(history.back().eval_accuracy, pruned);
  EXPECT_GT(history.back().eval_accuracy, 0.8);
  EXPECT_NEAR(prune::measured_weight_sparsity(model), 0.7, 0.001);  // still exactly as sparse
}
