// Attaches each catalogue op's cost formula (kernels/*.h, the same ones the
// conformance perf mode reads) to its Op object, so the dispatcher can hand
// FLOPs and bytes to the profiler with every call. Called once from
// register_backends(); an op added to the catalogue gets its line here.
#include "core/ops.h"
#include "core/ops_nn.h"
#include "core/ops_quant.h"
#include "kernels/activations.h"
#include "kernels/attention.h"
#include "kernels/attention_decode.h"
#include "kernels/bias.h"
#include "kernels/conv2d.h"
#include "kernels/elementwise.h"
#include "kernels/embedding.h"
#include "kernels/layernorm.h"
#include "kernels/matmul.h"
#include "kernels/pool.h"
#include "kernels/quant.h"
#include "kernels/relu_backward.h"
#include "kernels/softmax.h"

namespace tinyopt {

namespace {

namespace k = kernels;

size_t esize(const Tensor& t) { return dtype_size(t.dtype()); }
int64_t rows_of(const Tensor& x) { return x.size(-1) > 0 ? x.numel() / x.size(-1) : 0; }

k::Conv2dDims conv_dims(const Tensor& x, const Tensor& w, const Conv2dGeometry& g) {
  return k::conv2d_dims(x.size(0), x.size(1), x.size(2), x.size(3), w.size(0), w.size(2), w.size(3), g.stride_h,
                        g.stride_w, g.pad_h, g.pad_w);
}

// One cost function per argument struct and op; each is a one-line mapping
// from tensor shapes to the formula's parameters.
OpCost matmul_cost(const MatmulArgs& a) { return k::matmul_cost(a.m(), a.n(), a.k(), esize(a.c)); }
OpCost add_cost(const BinaryArgs& a) { return k::add_cost(a.out.numel(), esize(a.out)); }
OpCost relu_cost(const UnaryArgs& a) { return k::relu_cost(a.out.numel(), esize(a.out)); }
OpCost gelu_cost(const UnaryArgs& a) { return k::gelu_cost(a.out.numel(), esize(a.out)); }
OpCost conv2d_cost(const Conv2dArgs& a) { return k::conv2d_cost(conv_dims(a.x, a.w, a.g), a.bias.defined()); }
OpCost conv2d_backward_cost(const Conv2dBackwardArgs& a) {
  return k::conv2d_backward_cost(conv_dims(a.x, a.w, a.g), a.dx.defined(), a.db.defined());
}
OpCost maxpool2d_cost(const MaxPool2dArgs& a) {
  return k::maxpool2d_cost(a.x.size(0) * a.x.size(1), a.x.size(2), a.x.size(3), a.y.size(2), a.y.size(3), a.kernel,
                           a.argmax.defined());
}
OpCost maxpool2d_backward_cost(const MaxPool2dBackwardArgs& a) {
  return k::maxpool2d_backward_cost(a.dx.size(0) * a.dx.size(1), a.dx.size(2), a.dx.size(3), a.dy.size(2),
                                    a.dy.size(3));
}
OpCost bias_add_cost(const BiasAddArgs& a) { return k::bias_add_cost(rows_of(a.x), a.x.size(-1), esize(a.x)); }
OpCost sum_rows_cost(const SumRowsArgs& a) { return k::sum_rows_cost(rows_of(a.x), a.x.size(-1), esize(a.x)); }
OpCost relu_backward_cost(const ActivationBackwardArgs& a) { return k::relu_backward_cost(a.dx.numel(), esize(a.dx)); }
OpCost gelu_backward_cost(const ActivationBackwardArgs& a) { return k::gelu_backward_cost(a.dx.numel(), esize(a.dx)); }
OpCost softmax_cost(const SoftmaxArgs& a) { return k::softmax_cost(rows_of(a.x), a.x.size(-1)); }
OpCost cross_entropy_cost(const CrossEntropyArgs& a) {
  return k::cross_entropy_cost(a.logits.size(0), a.logits.size(1), a.dlogits.defined(), esize(a.targets));
}
OpCost layernorm_cost(const LayerNormArgs& a) { return k::layernorm_cost(rows_of(a.x), a.x.size(-1)); }
OpCost layernorm_backward_cost(const LayerNormBackwardArgs& a) {
  return k::layernorm_backward_cost(rows_of(a.x), a.x.size(-1));
}
OpCost embedding_cost(const EmbeddingArgs& a) {
  return k::embedding_cost(a.ids.numel(), a.table.size(1), esize(a.ids));
}
OpCost embedding_backward_cost(const EmbeddingBackwardArgs& a) {
  return k::embedding_backward_cost(a.ids.numel(), a.dtable.size(0), a.dtable.size(1), esize(a.ids));
}
OpCost attention_cost(const AttentionArgs& a) {
  return k::attention_cost(a.qkv.size(0), a.qkv.size(1), a.qkv.size(2) / 3, a.n_head, a.probs.defined());
}
OpCost attention_backward_cost(const AttentionBackwardArgs& a) {
  return k::attention_backward_cost(a.qkv.size(0), a.qkv.size(1), a.qkv.size(2) / 3, a.n_head);
}
OpCost attention_decode_cost(const AttentionDecodeArgs& a) {
  return k::attention_decode_cost(a.q.size(0), a.q.size(1), a.q.size(2), a.length);
}

OpCost qgemm_cost(const QGemmArgs& a) {
  return k::qgemm_cost(a.m(), a.n(), a.k(), a.bias.defined(), esize(a.y));
}
OpCost qconv2d_cost(const QConv2dArgs& a) {
  return k::qconv2d_cost(conv_dims(a.x, a.w, a.g), a.bias.defined(), esize(a.y), a.pool);
}
OpCost quantize_cost(const QuantizeArgs& a) { return k::quantize_cost(a.x.numel()); }
OpCost dequantize_cost(const DequantizeArgs& a) { return k::dequantize_cost(a.x.numel()); }

}  // namespace

void register_op_costs() {
  ops::matmul.set_cost(matmul_cost);
  ops::add.set_cost(add_cost);
  ops::relu.set_cost(relu_cost);
  ops::conv2d.set_cost(conv2d_cost);
  ops::conv2d_backward.set_cost(conv2d_backward_cost);
  ops::maxpool2d.set_cost(maxpool2d_cost);
  ops::maxpool2d_backward.set_cost(maxpool2d_backward_cost);
  ops::bias_add.set_cost(bias_add_cost);
  ops::sum_rows.set_cost(sum_rows_cost);
  ops::relu_backward.set_cost(relu_backward_cost);
  ops::gelu.set_cost(gelu_cost);
  ops::gelu_backward.set_cost(gelu_backward_cost);
  ops::softmax.set_cost(softmax_cost);
  ops::cross_entropy.set_cost(cross_entropy_cost);
  ops::layernorm.set_cost(layernorm_cost);
  ops::layernorm_backward.set_cost(layernorm_backward_cost);
  ops::embedding.set_cost(embedding_cost);
  ops::embedding_backward.set_cost(embedding_backward_cost);
  ops::attention.set_cost(attention_cost);
  ops::attention_backward.set_cost(attention_backward_cost);
  ops::attention_decode.set_cost(attention_decode_cost);
  ops::qgemm.set_cost(qgemm_cost);
  ops::qconv2d.set_cost(qconv2d_cost);
  ops::quantize.set_cost(quantize_cost);
  ops::dequantize.set_cost(dequantize_cost);
}

}  // namespace tinyopt
