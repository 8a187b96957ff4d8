// FLOPCounter: exact counts for hand-computed layers (the formulas are the
// ones in kernels/*.h; each expected number below is worked out by hand),
// per-layer attribution, a cost for every op the reference models run, the
// roofline verdict, and the machine-peaks cache.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "nn/attention.h"
#include "nn/conv2d.h"
#include "nn/layernorm.h"
#include "nn/linear.h"
#include "nn/model.h"
#include "nn/reference_models.h"
#include "profiler/flop_counter.h"
#include "tests/test_io_util.h"

using namespace tinyopt;

namespace {

const CostRow& find_row(const std::vector<CostRow>& rows, const std::string& name) {
  for (const CostRow& r : rows)
    if (r.name == name) return r;
  static const CostRow none{"<missing>", 0, {}};
  ADD_FAILURE() << "no row named " << name;
  return none;
}

Tensor random_input(const Shape& shape, nn::Rng& rng) {
  Tensor x = Tensor::empty(shape, DType::f32);
  nn::init_uniform(x, 1.0, rng);
  return x;
}

}  // namespace

TEST(ProfilerFlops, LinearIsMatmulPlusBias) {
  nn::Rng rng(1);
  nn::Sequential seq;
  seq.append(std::make_unique<nn::Linear>("0", 5, 3, true, &rng));
  const FlopReport r = count_ops(seq, random_input({4, 5}, rng));
  // x[4,5] @ W^T[5,3]: 2*4*3*5 = 120 flops; bytes 4*(4*5 + 5*3 + 4*3) = 188.
  const CostRow& mm = find_row(r.ops, "matmul");
  EXPECT_EQ(mm.calls, 1);
  EXPECT_DOUBLE_EQ(mm.cost.flops, 120);
  EXPECT_DOUBLE_EQ(mm.cost.bytes, 188);
  // bias: 4*3 adds; bytes 4*(2*12 + 3) = 108.
  const CostRow& bias = find_row(r.ops, "bias_add");
  EXPECT_DOUBLE_EQ(bias.cost.flops, 12);
  EXPECT_DOUBLE_EQ(bias.cost.bytes, 108);
  EXPECT_DOUBLE_EQ(r.total.flops, 132);
  // The Sequential names its layer by index and type.
  ASSERT_EQ(r.layers.size(), 1u);
  EXPECT_EQ(r.layers[0].name, "0:linear");
  EXPECT_DOUBLE_EQ(r.layers[0].cost.flops, 132);
  EXPECT_EQ(r.layers[0].calls, 2);  // two ops ran inside it
}

TEST(ProfilerFlops, StridedPaddedConvCountsEveryTapOfTheOutput) {
  nn::Rng rng(2);
  nn::Sequential seq;
  seq.append(std::make_unique<nn::Conv2d>("0", 3, 4, 3, /*stride=*/2, /*padding=*/1, true, &rng));
  const FlopReport r = count_ops(seq, random_input({2, 3, 7, 7}, rng));
  // OH = OW = (7 + 2*1 - 3) / 2 + 1 = 4; outputs = 2*4*4*4 = 128; patch = 3*3*3 = 27.
  // FLOPs = 2 * 128 * 27 + 128 (bias) = 7040.
  // Bytes = 4 * (x 2*3*49 + w 4*27 + bias 4 + y 128) = 4 * 534 = 2136.
  const CostRow& conv = find_row(r.ops, "conv2d");
  EXPECT_DOUBLE_EQ(conv.cost.flops, 7040);
  EXPECT_DOUBLE_EQ(conv.cost.bytes, 2136);
  EXPECT_DOUBLE_EQ(r.total.flops, 7040);  // the bias is inside the conv op
}

TEST(ProfilerFlops, AttentionCountsQkSoftmaxAndAvOverTheCausalPairs) {
  nn::Rng rng(3);
  nn::Sequential seq;
  seq.append(std::make_unique<nn::CausalSelfAttention>("attn", 8, 2, true, 1, &rng));
  const FlopReport r = count_ops(seq, random_input({2, 5, 8}, rng));  // B=2, T=5, C=8, H=2, hd=4
  // Causal pairs: B*H*T(T+1)/2 = 2*2*15 = 60. Per pair: QK^T 2*hd = 8, AV 2*hd = 8,
  // softmax (max, exp, sum, scale) 20: 36 per pair -> 2160.
  const CostRow& attn = find_row(r.ops, "attention");
  EXPECT_DOUBLE_EQ(attn.cost.flops, 2160);
  EXPECT_DOUBLE_EQ(attn.cost.bytes, 4.0 * 2 * 5 * 4 * 8);  // qkv [2,5,24] in + out [2,5,8]; no probs in eval
  // c_attn 2*10*24*8 = 3840 + bias 240; c_proj 2*10*8*8 = 1280 + bias 80.
  EXPECT_DOUBLE_EQ(find_row(r.ops, "matmul").cost.flops, 3840 + 1280);
  EXPECT_DOUBLE_EQ(find_row(r.ops, "bias_add").cost.flops, 240 + 80);
  EXPECT_DOUBLE_EQ(r.total.flops, 2160 + 3840 + 240 + 1280 + 80);
}

TEST(ProfilerFlops, LayerNormIsEightOpsPerElement) {
  nn::Rng rng(4);
  nn::Sequential seq;
  seq.append(std::make_unique<nn::LayerNorm>("ln", 8, true));
  const FlopReport r = count_ops(seq, random_input({2, 3, 8}, rng));  // 6 rows of 8
  // mean, variance, normalise, scale and shift: 8 * 48 = 384 flops;
  // bytes 4 * (x 48 + y 48 + gamma 8 + beta 8 + mean/rstd 2*6) = 4 * 124 = 496.
  const CostRow& ln = find_row(r.ops, "layernorm");
  EXPECT_DOUBLE_EQ(ln.cost.flops, 384);
  EXPECT_DOUBLE_EQ(ln.cost.bytes, 496);
}

TEST(ProfilerFlops, EveryOpTheReferenceModelsRunHasACost) {
  nn::Rng rng(5);
  std::vector<std::string> vocab;
  for (char c = 'a'; c <= 'z'; ++c) vocab.emplace_back(1, c);
  nn::Model mlp = nn::build_model(nn::mlp_config(), &rng);
  nn::Model cnn = nn::build_model(nn::cnn_config(), &rng);
  nn::Model gpt = nn::build_model(nn::gpt_config(26), &rng, vocab);
  Tensor ids = Tensor::zeros({2, 16}, DType::i32);
  for (auto [model, input] : {std::pair{&mlp, random_input({2, 784}, rng)},
                              std::pair{&cnn, random_input({2, 1, 28, 28}, rng)}, std::pair{&gpt, ids}}) {
    const FlopReport r = count_ops(*model, input);
    ASSERT_FALSE(r.ops.empty());
    for (const CostRow& op : r.ops) EXPECT_GT(op.cost.bytes, 0) << op.name << " has no cost formula";
    EXPECT_GT(r.total.flops, 0);
  }
  // The CNN by hand: conv1 2*26*26*32*9 + bias 26*26*32, conv2 2*11*11*64*288 + bias 11*11*64,
  // linear 2*1600*128 + 128 and 2*128*10 + 10, per image.
  const double per_image = (2.0 * 26 * 26 * 32 * 9 + 26 * 26 * 32) + (2.0 * 11 * 11 * 64 * 288 + 11 * 11 * 64) +
                           (2.0 * 1600 * 128 + 128) + (2.0 * 128 * 10 + 10);
  const FlopReport r = count_ops(cnn, random_input({2, 1, 28, 28}, rng));
  const double convs_and_linears = find_row(r.ops, "conv2d").cost.flops + find_row(r.ops, "matmul").cost.flops +
                                   find_row(r.ops, "bias_add").cost.flops;
  EXPECT_DOUBLE_EQ(convs_and_linears, 2 * per_image);
  // GPT layers: embeddings, one row per block, ln_f and lm_head.
  const FlopReport g = count_ops(gpt, ids);
  for (const char* name : {"embeddings", "transformer.h.0", "transformer.h.3", "transformer.ln_f", "lm_head"})
    EXPECT_GT(find_row(g.layers, name).calls, 0) << name;
}

TEST(ProfilerFlops, RooflineVerdictAgainstTheRidgePoint) {
  MachinePeaks peaks;
  peaks.fp32_gflops = 100;
  peaks.bandwidth_gbs = 10;
  EXPECT_DOUBLE_EQ(peaks.ridge_intensity(), 10);
  const RooflineVerdict dense = roofline({1e9, 1e7}, peaks, 0.02);  // 100 FLOP/B
  EXPECT_EQ(dense.bound, Bound::compute);
  EXPECT_DOUBLE_EQ(dense.attainable_gflops, 100);
  EXPECT_DOUBLE_EQ(dense.achieved_gflops, 50);
  EXPECT_DOUBLE_EQ(dense.fraction_of_roof(), 0.5);
  const RooflineVerdict stream = roofline({1e6, 1e7}, peaks);  // 0.1 FLOP/B: roof 0.1 * 10 GB/s
  EXPECT_EQ(stream.bound, Bound::memory);
  EXPECT_DOUBLE_EQ(stream.attainable_gflops, 1.0);
  EXPECT_EQ(roofline({}, peaks).bound, Bound::unknown);
  EXPECT_STREQ(bound_name(Bound::memory), "memory");
}

TEST(ProfilerFlops, AnOpWhoseDataFitsACacheIsHeldToThatCachesBandwidth) {
  MachinePeaks peaks;
  peaks.fp32_gflops = 100;
  peaks.bandwidth_gbs = 10;
  peaks.l2_gbs = 80;
  peaks.l2_capacity = 1e6;
  peaks.l3_gbs = 40;
  peaks.l3_capacity = 1e7;
  EXPECT_STREQ(peaks.memory_level_for(5e5), "L2");
  EXPECT_STREQ(peaks.memory_level_for(5e6), "L3");
  EXPECT_STREQ(peaks.memory_level_for(5e8), "DRAM");
  // 0.1 FLOP/B: the roof is 0.1 x the bandwidth of the level that holds the data.
  EXPECT_DOUBLE_EQ(roofline({5e4, 5e5}, peaks).attainable_gflops, 8.0);
  EXPECT_DOUBLE_EQ(roofline({5e5, 5e6}, peaks).attainable_gflops, 4.0);
  EXPECT_DOUBLE_EQ(roofline({5e7, 5e8}, peaks).attainable_gflops, 1.0);
  // A cache level measured slower than DRAM (noise) never lowers the roof.
  peaks.l2_gbs = 5;
  EXPECT_DOUBLE_EQ(peaks.bandwidth_for(5e5), 10);
  // Peaks cached before the levels were measured have none: everything is held to DRAM.
  MachinePeaks old;
  old.fp32_gflops = 100;
  old.bandwidth_gbs = 10;
  EXPECT_STREQ(old.memory_level_for(1), "DRAM");
}

namespace {
// Stand-ins for the real measurement, so the caching policy is tested the
// same way on a quiet and on a busy machine.
int g_fake_measurements = 0;
MachinePeaks fake_peaks(int threads, Verdict verdict) {
  ++g_fake_measurements;
  MachinePeaks p;
  p.key = machine_key(threads);
  p.threads = threads;
  p.fp32_gflops = 100 + g_fake_measurements;  // differs per measurement: a cached value is recognisable
  p.bandwidth_gbs = 10;
  p.l2_gbs = 50;
  p.method = "fake triad";
  p.conditions.verdict = verdict;
  p.conditions.reason = verdict == Verdict::contended ? "another process kept 1 core busy" : "";
  return p;
}
MachinePeaks quiet_peaks(int threads) { return fake_peaks(threads, Verdict::quiet); }
MachinePeaks contended_peaks(int threads) { return fake_peaks(threads, Verdict::contended); }
}  // namespace

TEST(ProfilerFlops, MachinePeaksAreMeasuredOnceThenReadFromTheCache) {
  test::ScratchDir dir;
  const std::string path = dir.file("cache/tinyopt/machine.json");  // directories are created
  g_fake_measurements = 0;
  const MachinePeaks first = machine_peaks(1, path, false, quiet_peaks);
  EXPECT_FALSE(first.from_cache);
  EXPECT_EQ(g_fake_measurements, 1);
  EXPECT_NE(first.cache_note.find("cached in"), std::string::npos) << first.cache_note;
  const MachinePeaks second = machine_peaks(1, path, false, quiet_peaks);
  EXPECT_TRUE(second.from_cache);
  EXPECT_EQ(g_fake_measurements, 1);  // not measured again
  EXPECT_DOUBLE_EQ(second.fp32_gflops, first.fp32_gflops);
  EXPECT_DOUBLE_EQ(second.bandwidth_gbs, first.bandwidth_gbs);
  EXPECT_DOUBLE_EQ(second.l2_gbs, first.l2_gbs);
  EXPECT_EQ(second.method, "fake triad");
  std::ifstream in(path);
  const nlohmann::json j = nlohmann::json::parse(in);
  ASSERT_TRUE(j.contains(machine_key(1)));
  EXPECT_EQ(j[machine_key(1)]["threads"], 1);
  // refresh measures again and replaces the cached value.
  const MachinePeaks refreshed = machine_peaks(1, path, true, quiet_peaks);
  EXPECT_FALSE(refreshed.from_cache);
  EXPECT_DOUBLE_EQ(machine_peaks(1, path, false, quiet_peaks).fp32_gflops, refreshed.fp32_gflops);
  // Peaks cached by an older way of measuring them (no roof_version) are measured again.
  nlohmann::json older = j;
  older[machine_key(1)].erase("roof_version");
  test::write_bytes(path, older.dump());
  EXPECT_FALSE(machine_peaks(1, path, false, quiet_peaks).from_cache);
  // A corrupt cache is measured over, not trusted.
  test::write_bytes(path, "{not json");
  EXPECT_FALSE(machine_peaks(1, path, false, quiet_peaks).from_cache);
  EXPECT_TRUE(machine_peaks(1, path, false, quiet_peaks).from_cache);
}

TEST(ProfilerFlops, PeaksMeasuredOnABusyMachineServeTheRunButAreNotCached) {
  test::ScratchDir dir;
  const std::string path = dir.file("machine.json");
  const MachinePeaks busy = machine_peaks(2, path, false, contended_peaks);
  EXPECT_FALSE(busy.from_cache);
  EXPECT_GT(busy.fp32_gflops, 0);
  EXPECT_NE(busy.cache_note.find("not cached"), std::string::npos) << busy.cache_note;
  EXPECT_NE(busy.cache_note.find("another process"), std::string::npos) << busy.cache_note;
  EXPECT_FALSE(std::filesystem::exists(path));
  // The next (quiet) measurement is the one kept.
  const MachinePeaks quiet = machine_peaks(2, path, false, quiet_peaks);
  EXPECT_FALSE(quiet.from_cache);
  EXPECT_TRUE(machine_peaks(2, path, false, contended_peaks).from_cache);
}

TEST(ProfilerFlops, RealMachinePeaksArePlausibleAndSayHowTheyWereMeasured) {
  const MachinePeaks p = measure_machine_peaks(1);
  EXPECT_GT(p.fp32_gflops, 0.1);
  EXPECT_GT(p.bandwidth_gbs, 0.1);
  EXPECT_GT(p.ridge_intensity(), 0);
  EXPECT_NE(p.method.find("triad"), std::string::npos);
  EXPECT_FALSE(p.measured_at.empty());
  EXPECT_NE(p.conditions.verdict, Verdict::unknown) << "the load around the measurement was not read";
}
