// The CUDA backend's function tables: installs the device runtime, then one
// line per kernel variant (the twin of backends/cpu/register_cpu.cpp).
// Priorities order automatic routing: library (cuBLAS) > our tiled kernel > naive.
//
// Safe without a GPU: registration touches no CUDA API. The variants are
// simply never routed to, because no CUDA tensor can be created
// (device_require() reports "no CUDA device is present").
#include "backends/cuda/attention_decode.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_kernels_nn.h"
#include "backends/cuda/cuda_kernels_sparse.h"
#include "backends/cuda/cuda_kernels_quant.h"

namespace tinyopt::cuda {

void register_cuda_variants() {
  install_device_runtime();
  const DeviceType gpu = DeviceType::cuda;
  ops::matmul.add({"cuda.naive", gpu, 10, matmul_naive_supports, matmul_naive_run});
  ops::matmul.add({"cuda.tiled", gpu, 50, matmul_tiled_supports, matmul_tiled_run});
  ops::matmul.add({"cuda.cublas", gpu, 60, matmul_cublas_supports, matmul_cublas_run});
  ops::add.add({"cuda.simt", gpu, 50, add_supports, add_run});
  ops::relu.add({"cuda.simt", gpu, 50, relu_supports, relu_run});
  // NN forward ops (cuda_kernels_nn.h); their backward ops fall back to the CPU.
  ops::conv2d.add({"cuda.naive", gpu, 10, conv2d_cuda_supports, conv2d_naive_run});
  ops::conv2d.add({"cuda.cublas", gpu, 60, conv2d_cublas_supports, conv2d_cublas_run});
  ops::maxpool2d.add({"cuda.simt", gpu, 50, maxpool2d_supports, maxpool2d_run});
  ops::bias_add.add({"cuda.simt", gpu, 50, bias_add_supports, bias_add_run});
  ops::sum_rows.add({"cuda.simt", gpu, 50, sum_rows_supports, sum_rows_run});
  ops::gelu.add({"cuda.simt", gpu, 50, gelu_supports, gelu_run});
  ops::softmax.add({"cuda.simt", gpu, 50, softmax_supports, softmax_run});
  ops::layernorm.add({"cuda.simt", gpu, 50, layernorm_supports, layernorm_run});
  ops::embedding.add({"cuda.simt", gpu, 50, embedding_supports, embedding_run});
  ops::cross_entropy.add({"cuda.simt", gpu, 50, cross_entropy_supports, cross_entropy_run});
  ops::attention.add({"cuda.naive", gpu, 10, attention_naive_supports, attention_naive_run});
  register_attention_decode_variants();  // attention_decode.cu
  ops::spmm.add({"cuda.naive", gpu, 10, spmm_naive_supports, spmm_naive_run});
  ops::spmm.add({"cuda.cusparse", gpu, 60, spmm_cusparse_supports, spmm_cusparse_run});
  register_cuda_quant_variants();        // INT8 ops (register_cuda_quant.cpp)
}

}  // namespace tinyopt::cuda
