// SparseLinear: a linear layer (y = x W^T + b, W [out, in] as torch.nn.Linear)
// whose weight is stored in CSR and multiplied with the `spmm` op, so the
// zeros a pruned weight carries cost neither memory nor time.
//
// Inference only: backward() throws. Fine-tune the masked dense model (a
// Linear with a mask, see prune/) and convert it with prune::to_sparse().
//
// Model files: layer config {"type": "sparse_linear", "in_features": K,
// "out_features": N, "bias": true} and three tensors per layer next to the
// bias: "<i>.weight.row_ptr" (i32 or i64 [N + 1]), "<i>.weight.col_idx"
// (i32 [nnz]) and "<i>.weight.values" (f32 [nnz]). The CSR structure is
// checked once, when the layer is built or loaded; malformed CSR is an error
// naming the tensor.
#pragma once

#include <map>
#include <string>

#include "nn/module.h"

namespace tinyopt {
class SafetensorsFile;
}

namespace tinyopt::nn {

class SparseLinear : public Module {
 public:
  // An empty (all-zero) weight; fill it with set_dense() or load_tensors().
  SparseLinear(const std::string& name, int64_t in_features, int64_t out_features, bool bias);
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  std::string type() const override { return "sparse_linear"; }
  // The stored values and the bias (what parameter_count() counts).
  void collect_parameters(std::vector<Parameter*>& out) override;

  // Stores the non-zeros of a dense f32 weight [out, in] (row_ptr i32).
  void set_dense(const Tensor& weight);
  // Takes CSR arrays after checking them; `what` names them in errors.
  void set_csr(const Tensor& row_ptr, const Tensor& col_idx, const Tensor& values, const std::string& what);
  // The dense weight [out, in] (zeros where nothing is stored).
  Tensor to_dense() const;

  // Reads "<name>.weight.{row_ptr,col_idx,values}" from a model file (marks them consumed).
  void load_tensors(const SafetensorsFile& file);
  // Adds the CSR arrays and the bias under their file names.
  void add_to_state_dict(std::map<std::string, Tensor>& out) const;

  int64_t in_features() const { return in_; }
  int64_t out_features() const override { return out_; }
  int64_t nnz() const { return values.value.numel(); }
  bool has_bias() const { return has_bias_; }
  const Tensor& row_ptr() const { return row_ptr_; }
  const Tensor& col_idx() const { return col_idx_; }
  const std::string& name() const { return name_; }
  Parameter values, bias;  // values.name = "<name>.weight.values"

 private:
  std::string name_;
  int64_t in_, out_;
  bool has_bias_;
  Tensor row_ptr_, col_idx_;
};

}  // namespace tinyopt::nn
