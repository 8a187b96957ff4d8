#include "nn/sparse_linear.h"

#include <vector>

#include "core/ops_sparse.h"
#include "io/safetensors.h"

namespace tinyopt::nn {

SparseLinear::SparseLinear(const std::string& name, int64_t in_features, int64_t out_features, bool bias)
    : name_(name), in_(in_features), out_(out_features), has_bias_(bias) {
  TINYOPT_CHECK(in_features > 0 && out_features > 0, "{}: sparse linear layer needs positive sizes, found in={} out={}",
                name, in_features, out_features);
  TINYOPT_CHECK(in_features <= INT32_MAX, "{}: in_features {} does not fit i32 column indices", name, in_features);
  row_ptr_ = Tensor::zeros({out_features + 1}, DType::i32);
  col_idx_ = Tensor::empty({0}, DType::i32);
  values = {name + ".weight.values", Tensor::empty({0}, DType::f32), {}, {}};
  if (has_bias_) this->bias = {name + ".bias", Tensor::zeros({out_features}, DType::f32), {}, {}};
}

void SparseLinear::collect_parameters(std::vector<Parameter*>& out) {
  out.push_back(&values);
  if (has_bias_) out.push_back(&bias);
}

void SparseLinear::set_dense(const Tensor& weight) {
  TINYOPT_CHECK(weight.dtype() == DType::f32 && weight.ndim() == 2 && weight.size(0) == out_ && weight.size(1) == in_,
                "{}: dense weight must be f32 [{}, {}], found {}", name_, out_, in_, weight.describe());
  const Tensor w = weight.to(Device::cpu()).contiguous();
  const float* p = w.data<float>();
  int64_t nnz = 0;
  for (int64_t i = 0; i < w.numel(); ++i) nnz += p[i] != 0.0f;
  TINYOPT_CHECK(nnz <= INT32_MAX, "{}: {} stored weights overflow i32 row offsets", name_, nnz);
  Tensor rp = Tensor::empty({out_ + 1}, DType::i32), ci = Tensor::empty({nnz}, DType::i32),
         v = Tensor::empty({nnz}, DType::f32);
  int32_t* rpp = rp.data<int32_t>();
  int32_t* cip = ci.data<int32_t>();
  float* vp = v.data<float>();
  int64_t j = 0;
  rpp[0] = 0;
  for (int64_t r = 0; r < out_; ++r) {
    for (int64_t c = 0; c < in_; ++c) {
      const float x = p[r * in_ + c];
      if (x == 0.0f) continue;
      cip[j] = static_cast<int32_t>(c);
      vp[j] = x;
      ++j;
    }
    rpp[r + 1] = static_cast<int32_t>(j);
  }
  row_ptr_ = rp;
  col_idx_ = ci;
  values.value = v;
  values.grad = Tensor();
}

void SparseLinear::set_csr(const Tensor& row_ptr, const Tensor& col_idx, const Tensor& vals, const std::string& what) {
  validate_csr(row_ptr, col_idx, out_, in_, what);
  TINYOPT_CHECK(vals.dtype() == DType::f32 && vals.ndim() == 1 && vals.numel() == col_idx.numel(),
                "{}: CSR values must be f32 [{}] (one per column index), found {}", what, col_idx.numel(),
                vals.describe());
  row_ptr_ = row_ptr.to(Device::cpu()).contiguous().clone();
  col_idx_ = col_idx.to(Device::cpu()).contiguous().clone();
  values.value = vals.to(Device::cpu()).contiguous().clone();
  values.grad = Tensor();
}

Tensor SparseLinear::to_dense() const {
  Tensor w = Tensor::zeros({out_, in_}, DType::f32);
  float* p = w.data<float>();
  const int32_t* ci = col_idx_.data<int32_t>();
  const float* v = values.value.data<float>();
  for (int64_t r = 0; r < out_; ++r) {
    const int64_t begin = row_ptr_.dtype() == DType::i32 ? row_ptr_.data<int32_t>()[r] : row_ptr_.data<int64_t>()[r];
    const int64_t end =
        row_ptr_.dtype() == DType::i32 ? row_ptr_.data<int32_t>()[r + 1] : row_ptr_.data<int64_t>()[r + 1];
    for (int64_t j = begin; j < end; ++j) p[r * in_ + ci[j]] = v[j];
  }
  return w;
}

Tensor SparseLinear::forward(const Tensor& x) {
  TINYOPT_CHECK(x.ndim() >= 1 && x.size(-1) == in_, "{}: expected input [..., {}], found {}", name_, in_,
                x.describe());
  const int64_t rows = x.numel() / in_;
  Tensor x2 = x.contiguous().reshape({rows, in_});
  const Device d = x.device();
  // The structure was checked when it was set (set_dense builds it valid, set_csr validates).
  Tensor y = spmm(x2, row_ptr_.to(d), col_idx_.to(d), values.value.to(d), has_bias_ ? bias.value.to(d) : Tensor(),
                  out_, /*structure_checked=*/true);
  Shape out_shape = x.shape();
  out_shape[out_shape.size() - 1] = out_;
  return y.reshape(out_shape);
}

Tensor SparseLinear::backward(const Tensor&) {
  fail("{}: a sparse_linear layer has no backward pass; fine-tune the masked dense model instead "
       "(tinyopt prune --finetune-epochs E), then convert it to sparse",
       name_);
}

void SparseLinear::load_tensors(const SafetensorsFile& file) {
  const std::string base = name_ + ".weight.";
  const Tensor& rp = file.get(base + "row_ptr");
  const Tensor& ci = file.get(base + "col_idx");
  const Tensor& v = file.get(base + "values");
  const std::string where = file.path + ": " + base + "{row_ptr,col_idx,values}";
  TINYOPT_CHECK(rp.dtype() == DType::i32 || rp.dtype() == DType::i64, "{}: tensor '{}' must be I32 or I64, found {}",
                file.path, base + "row_ptr", rp.describe());
  TINYOPT_CHECK(rp.ndim() == 1 && rp.size(0) == out_ + 1,
                "{}: tensor '{}' must have shape [{}] (out_features + 1), found {}", file.path, base + "row_ptr",
                out_ + 1, rp.describe());
  TINYOPT_CHECK(ci.dtype() == DType::i32 && ci.ndim() == 1, "{}: tensor '{}' must be I32 [nnz], found {}", file.path,
                base + "col_idx", ci.describe());
  TINYOPT_CHECK(v.dtype() == DType::f32 && v.ndim() == 1 && v.numel() == ci.numel(),
                "{}: tensor '{}' must be F32 [{}] (one value per column index), found {}", file.path, base + "values",
                ci.numel(), v.describe());
  set_csr(rp, ci, v, where);
}

void SparseLinear::add_to_state_dict(std::map<std::string, Tensor>& out) const {
  out[name_ + ".weight.row_ptr"] = row_ptr_;
  out[name_ + ".weight.col_idx"] = col_idx_;
  out[name_ + ".weight.values"] = values.value;
  if (has_bias_) out[name_ + ".bias"] = bias.value;
}

}  // namespace tinyopt::nn
