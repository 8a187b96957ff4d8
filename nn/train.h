// Training and evaluation loops: seeded and deterministic for a fixed thread
// count, with a progress line showing epoch, loss, accuracy and samples/s.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "nn/model.h"

namespace tinyopt::nn {

struct ClassifierTrainOptions {
  int epochs = 5;
  int64_t batch_size = 64;
  double lr = 1e-3;
  double min_lr = 0;                // cosine decay from lr to min_lr over all steps (min_lr = lr: constant)
  std::string optimizer = "adamw";  // "adamw" or "sgd" (momentum 0.9)
  double weight_decay = 0.0;
  uint64_t seed = 1;
  bool progress = true;  // progress line on stderr
};

struct EpochStats {
  int epoch = 0;
  double loss = 0;            // mean training loss over the epoch
  double train_accuracy = 0;  // on the batches as trained
  double eval_accuracy = std::numeric_limits<double>::quiet_NaN();  // on the evaluation set; NaN (null) when none
  double seconds = 0;
  double samples_per_second = 0;
};

// Trains an image classifier (sequential model) with cross-entropy.
// `eval_images/labels` (optional) are evaluated after each epoch.
std::vector<EpochStats> train_classifier(Model& model, const Tensor& images, const Tensor& labels,
                                         const ClassifierTrainOptions& options, const Tensor& eval_images = {},
                                         const Tensor& eval_labels = {},
                                         const std::function<void(Model&)>& after_step = {});

struct EvalResult {
  double accuracy = 0;  // fraction correct
  double loss = 0;      // mean cross-entropy
  int64_t samples = 0;
  double seconds = 0;
  double samples_per_second() const { return seconds > 0 ? samples / seconds : 0; }
};

// Accuracy and mean loss of a sequential classifier on labelled images.
EvalResult evaluate_classifier(Model& model, const Tensor& images, const Tensor& labels, int64_t batch_size = 256);

struct GPTTrainOptions {
  int64_t iterations = 600;
  int64_t batch_size = 16;
  int64_t context = 0;  // 0 = the model's block_size
  double lr = 1e-3;
  double min_lr = 1e-4;
  int64_t warmup = 50;
  double weight_decay = 0.1;
  uint64_t seed = 1;
  int64_t eval_every = 100;
  bool progress = true;
};

struct GPTTrainStats {
  int64_t iteration = 0;
  double train_loss = 0;
  double heldout_loss = -1;
  double tokens_per_second = 0;
};

// Trains a GPT on random windows of `tokens` (i32 [n]) with AdamW and a
// cosine learning-rate schedule; held-out loss every eval_every iterations.
std::vector<GPTTrainStats> train_gpt(Model& model, const Tensor& tokens, const Tensor& heldout,
                                     const GPTTrainOptions& options);

// Mean next-token cross-entropy (nats/char) over non-overlapping windows of
// `tokens`, at most `max_windows` of them (0 = all).
EvalResult evaluate_gpt(Model& model, const Tensor& tokens, int64_t context = 0, int64_t max_windows = 0,
                        int64_t batch_size = 8);

}  // namespace tinyopt::nn
