// ProfilerContext: records the variant routing actually chose, nests layers
// and ops, summarises them, and writes a Chrome trace that is valid JSON whose
// "X" events nest per thread; failures leave a trace marked incomplete. Also
// the `tinyopt profile` command's argument errors and one real run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/dispatcher.h"
#include "core/ops.h"
#include "data/fashion_mnist.h"
#include "nn/model.h"
#include "nn/reference_models.h"
#include "profiler/profiler_context.h"
#include "tests/test_io_util.h"

using namespace tinyopt;
using nlohmann::json;

namespace {

Tensor filled(const Shape& shape, float v) {
  Tensor t = Tensor::empty(shape, DType::f32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = v;
  return t;
}

// Every "X" event of a thread lies inside the enclosing open one (ts sorted,
// longer first at equal starts): returns the first violation, or "".
std::string nesting_error(const json& trace) {
  std::map<int64_t, std::vector<json>> by_thread;
  for (const json& e : trace["traceEvents"])
    if (e["ph"] == "X") by_thread[e["tid"].get<int64_t>()].push_back(e);
  const double eps = 1e-6;  // microseconds, printed from integer nanoseconds
  for (auto& [tid, events] : by_thread) {
    std::stable_sort(events.begin(), events.end(), [](const json& a, const json& b) {
      return a["ts"] != b["ts"] ? a["ts"].get<double>() < b["ts"].get<double>()
                                : a["dur"].get<double>() > b["dur"].get<double>();
    });
    std::vector<double> open_ends;
    for (const json& e : events) {
      const double ts = e["ts"], end = ts + e["dur"].get<double>();
      if (e["dur"].get<double>() < 0) return "negative dur in " + e.dump();
      while (!open_ends.empty() && open_ends.back() <= ts + eps) open_ends.pop_back();
      if (!open_ends.empty() && end > open_ends.back() + eps) return "overlap on tid " + std::to_string(tid) + ": " + e.dump();
      open_ends.push_back(end);
    }
  }
  return "";
}

int run(const std::string& cmd) { return std::system(cmd.c_str()); }

}  // namespace

TEST(ProfilerContext, RecordsTheVariantRoutingActuallyChose) {
  MatmulArgs args{filled({2, 3}, 1), filled({3, 2}, 1), Tensor::empty({2, 2}, DType::f32)};
  const std::string automatic = ops::matmul.select(args, Device::cpu())->name;
  std::vector<ProfileEvent> events;
  std::string shapes;
  {
    ProfilerContext prof;
    ops::matmul(args);
    OptimizedBackend::instance().set_choice("matmul=cpu.naive");
    ops::matmul(args);
    OptimizedBackend::instance().clear_choices();
    events = prof.events();
    ASSERT_EQ(events.size(), 2u);
    shapes = prof.shapes(events[1]).str();
  }
  EXPECT_STREQ(events[0].name, "matmul");
  EXPECT_EQ(std::string(events[0].variant), automatic);
  EXPECT_EQ(std::string(events[1].variant), "cpu.naive");
  EXPECT_EQ(shapes, "f32[2, 3], f32[3, 2] -> f32[2, 2]");
  EXPECT_DOUBLE_EQ(events[1].cost.flops, 2.0 * 2 * 2 * 3);
  EXPECT_EQ(events[1].device, Device::cpu());
  EXPECT_GE(events[1].end_ns, events[1].start_ns);
  EXPECT_EQ(dispatch_observer(), nullptr);  // uninstalled on scope exit
}

TEST(ProfilerContext, LayersNestOpsAndTheTableAndBottleneckNameThem) {
  nn::Rng rng(1);
  nn::Model model = nn::build_model(nn::cnn_config(), &rng);
  Tensor x = filled({2, 1, 28, 28}, 0.5f);
  ProfilerContext prof;
  for (int i = 0; i < 2; ++i) {
    LayerScope scope("model", "forward");
    model.forward(x);
  }
  prof.stop();
  const std::vector<ProfileEvent> events = prof.events();
  int layers = 0, ops_in_layers = 0;
  for (const ProfileEvent& e : events) {
    EXPECT_GE(e.self_ns(), 0);
    if (!e.is_op) ++layers;
    if (e.is_op && e.parent >= 0 && !events[e.parent].is_op) ++ops_in_layers;
    if (e.is_op) {
      EXPECT_EQ(e.depth, 2);  // forward > layer > op
    }
  }
  EXPECT_EQ(layers, 2 * (1 + 10));  // "forward" plus the CNN's ten layers, twice
  EXPECT_GT(ops_in_layers, 0);
  // A layer's FLOPs are the sum of its ops'.
  const std::vector<ProfileRow> rows = prof.key_averages();
  double op_flops = 0, forward_flops = 0;
  for (const ProfileRow& r : rows) {
    if (r.is_op) op_flops += r.cost.flops;
    if (r.name == "forward") forward_flops = r.cost.flops;
  }
  EXPECT_DOUBLE_EQ(forward_flops, op_flops);
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_GE(rows[i - 1].self_s, rows[i].self_s);  // sorted by self time
  MachinePeaks peaks;
  peaks.fp32_gflops = 100;
  peaks.bandwidth_gbs = 10;
  const std::string table = prof.table(&peaks);
  for (const char* col : {"Name", "Variant", "Calls", "Self time", "Self %", "Total time", "GFLOP/s", "GB/s", "Bound by",
                          "conv2d", "0:conv2d", "forward", "compute", "memory"})
    EXPECT_NE(table.find(col), std::string::npos) << col << " missing from\n" << table;
  const std::string line = prof.bottleneck(&peaks);
  EXPECT_EQ(line.rfind("Bottleneck: ", 0), 0u) << line;
  const ProfileRow* top = nullptr;
  for (const ProfileRow& r : rows)
    if (r.is_op && top == nullptr) top = &r;
  ASSERT_NE(top, nullptr);
  EXPECT_NE(line.find(top->name), std::string::npos) << line;
  EXPECT_FALSE(prof.roofline_report(peaks).empty());
  EXPECT_EQ(prof.to_json(&peaks)["rows"].size(), rows.size());
}

TEST(ProfilerContext, ChromeTraceIsValidJsonWhoseEventsNestPerThread) {
  test::ScratchDir dir;
  nn::Rng rng(2);
  nn::Model model = nn::build_model(nn::mlp_config(), &rng);
  Tensor x = filled({3, 784}, 0.25f);
  ProfilerContext prof;
  // Two threads dispatching at once: each gets its own tid and stack.
  std::thread worker([&] {
    for (int i = 0; i < 20; ++i) relu(filled({64}, -1.0f));
  });
  for (int i = 0; i < 3; ++i) model.forward(x);
  worker.join();
  prof.stop();
  const std::string path = dir.file("trace.json");
  prof.export_chrome_trace(path);
  std::ifstream in(path);
  const json trace = json::parse(in);  // throws (fails the test) when not valid JSON
  EXPECT_EQ(trace["displayTimeUnit"], "ms");
  EXPECT_EQ(trace["otherData"]["complete"], true);
  std::set<int64_t> tids, named;
  int x_events = 0;
  for (const json& e : trace["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "thread_name") named.insert(e["tid"].get<int64_t>());
    if (e["ph"] != "X") continue;
    ++x_events;
    tids.insert(e["tid"].get<int64_t>());
    EXPECT_TRUE(e["ts"].is_number() && e["dur"].is_number() && e["pid"].is_number());
    EXPECT_TRUE(e["cat"] == "op" || e["cat"] == "layer");
    if (e["cat"] == "op") {
      EXPECT_TRUE(e["args"].contains("variant") && e["args"].contains("flops"));
    }
  }
  EXPECT_EQ(tids.size(), 2u);
  EXPECT_EQ(named, tids);
  EXPECT_EQ(x_events, static_cast<int>(prof.events().size()));
  EXPECT_EQ(nesting_error(trace), "");
}

TEST(ProfilerContext, AnUnfinishedRunIsMarkedAndStillNests) {
  ProfilerContext prof;
  const int64_t layer = prof.layer_begin("linear", "0:linear");
  OpCallInfo info{"matmul", "cpu.naive", Device::cpu(), {}, {10, 20}, false};
  prof.op_begin(info);  // its op_end never comes: the kernel "threw"
  prof.layer_end(layer);  // the layer scope unwinds past it
  const int64_t open = prof.layer_begin("relu", "1:relu");  // and this one never ends at all
  (void)open;
  prof.stop();
  const std::vector<ProfileEvent> events = prof.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_FALSE(events[0].unfinished);
  EXPECT_TRUE(events[1].unfinished);
  EXPECT_EQ(events[1].end_ns, events[0].end_ns);
  EXPECT_EQ(events[2].end_ns, -1);
  const json trace = prof.chrome_trace(false, "boom");
  EXPECT_EQ(trace["otherData"]["complete"], false);
  EXPECT_EQ(trace["otherData"]["error"], "boom");
  int unfinished = 0;
  for (const json& e : trace["traceEvents"])
    if (e["ph"] == "X" && e["args"].value("unfinished", false)) ++unfinished;
  EXPECT_EQ(unfinished, 2);
  EXPECT_EQ(nesting_error(trace), "");
  EXPECT_THROW(prof.clear(), Error);  // an event is still open
}

TEST(ProfilerContext, NestedContextsRestoreTheOuterObserver) {
  ProfilerContext outer;
  {
    ProfilerContext inner;
    EXPECT_EQ(dispatch_observer(), &inner);
    relu(filled({4}, 1.0f));
    EXPECT_EQ(inner.events().size(), 1u);
  }
  EXPECT_EQ(dispatch_observer(), &outer);
  relu(filled({4}, 1.0f));
  EXPECT_EQ(outer.events().size(), 1u);
  outer.clear();
  EXPECT_TRUE(outer.events().empty());
}

TEST(ProfilerContext, TraceIntoAMissingDirectoryIsAnErrorAndWritesNothing) {
  ProfilerContext prof;
  relu(filled({4}, 1.0f));
  prof.stop();
  test::ScratchDir dir;
  test::expect_error([&] { prof.export_chrome_trace(dir.file("missing/trace.json")); }, {"missing"});
  EXPECT_TRUE(dir.entries().empty());
}

TEST(ProfileCommand, BadTracePathsFailBeforeAnyWork) {
  test::ScratchDir dir;
  const std::string cli = TINYOPT_CLI_PATH;
  const std::string err = dir.file("stderr.txt");
  // The model does not exist either: the trace path is checked first.
  EXPECT_NE(run(cli + " profile --model " + dir.file("nope.safetensors") + " --trace " + dir.file("no/dir/t.json") +
                " 2>" + err),
            0);
  std::string msg = test::read_bytes(err);
  EXPECT_NE(msg.find("--trace"), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  EXPECT_NE(run(cli + " profile --model " + dir.file("nope.safetensors") + " --trace /proc/tinyopt_trace.json 2>" + err), 0);
  msg = test::read_bytes(err);
  EXPECT_NE(msg.find("--trace /proc/tinyopt_trace.json"), std::string::npos) << msg;
  EXPECT_NE(run(cli + " profile --model " + dir.file("nope.safetensors") + " --trace " + dir.path() + " 2>" + err), 0);
  EXPECT_NE(test::read_bytes(err).find("is a directory"), std::string::npos) << test::read_bytes(err);
}

TEST(ProfileCommand, ProfilesAModelOnRealDataAndWritesATrace) {
  if (!std::filesystem::exists(kFashionMnistDefaultDir)) GTEST_SKIP() << "skipped: dataset-fashion-mnist not installed";
  test::ScratchDir dir;
  nn::Rng rng(3);
  nn::Model model = nn::build_model(nn::mlp_config(), &rng);
  nn::save_model(model, dir.file("mlp.safetensors"));
  const std::string out = dir.file("out.json"), trace = dir.file("trace.json");
  // Peaks are cached under XDG_CACHE_HOME: point it at the scratch directory.
  ASSERT_EQ(run("XDG_CACHE_HOME=" + dir.path() + " " + TINYOPT_CLI_PATH + " profile --model " +
                dir.file("mlp.safetensors") + " --batch 8 --runs 2 --warmup 1 --json --trace " + trace + " >" + out),
            0);
  std::ifstream out_in(out);
  const json report = json::parse(out_in);
  EXPECT_EQ(report["batch"], 8);
  EXPECT_GT(report["flops_per_forward"].get<double>(), 2.0 * 8 * (784 * 128 + 128 * 64 + 64 * 10) - 1);
  EXPECT_NE(report["profile"]["bottleneck"].get<std::string>().find("Bottleneck: "), std::string::npos);
  // The peaks are cached, unless another process kept the machine busy while they were measured.
  if (report["profile"]["peaks"]["conditions"]["verdict"] == "contended")
    EXPECT_NE(report["profile"]["peaks"]["cache_note"].get<std::string>().find("not cached"), std::string::npos);
  else
    EXPECT_TRUE(std::filesystem::exists(dir.file("tinyopt/machine.json")));
  std::ifstream trace_in(trace);
  const json t = json::parse(trace_in);
  EXPECT_EQ(t["otherData"]["complete"], true);
  EXPECT_EQ(nesting_error(t), "");
}
