#include "nn/embedding.h"

#include "core/ops_nn.h"

namespace tinyopt::nn {

Embedding::Embedding(const std::string& name, int64_t num_embeddings, int64_t dim, double init_std, Rng* rng) {
  TINYOPT_CHECK(num_embeddings > 0 && dim > 0, "{}: embedding needs positive sizes, found {}x{}", name, num_embeddings,
                dim);
  weight = {name + ".weight", Tensor::empty({num_embeddings, dim}, DType::f32), {}, {}};
  if (rng) init_normal(weight.value, init_std, *rng);
}

void Embedding::collect_parameters(std::vector<Parameter*>& out) { out.push_back(&weight); }

Tensor Embedding::forward(const Tensor& ids) {
  Tensor in = ids.contiguous();
  EmbeddingArgs args{in, weight.value, Tensor::empty({in.numel(), dim()}, DType::f32, weight.value.device())};
  ops::embedding(args);
  if (training_) ids_ = in;
  std::vector<int64_t> shape = in.shape().to_vector();
  shape.push_back(dim());
  return args.out.reshape(Shape(shape));
}

Tensor Embedding::backward(const Tensor& dy) {
  TINYOPT_CHECK(ids_.defined(), "{}: backward called without a training-mode forward", weight.name);
  EmbeddingBackwardArgs args{ids_, dy.contiguous().reshape({ids_.numel(), dim()}),
                             Tensor::empty(weight.value.shape(), DType::f32, dy.device())};
  ops::embedding_backward(args);
  accumulate(weight.grad, args.dtable);
  return Tensor();
}

}  // namespace tinyopt::nn
