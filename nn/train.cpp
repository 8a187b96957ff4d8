#include "nn/train.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "core/ops_nn.h"
#include "nn/optim.h"
#include "profiler/timer.h"

namespace tinyopt::nn {

namespace {

// Gathers rows `order[begin..end)` of a [N, ...] tensor into a new batch.
Tensor gather_rows(const Tensor& all, const std::vector<int64_t>& order, size_t begin, size_t end) {
  Shape shape = all.shape();
  shape[0] = static_cast<int64_t>(end - begin);
  Tensor batch = Tensor::empty(shape, all.dtype());
  const size_t row_bytes = all.nbytes() / static_cast<size_t>(all.size(0));
  const char* src = static_cast<const char*>(all.raw_data());
  char* dst = static_cast<char*>(batch.raw_data());
  for (size_t i = begin; i < end; ++i) std::memcpy(dst + (i - begin) * row_bytes, src + order[i] * row_bytes, row_bytes);
  return batch;
}

int64_t label_at(const Tensor& labels, int64_t i) {
  return labels.dtype() == DType::i64 ? labels.data<int64_t>()[i] : labels.data<int32_t>()[i];
}

int64_t count_correct(const Tensor& logits, const Tensor& labels) {
  const int64_t n = logits.size(0), k = logits.size(1);
  const float* l = logits.data<float>();
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = l + i * k;
    const int64_t best = std::max_element(row, row + k) - row;
    correct += best == label_at(labels, i);
  }
  return correct;
}

// Cross-entropy loss (and optionally its gradient) through the dispatcher.
double cross_entropy(const Tensor& logits, const Tensor& targets, Tensor* dlogits) {
  CrossEntropyArgs args{logits, targets, Tensor::empty({1}, DType::f32),
                        dlogits ? Tensor::empty(logits.shape(), DType::f32) : Tensor()};
  ops::cross_entropy(args);
  if (dlogits) *dlogits = args.dlogits;
  return args.loss.data<float>()[0];
}

class Progress {
 public:
  explicit Progress(bool on) : on_(on), tty_(on && isatty(STDERR_FILENO)) {}
  void update(const std::string& line) {
    if (!tty_) return;
    const double now = steady_seconds();
    if (now - last_ < 0.1) return;
    last_ = now;
    std::fprintf(stderr, "\r%s\033[K", line.c_str());
  }
  void finish(const std::string& line) {
    if (!on_) return;
    std::fprintf(stderr, tty_ ? "\r%s\033[K\n" : "%s\n", line.c_str());
  }

 private:
  bool on_, tty_;
  double last_ = 0;
};

std::string bar(double fraction) {
  const int width = 24, filled = static_cast<int>(fraction * width);
  std::string s = "[";
  for (int i = 0; i < width; ++i) s += i < filled ? '=' : (i == filled ? '>' : ' ');
  return s + "]";
}

std::unique_ptr<Optimizer> make_optimizer(Model& model, const std::string& name, double lr, double weight_decay) {
  if (name == "sgd") return std::make_unique<SGD>(model.module->parameters(), lr, 0.9, weight_decay);
  TINYOPT_CHECK(name == "adamw", "unknown optimizer '{}' (valid: adamw, sgd)", name);
  return std::make_unique<AdamW>(model.module->parameters(), lr, 0.9, 0.999, 1e-8, weight_decay);
}

}  // namespace

std::vector<EpochStats> train_classifier(Model& model, const Tensor& images, const Tensor& labels,
                                         const ClassifierTrainOptions& o, const Tensor& eval_images,
                                         const Tensor& eval_labels, const std::function<void(Model&)>& after_step) {
  TINYOPT_CHECK(o.epochs >= 0 && o.batch_size > 0, "train: epochs must be >= 0 and batch size > 0");
  TINYOPT_CHECK(images.size(0) == labels.size(0) && images.size(0) > 0,
                "train: {} images but {} labels", images.size(0), labels.size(0));
  Rng rng(o.seed);
  auto optimizer = make_optimizer(model, o.optimizer, o.lr, o.weight_decay);
  std::vector<int64_t> order(static_cast<size_t>(images.size(0)));
  std::vector<EpochStats> history;
  Progress progress(o.progress);
  const int64_t steps_per_epoch = (images.size(0) + o.batch_size - 1) / o.batch_size;
  const double total_steps = double(steps_per_epoch) * o.epochs;
  int64_t step = 0;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng.engine());
    model.module->set_training(true);
    const double t0 = steady_seconds();
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    for (size_t begin = 0; begin < order.size(); begin += static_cast<size_t>(o.batch_size)) {
      const size_t end = std::min(order.size(), begin + static_cast<size_t>(o.batch_size));
      Tensor x = gather_rows(images, order, begin, end);
      Tensor y = gather_rows(labels, order, begin, end);
      // Cosine learning-rate decay over the whole run.
      optimizer->set_lr(o.min_lr + 0.5 * (o.lr - o.min_lr) * (1 + std::cos(M_PI * double(step++) / total_steps)));
      model.module->zero_grad();
      Tensor logits = model.forward(x);
      Tensor dlogits;
      const double loss = cross_entropy(logits, y, &dlogits);
      TINYOPT_CHECK(std::isfinite(loss), "train: loss became {} at epoch {} (learning rate {} too high?)", loss, epoch,
                    o.lr);
      model.module->backward(dlogits);
      optimizer->step();
      if (after_step) after_step(model);
      const int64_t n = static_cast<int64_t>(end - begin);
      loss_sum += loss * n;
      correct += count_correct(logits, y);
      seen += n;
      const double dt = steady_seconds() - t0;
      progress.update(fmt::format("epoch {}/{} {} {:3.0f}% loss {:.4f} acc {:.2f}% {:.0f} samples/s", epoch, o.epochs,
                                  bar(double(seen) / order.size()), 100.0 * seen / order.size(), loss_sum / seen,
                                  100.0 * correct / seen, seen / dt));
    }
    EpochStats s;
    s.epoch = epoch;
    s.seconds = steady_seconds() - t0;
    s.loss = loss_sum / seen;
    s.train_accuracy = double(correct) / seen;
    s.samples_per_second = seen / s.seconds;
    model.module->set_training(false);
    if (eval_images.defined()) s.eval_accuracy = evaluate_classifier(model, eval_images, eval_labels).accuracy;
    progress.finish(fmt::format("epoch {}/{} loss {:.4f} train acc {:.2f}%{} {:.0f} samples/s ({:.1f} s)", epoch,
                                o.epochs, s.loss, 100 * s.train_accuracy,
                                std::isfinite(s.eval_accuracy) ? fmt::format(" eval acc {:.2f}%", 100 * s.eval_accuracy) : "",
                                s.samples_per_second, s.seconds));
    history.push_back(s);
  }
  model.module->set_training(false);
  return history;
}

EvalResult evaluate_classifier(Model& model, const Tensor& images, const Tensor& labels, int64_t batch_size) {
  TINYOPT_CHECK(images.size(0) == labels.size(0), "eval: {} images but {} labels", images.size(0), labels.size(0));
  model.module->set_training(false);
  EvalResult r;
  const double t0 = steady_seconds();
  double loss_sum = 0;
  int64_t correct = 0;
  const int64_t n = images.size(0);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  for (int64_t begin = 0; begin < n; begin += batch_size) {
    const int64_t end = std::min(n, begin + batch_size);
    Tensor x = gather_rows(images, order, size_t(begin), size_t(end));
    Tensor y = gather_rows(labels, order, size_t(begin), size_t(end));
    Tensor logits = model.forward(x).to(Device::cpu());
    loss_sum += cross_entropy(logits, y, nullptr) * double(end - begin);
    correct += count_correct(logits, y);
  }
  r.seconds = steady_seconds() - t0;
  r.samples = n;
  r.accuracy = n > 0 ? double(correct) / n : 0;
  r.loss = n > 0 ? loss_sum / n : 0;
  return r;
}

namespace {

// Inputs [B, T] and next-token targets [B*T] from windows starting at `starts`.
void make_windows(const Tensor& tokens, const std::vector<int64_t>& starts, int64_t t, Tensor& x, Tensor& y) {
  const int64_t b = static_cast<int64_t>(starts.size());
  x = Tensor::empty({b, t}, DType::i32);
  y = Tensor::empty({b * t}, DType::i32);
  const int32_t* src = tokens.data<int32_t>();
  for (int64_t i = 0; i < b; ++i) {
    std::memcpy(x.data<int32_t>() + i * t, src + starts[i], size_t(t) * 4);
    std::memcpy(y.data<int32_t>() + i * t, src + starts[i] + 1, size_t(t) * 4);
  }
}

}  // namespace

EvalResult evaluate_gpt(Model& model, const Tensor& tokens, int64_t context, int64_t max_windows, int64_t batch_size) {
  GPT& gpt = model.gpt();
  gpt.set_training(false);
  const int64_t t = context > 0 ? context : gpt.config().block_size;
  const int64_t n = tokens.numel();
  TINYOPT_CHECK(n > t, "eval: held-out text has {} tokens, fewer than one window of {}", n, t + 1);
  std::vector<int64_t> starts;
  for (int64_t s = 0; s + t + 1 <= n; s += t) starts.push_back(s);
  if (max_windows > 0 && int64_t(starts.size()) > max_windows) {
    // Evenly spaced subset, deterministic.
    std::vector<int64_t> subset;
    for (int64_t i = 0; i < max_windows; ++i) subset.push_back(starts[size_t(i * int64_t(starts.size()) / max_windows)]);
    starts = subset;
  }
  EvalResult r;
  const double t0 = steady_seconds();
  double loss_sum = 0;
  for (size_t i = 0; i < starts.size(); i += size_t(batch_size)) {
    std::vector<int64_t> batch(starts.begin() + i, starts.begin() + std::min(starts.size(), i + size_t(batch_size)));
    Tensor x, y;
    make_windows(tokens, batch, t, x, y);
    Tensor logits = gpt.forward(x);
    loss_sum += cross_entropy(logits.reshape({x.numel(), gpt.config().vocab_size}), y, nullptr) * double(x.numel());
    r.samples += x.numel();
  }
  r.seconds = steady_seconds() - t0;
  r.loss = loss_sum / double(r.samples);
  return r;
}

std::vector<GPTTrainStats> train_gpt(Model& model, const Tensor& tokens, const Tensor& heldout,
                                     const GPTTrainOptions& o) {
  GPT& gpt = model.gpt();
  const int64_t t = o.context > 0 ? o.context : gpt.config().block_size;
  TINYOPT_CHECK(tokens.numel() > t + 1, "train: corpus has {} tokens, fewer than one window", tokens.numel());
  Rng rng(o.seed);
  AdamW optimizer(gpt.parameters(), o.lr, 0.9, 0.95, 1e-8, o.weight_decay);
  // As nanoGPT: weight decay on 2-D tensors (matrices and embeddings) only, not on biases or norm gains.
  std::vector<Parameter*> no_decay;
  for (Parameter* p : gpt.parameters())
    if (p->value.ndim() < 2) no_decay.push_back(p);
  optimizer.set_no_decay(no_decay);
  std::vector<GPTTrainStats> history;
  Progress progress(o.progress);
  std::uniform_int_distribution<int64_t> pick(0, tokens.numel() - t - 1);
  const double t0 = steady_seconds();
  double recent_loss = 0;
  int64_t recent_count = 0;
  for (int64_t it = 1; it <= o.iterations; ++it) {
    // Linear warm-up, then cosine decay to min_lr.
    double lr = o.lr;
    if (it <= o.warmup) lr = o.lr * double(it) / double(o.warmup);
    else {
      const double progress_frac = double(it - o.warmup) / double(std::max<int64_t>(1, o.iterations - o.warmup));
      lr = o.min_lr + 0.5 * (o.lr - o.min_lr) * (1 + std::cos(M_PI * progress_frac));
    }
    optimizer.set_lr(lr);
    std::vector<int64_t> starts(static_cast<size_t>(o.batch_size));
    for (auto& s : starts) s = pick(rng.engine());
    Tensor x, y;
    make_windows(tokens, starts, t, x, y);
    gpt.set_training(true);
    gpt.zero_grad();
    Tensor logits = gpt.forward(x);
    Tensor dlogits;
    const double loss = cross_entropy(logits.reshape({x.numel(), gpt.config().vocab_size}), y, &dlogits);
    TINYOPT_CHECK(std::isfinite(loss), "train: loss became {} at iteration {}", loss, it);
    gpt.backward(dlogits);
    optimizer.step();
    recent_loss += loss;
    ++recent_count;
    const double elapsed = steady_seconds() - t0;
    progress.update(fmt::format("iter {}/{} {} loss {:.4f} lr {:.2e} {:.0f} tokens/s", it, o.iterations,
                                bar(double(it) / o.iterations), loss, lr, double(it * x.numel()) / elapsed));
    if (it % o.eval_every == 0 || it == o.iterations) {
      GPTTrainStats s;
      s.iteration = it;
      s.train_loss = recent_loss / double(recent_count);
      recent_loss = 0;
      recent_count = 0;
      s.tokens_per_second = double(it * x.numel()) / elapsed;
      if (heldout.defined()) s.heldout_loss = evaluate_gpt(model, heldout, t, 64).loss;
      progress.finish(fmt::format("iter {}/{} train loss {:.4f}{} {:.0f} tokens/s", it, o.iterations, s.train_loss,
                                  s.heldout_loss >= 0 ? fmt::format(" held-out loss {:.4f}", s.heldout_loss) : "",
                                  s.tokens_per_second));
      history.push_back(s);
    }
  }
  gpt.set_training(false);
  return history;
}

}  // namespace tinyopt::nn
