#include "core/ops_nn.h"

#include "core/error.h"

namespace tinyopt {

namespace ops {
Op<Conv2dArgs> conv2d{"conv2d"};
Op<Conv2dBackwardArgs> conv2d_backward{"conv2d_backward"};
Op<MaxPool2dArgs> maxpool2d{"maxpool2d"};
Op<MaxPool2dBackwardArgs> maxpool2d_backward{"maxpool2d_backward"};
Op<BiasAddArgs> bias_add{"bias_add"};
Op<SumRowsArgs> sum_rows{"sum_rows"};
Op<ActivationBackwardArgs> relu_backward{"relu_backward"};
Op<UnaryArgs> gelu{"gelu"};
Op<ActivationBackwardArgs> gelu_backward{"gelu_backward"};
Op<SoftmaxArgs> softmax{"softmax"};
Op<CrossEntropyArgs> cross_entropy{"cross_entropy"};
Op<LayerNormArgs> layernorm{"layernorm"};
Op<LayerNormBackwardArgs> layernorm_backward{"layernorm_backward"};
Op<EmbeddingArgs> embedding{"embedding"};
Op<EmbeddingBackwardArgs> embedding_backward{"embedding_backward"};
Op<AttentionArgs> attention{"attention"};
Op<AttentionBackwardArgs> attention_backward{"attention_backward"};
Op<AttentionDecodeArgs> attention_decode{"attention_decode"};
}  // namespace ops

namespace {

// Small checks shared by every validate(): each names the op and the tensor.
void need(const Tensor& t, const char* op, const char* name) {
  TINYOPT_CHECK(t.defined(), "{}: tensor '{}' is undefined", op, name);
}
void need_f32(const Tensor& t, const char* op, const char* name) {
  need(t, op, name);
  TINYOPT_CHECK(t.dtype() == DType::f32, "{}: '{}' must be f32, found {}", op, name, t.describe());
}
void need_shape(const Tensor& t, const Shape& shape, const char* op, const char* name) {
  TINYOPT_CHECK(t.shape() == shape, "{}: '{}' must have shape {}, found {}", op, name, shape.str(), t.describe());
}
void need_rank(const Tensor& t, int rank, const char* op, const char* name) {
  TINYOPT_CHECK(t.ndim() == rank, "{}: '{}' must be {}-D, found {}", op, name, rank, t.describe());
}
void need_index(const Tensor& t, const char* op, const char* name) {
  need(t, op, name);
  TINYOPT_CHECK(t.dtype() == DType::i32 || t.dtype() == DType::i64, "{}: '{}' must be i32 or i64, found {}", op, name,
                t.describe());
}
void same_device(const Tensor& a, const Tensor& b, const char* op) {
  if (a.defined() && b.defined()) check_same_device(a, b, op);
}
std::string list(std::initializer_list<const Tensor*> ts) {
  std::string s;
  for (const Tensor* t : ts) {
    if (!s.empty()) s += ", ";
    s += t->describe();
  }
  return s;
}

}  // namespace

int64_t Conv2dGeometry::out_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad) {
  TINYOPT_CHECK(stride >= 1 && pad >= 0 && kernel >= 1, "conv/pool: invalid kernel {} stride {} padding {}", kernel,
                stride, pad);
  const int64_t span = in + 2 * pad - kernel;
  TINYOPT_CHECK(span >= 0, "conv/pool: kernel {} does not fit input size {} with padding {}", kernel, in, pad);
  return span / stride + 1;
}

void Conv2dArgs::validate() const {
  const char* op = "conv2d";
  need_f32(x, op, "x"); need_f32(w, op, "w"); need_f32(y, op, "y");
  need_rank(x, 4, op, "x"); need_rank(w, 4, op, "w"); need_rank(y, 4, op, "y");
  TINYOPT_CHECK(w.size(1) == x.size(1), "conv2d: weight {} expects {} input channels, input is {}", w.describe(),
                w.size(1), x.describe());
  const int64_t oh = Conv2dGeometry::out_size(x.size(2), w.size(2), g.stride_h, g.pad_h);
  const int64_t ow = Conv2dGeometry::out_size(x.size(3), w.size(3), g.stride_w, g.pad_w);
  need_shape(y, {x.size(0), w.size(0), oh, ow}, op, "y");
  if (bias.defined()) {
    need_f32(bias, op, "bias");
    need_shape(bias, {w.size(0)}, op, "bias");
  }
  same_device(x, w, op); same_device(x, y, op); same_device(x, bias, op);
}
std::string Conv2dArgs::describe() const {
  return fmt::format("x {} w {} stride {}x{} pad {}x{}", x.describe(), w.describe(), g.stride_h, g.stride_w, g.pad_h,
                     g.pad_w);
}

void Conv2dBackwardArgs::validate() const {
  Tensor y_like = dy;
  Conv2dArgs fwd{x, w, Tensor(), y_like, g};
  fwd.validate();
  const char* op = "conv2d_backward";
  if (dx.defined()) { need_f32(dx, op, "dx"); need_shape(dx, x.shape(), op, "dx"); }
  need_f32(dw, op, "dw"); need_shape(dw, w.shape(), op, "dw");
  if (db.defined()) { need_f32(db, op, "db"); need_shape(db, {w.size(0)}, op, "db"); }
  same_device(x, dx, op); same_device(x, dw, op); same_device(x, db, op);
}
std::string Conv2dBackwardArgs::describe() const { return "dy " + dy.describe() + " for " + Conv2dArgs{x, w, Tensor(), dy, g}.describe(); }

void MaxPool2dArgs::validate() const {
  const char* op = "maxpool2d";
  // f32, or u8 for quantized CNNs (max commutes with the monotone quantization map).
  need(x, op, "x"); need(y, op, "y");
  TINYOPT_CHECK(x.dtype() == DType::f32 || x.dtype() == DType::u8, "maxpool2d: 'x' must be f32 or u8, found {}",
                x.describe());
  TINYOPT_CHECK(y.dtype() == x.dtype(), "maxpool2d: 'y' must be {} like x, found {}", dtype_name(x.dtype()),
                y.describe());
  need_rank(x, 4, op, "x");
  TINYOPT_CHECK(pad * 2 <= kernel, "maxpool2d: padding {} must be at most half the kernel {}", pad, kernel);
  const int64_t oh = Conv2dGeometry::out_size(x.size(2), kernel, stride, pad);
  const int64_t ow = Conv2dGeometry::out_size(x.size(3), kernel, stride, pad);
  need_shape(y, {x.size(0), x.size(1), oh, ow}, op, "y");
  if (argmax.defined()) {
    TINYOPT_CHECK(argmax.dtype() == DType::i32, "maxpool2d: argmax must be i32, found {}", argmax.describe());
    need_shape(argmax, y.shape(), op, "argmax");
  }
  same_device(x, y, op); same_device(x, argmax, op);
}
std::string MaxPool2dArgs::describe() const {
  return fmt::format("x {} kernel {} stride {} pad {}", x.describe(), kernel, stride, pad);
}

void MaxPool2dBackwardArgs::validate() const {
  const char* op = "maxpool2d_backward";
  need_f32(dy, op, "dy"); need_f32(dx, op, "dx"); need(argmax, op, "argmax");
  need_rank(dy, 4, op, "dy"); need_rank(dx, 4, op, "dx");
  TINYOPT_CHECK(argmax.dtype() == DType::i32, "maxpool2d_backward: argmax must be i32, found {}", argmax.describe());
  need_shape(argmax, dy.shape(), op, "argmax");
  TINYOPT_CHECK(dx.size(0) == dy.size(0) && dx.size(1) == dy.size(1), "maxpool2d_backward: dx {} and dy {} differ in N or C",
                dx.describe(), dy.describe());
  same_device(dy, dx, op); same_device(dy, argmax, op);
}
std::string MaxPool2dBackwardArgs::describe() const { return list({&dy, &argmax, &dx}); }

void BiasAddArgs::validate() const {
  const char* op = "bias_add";
  need_f32(x, op, "x"); need_f32(bias, op, "bias"); need_f32(out, op, "out");
  TINYOPT_CHECK(x.ndim() >= 1, "bias_add: x must have at least one dimension");
  need_shape(bias, {x.size(-1)}, op, "bias");
  need_shape(out, x.shape(), op, "out");
  same_device(x, bias, op); same_device(x, out, op);
}
std::string BiasAddArgs::describe() const { return list({&x, &bias, &out}); }

void SumRowsArgs::validate() const {
  const char* op = "sum_rows";
  need_f32(x, op, "x"); need_f32(out, op, "out");
  TINYOPT_CHECK(x.ndim() >= 1, "sum_rows: x must have at least one dimension");
  need_shape(out, {x.size(-1)}, op, "out");
  same_device(x, out, op);
}
std::string SumRowsArgs::describe() const { return list({&x, &out}); }

void ActivationBackwardArgs::validate() const {
  const char* op = "activation_backward";
  need_f32(x, op, "x"); need_f32(dy, op, "dy"); need_f32(dx, op, "dx");
  need_shape(dy, x.shape(), op, "dy"); need_shape(dx, x.shape(), op, "dx");
  same_device(x, dy, op); same_device(x, dx, op);
}
std::string ActivationBackwardArgs::describe() const { return list({&x, &dy, &dx}); }

void SoftmaxArgs::validate() const {
  const char* op = "softmax";
  need_f32(x, op, "x"); need_f32(y, op, "y");
  TINYOPT_CHECK(x.ndim() >= 1, "softmax: x must have at least one dimension");
  need_shape(y, x.shape(), op, "y");
  same_device(x, y, op);
}
std::string SoftmaxArgs::describe() const { return list({&x, &y}); }

void CrossEntropyArgs::validate() const {
  const char* op = "cross_entropy";
  need_f32(logits, op, "logits"); need_rank(logits, 2, op, "logits");
  need_index(targets, op, "targets"); need_shape(targets, {logits.size(0)}, op, "targets");
  need_f32(loss, op, "loss"); need_shape(loss, {1}, op, "loss");
  TINYOPT_CHECK(logits.size(0) > 0, "cross_entropy: empty batch {}", logits.describe());
  if (dlogits.defined()) { need_f32(dlogits, op, "dlogits"); need_shape(dlogits, logits.shape(), op, "dlogits"); }
  same_device(logits, targets, op); same_device(logits, loss, op); same_device(logits, dlogits, op);
}
std::string CrossEntropyArgs::describe() const { return list({&logits, &targets}); }

void LayerNormArgs::validate() const {
  const char* op = "layernorm";
  need_f32(x, op, "x"); need_f32(gamma, op, "gamma"); need_f32(beta, op, "beta"); need_f32(y, op, "y");
  TINYOPT_CHECK(x.ndim() >= 1, "layernorm: x must have at least one dimension");
  const int64_t d = x.size(-1);
  need_shape(gamma, {d}, op, "gamma"); need_shape(beta, {d}, op, "beta"); need_shape(y, x.shape(), op, "y");
  const int64_t rows = d == 0 ? 0 : x.numel() / d;
  if (mean.defined()) { need_f32(mean, op, "mean"); need_shape(mean, {rows}, op, "mean"); }
  if (rstd.defined()) { need_f32(rstd, op, "rstd"); need_shape(rstd, {rows}, op, "rstd"); }
  TINYOPT_CHECK(eps > 0, "layernorm: eps must be positive, found {}", eps);
  same_device(x, gamma, op); same_device(x, beta, op); same_device(x, y, op);
}
std::string LayerNormArgs::describe() const { return list({&x, &gamma}); }

void LayerNormBackwardArgs::validate() const {
  const char* op = "layernorm_backward";
  need_f32(x, op, "x"); need_f32(gamma, op, "gamma"); need_f32(mean, op, "mean"); need_f32(rstd, op, "rstd");
  need_f32(dy, op, "dy"); need_f32(dx, op, "dx"); need_f32(dgamma, op, "dgamma"); need_f32(dbeta, op, "dbeta");
  TINYOPT_CHECK(x.ndim() >= 1, "layernorm_backward: x must have at least one dimension");
  const int64_t d = x.size(-1);
  const int64_t rows = d == 0 ? 0 : x.numel() / d;
  need_shape(gamma, {d}, op, "gamma"); need_shape(mean, {rows}, op, "mean"); need_shape(rstd, {rows}, op, "rstd");
  need_shape(dy, x.shape(), op, "dy"); need_shape(dx, x.shape(), op, "dx");
  need_shape(dgamma, {d}, op, "dgamma"); need_shape(dbeta, {d}, op, "dbeta");
  same_device(x, dy, op); same_device(x, dx, op);
}
std::string LayerNormBackwardArgs::describe() const { return list({&x, &dy}); }

void EmbeddingArgs::validate() const {
  const char* op = "embedding";
  need_index(ids, op, "ids"); need_f32(table, op, "table"); need_f32(out, op, "out");
  need_rank(table, 2, op, "table");
  need_shape(out, {ids.numel(), table.size(1)}, op, "out");
  same_device(ids, table, op); same_device(ids, out, op);
}
std::string EmbeddingArgs::describe() const { return list({&ids, &table}); }

void EmbeddingBackwardArgs::validate() const {
  const char* op = "embedding_backward";
  need_index(ids, op, "ids"); need_f32(dout, op, "dout"); need_f32(dtable, op, "dtable");
  need_rank(dtable, 2, op, "dtable");
  need_shape(dout, {ids.numel(), dtable.size(1)}, op, "dout");
  same_device(ids, dout, op); same_device(ids, dtable, op);
}
std::string EmbeddingBackwardArgs::describe() const { return list({&ids, &dout, &dtable}); }

void AttentionArgs::validate() const {
  const char* op = "attention";
  need_f32(qkv, op, "qkv"); need_f32(out, op, "out"); need_rank(qkv, 3, op, "qkv");
  TINYOPT_CHECK(qkv.size(2) % 3 == 0, "attention: qkv {} last dim must be 3*C", qkv.describe());
  const int64_t c = qkv.size(2) / 3;
  TINYOPT_CHECK(n_head >= 1 && c % n_head == 0, "attention: C={} is not divisible by n_head={}", c, n_head);
  need_shape(out, {qkv.size(0), qkv.size(1), c}, op, "out");
  if (probs.defined()) {
    need_f32(probs, op, "probs");
    need_shape(probs, {qkv.size(0), n_head, qkv.size(1), qkv.size(1)}, op, "probs");
  }
  same_device(qkv, out, op); same_device(qkv, probs, op);
}
std::string AttentionArgs::describe() const {
  return fmt::format("qkv {} n_head {}", qkv.describe(), n_head);
}

void AttentionBackwardArgs::validate() const {
  Tensor out_like = dout;
  AttentionArgs fwd{qkv, out_like, probs, n_head};
  need(probs, "attention_backward", "probs");
  fwd.validate();
  need_f32(dqkv, "attention_backward", "dqkv");
  need_shape(dqkv, qkv.shape(), "attention_backward", "dqkv");
  same_device(qkv, dqkv, "attention_backward");
}
std::string AttentionBackwardArgs::describe() const {
  return fmt::format("qkv {} dout {} n_head {}", qkv.describe(), dout.describe(), n_head);
}


void AttentionDecodeArgs::validate() const {
  const char* op = "attention_decode";
  need_f32(q, op, "q"); need_f32(k_cache, op, "k_cache"); need_f32(v_cache, op, "v_cache"); need_f32(out, op, "out");
  need_rank(q, 3, op, "q"); need_rank(k_cache, 4, op, "k_cache");
  need_shape(v_cache, k_cache.shape(), op, "v_cache");
  need_shape(q, {k_cache.size(0), k_cache.size(1), k_cache.size(3)}, op, "q");
  need_shape(out, q.shape(), op, "out");
  TINYOPT_CHECK(length >= 1 && length <= k_cache.size(2), "attention_decode: length {} must be in 1..{} (cache {})",
                length, k_cache.size(2), k_cache.describe());
  TINYOPT_CHECK(q.is_contiguous() && k_cache.is_contiguous() && v_cache.is_contiguous() && out.is_contiguous(),
                "attention_decode: tensors must be contiguous ({})", describe());
  same_device(q, k_cache, op); same_device(q, v_cache, op); same_device(q, out, op);
}
std::string AttentionDecodeArgs::describe() const {
  return fmt::format("q {} cache {} length {}", q.describe(), k_cache.describe(), length);
}

}  // namespace tinyopt
