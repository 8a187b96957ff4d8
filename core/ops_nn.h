// Neural-network ops of the catalogue (forward and backward), used by nn/.
// Layouts follow PyTorch: activations NCHW, conv weights [O, C, KH, KW],
// linear weights [out, in]; the transformer's fused qkv is [B, T, 3*C] as
// produced by nanoGPT's c_attn. All f32 and contiguous unless noted. An
// optional tensor is left undefined (Tensor()) when not wanted.
#pragma once

#include <string>

#include "core/op.h"
#include "core/ops.h"
#include "core/tensor.h"

namespace tinyopt {

struct Conv2dGeometry {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  // Output size of one spatial dim; throws when the kernel does not fit.
  static int64_t out_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad);
};

// y[N,O,OH,OW] = conv(x[N,C,H,W], w[O,C,KH,KW]) + bias[O] (bias optional).
struct Conv2dArgs {
  Tensor x, w, bias, y;
  Conv2dGeometry g;
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) { f(x, false); f(w, false); if (bias.defined()) f(bias, false); f(y, true); }
};

// Gradients of conv2d: dx (optional), dw, db (optional) from x, w, dy. Outputs are overwritten.
struct Conv2dBackwardArgs {
  Tensor x, w, dy, dx, dw, db;
  Conv2dGeometry g;
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) {
    f(x, false); f(w, false); f(dy, false);
    if (dx.defined()) f(dx, true);
    f(dw, true);
    if (db.defined()) f(db, true);
  }
};

// y = max over kernel windows of x (padding never wins: it is -inf); x and y
// are f32, or both u8 (quantized CNNs pool in u8 with the input's scale and zero point);
// argmax (optional, i32, same shape as y) holds the flat index h*W+w within
// each (n, c) plane of the winning input, for the backward pass.
struct MaxPool2dArgs {
  Tensor x, y, argmax;
  int64_t kernel = 2, stride = 2, pad = 0;
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) { f(x, false); f(y, true); if (argmax.defined()) f(argmax, true); }
};

// dx (overwritten) = scatter of dy to the argmax positions.
struct MaxPool2dBackwardArgs {
  Tensor dy, argmax, dx;
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) { f(dy, false); f(argmax, false); f(dx, true); }
};

// out[r, c] = x[r, c] + bias[c] for x viewed as [rows, cols] (cols = last dim).
struct BiasAddArgs {
  Tensor x, bias, out;
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) { f(x, false); f(bias, false); f(out, true); }
};

// out[c] = sum over rows of x[r, c] (x viewed as [rows, last dim]): bias gradients.
struct SumRowsArgs {
  Tensor x, out;
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) { f(x, false); f(out, true); }
};

// Backward of an elementwise activation: dx = f'(x) * dy (relu, gelu).
struct ActivationBackwardArgs {
  Tensor x, dy, dx;
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) { f(x, false); f(dy, false); f(dx, true); }
};

// Softmax over the last dimension (numerically stable: max subtracted).
struct SoftmaxArgs {
  Tensor x, y;
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) { f(x, false); f(y, true); }
};

// Mean cross-entropy of logits [N, K] against integer targets [N] (i32 or
// i64, each in [0, K)), via log-softmax. loss is [1]; dlogits (optional,
// [N, K]) receives d(loss)/d(logits) = (softmax - onehot) / N.
struct CrossEntropyArgs {
  Tensor logits, targets, loss, dlogits;
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) {
    f(logits, false); f(targets, false); f(loss, true);
    if (dlogits.defined()) f(dlogits, true);
  }
};

// LayerNorm over the last dim D of x [rows, D]: y = (x - mean) * rstd * gamma + beta.
// mean and rstd ([rows]) are optional outputs saved for the backward pass.
struct LayerNormArgs {
  Tensor x, gamma, beta, y, mean, rstd;
  float eps = 1e-5f;
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) {
    f(x, false); f(gamma, false); f(beta, false); f(y, true);
    if (mean.defined()) f(mean, true);
    if (rstd.defined()) f(rstd, true);
  }
};

// Gradients of layernorm (outputs overwritten): dx, dgamma, dbeta.
struct LayerNormBackwardArgs {
  Tensor x, gamma, mean, rstd, dy, dx, dgamma, dbeta;
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) {
    f(x, false); f(gamma, false); f(mean, false); f(rstd, false); f(dy, false);
    f(dx, true); f(dgamma, true); f(dbeta, true);
  }
};

// out[i, :] = table[ids[i], :]; ids i32 or i64 of any shape (flattened), each in [0, V).
struct EmbeddingArgs {
  Tensor ids, table, out;
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) { f(ids, false); f(table, false); f(out, true); }
};

// dtable (overwritten) = scatter-add of dout rows to the ids' rows.
struct EmbeddingBackwardArgs {
  Tensor ids, dout, dtable;
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) { f(ids, false); f(dout, false); f(dtable, true); }
};

// Causal multi-head self-attention core on nanoGPT's fused layout:
// qkv [B, T, 3C] holds q | k | v, each split into n_head heads of C/n_head;
// out [B, T, C] = concat over heads of softmax(q k^T / sqrt(hd), causal) v.
// probs (optional, [B, H, T, T]) saves the attention weights for backward.
struct AttentionArgs {
  Tensor qkv, out, probs;
  int64_t n_head = 1;
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) { f(qkv, false); f(out, true); if (probs.defined()) f(probs, true); }
};

// dqkv (overwritten, [B, T, 3C]) from qkv, the saved probs and dout.
struct AttentionBackwardArgs {
  Tensor qkv, probs, dout, dqkv;
  int64_t n_head = 1;
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) { f(qkv, false); f(probs, false); f(dout, false); f(dqkv, true); }
};

// One decode step of attention against a KV cache (HuggingFace layout):
// q [B, H, hd] is the new token's query per head, k_cache and v_cache are
// [B, H, S_max, hd] with positions 0 .. length-1 filled (the new token's own
// k/v already written at length-1), out [B, H, hd] (= [B, 1, C] in memory)
// = softmax(q k^T / sqrt(hd)) v over those `length` positions.
struct AttentionDecodeArgs {
  Tensor q, k_cache, v_cache, out;
  int64_t length = 1;
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) { f(q, false); f(k_cache, false); f(v_cache, false); f(out, true); }
};

namespace ops {
extern Op<Conv2dArgs> conv2d;
extern Op<Conv2dBackwardArgs> conv2d_backward;
extern Op<MaxPool2dArgs> maxpool2d;
extern Op<MaxPool2dBackwardArgs> maxpool2d_backward;
extern Op<BiasAddArgs> bias_add;
extern Op<SumRowsArgs> sum_rows;
extern Op<ActivationBackwardArgs> relu_backward;
extern Op<UnaryArgs> gelu;
extern Op<ActivationBackwardArgs> gelu_backward;
extern Op<SoftmaxArgs> softmax;
extern Op<CrossEntropyArgs> cross_entropy;
extern Op<LayerNormArgs> layernorm;
extern Op<LayerNormBackwardArgs> layernorm_backward;
extern Op<EmbeddingArgs> embedding;
extern Op<EmbeddingBackwardArgs> embedding_backward;
extern Op<AttentionArgs> attention;
extern Op<AttentionBackwardArgs> attention_backward;
extern Op<AttentionDecodeArgs> attention_decode;
}  // namespace ops

}  // namespace tinyopt
