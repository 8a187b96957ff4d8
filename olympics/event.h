// The three TinyMLPerf events, each on its reference model from benchmarks/.
//
// | key | name                  | model                        | quality metric                          |
// |-----|-----------------------|------------------------------|-----------------------------------------|
// | mlp | MLP Sprint            | benchmarks/mlp.safetensors   | accuracy on all 10,000 Fashion-MNIST test images |
// | cnn | CNN Marathon          | benchmarks/cnn.safetensors   | same                                    |
// | gpt | Transformer Decathlon | benchmarks/gpt.safetensors   | held-out loss (nats/char) + greedy agreement with the FP32 reference |
//
// Scenarios (olympics/scenarios.h): SingleStream (batch 1 latency
// percentiles), Offline (throughput at the recipe's batch), peak memory,
// model size; training samples/s for the image events; decode tokens/s for
// the GPT.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tinyopt::olympics {

enum class EventKind { classifier, language_model };

struct Event {
  std::string key;           // "mlp", "cnn", "gpt": what --event takes and the leaderboard stores
  std::string name;          // "MLP Sprint"
  std::string model_file;    // file name under the benchmarks directory
  EventKind kind;
  std::string quality_metric;  // "test_accuracy" or "heldout_loss"
  bool higher_is_better;       // accuracy: yes; loss: no
  bool is_classifier() const { return kind == EventKind::classifier; }
};

// In run order.
const std::vector<Event>& all_events();
// Accepts the key, the name or a dashed name ("mlp", "MLP Sprint", "mlp-sprint",
// "transformer-decathlon"); unknown names throw an error listing the valid ones.
const Event& find_event(std::string_view name);

// Where the reference models live: $TINYOPT_BENCHMARKS_DIR, else ./benchmarks
// when it holds the models, else the source tree's benchmarks/ (configure time).
std::string benchmarks_dir();
std::string reference_model_path(const Event& event);

}  // namespace tinyopt::olympics
