// CPU kernel variants of the CNN ops of the catalogue (core/ops_nn.h):
// conv2d and its backward, maxpool2d and its backward, bias_add, sum_rows and
// relu_backward. One concept per .cpp file; all registered in register_cpu.cpp.
#pragma once

#include "core/ops_nn.h"
#include "kernels/conv2d.h"

namespace tinyopt::cpu {

// The sizes of a conv2d call (forward or backward) in the form kernels/ use.
kernels::Conv2dDims conv2d_dims(const Tensor& x, const Tensor& w, const Conv2dGeometry& g);

// Every f32 CPU kernel here needs contiguous tensors (the optional ones only when present).
bool conv2d_cpu_supports(const Conv2dArgs& args);
bool conv2d_backward_cpu_supports(const Conv2dBackwardArgs& args);

void conv2d_naive_run(const Conv2dArgs& args);    // conv2d_naive.cpp
void conv2d_blocked_run(const Conv2dArgs& args);  // conv2d_blocked.cpp
bool conv2d_onednn_supports(const Conv2dArgs& args);  // conv2d_onednn.cpp
void conv2d_onednn_run(const Conv2dArgs& args);

void conv2d_backward_naive_run(const Conv2dBackwardArgs& args);    // conv2d_backward_naive.cpp
void conv2d_backward_blocked_run(const Conv2dBackwardArgs& args);  // conv2d_backward_blocked.cpp
bool conv2d_backward_onednn_supports(const Conv2dBackwardArgs& args);  // conv2d_backward_onednn.cpp
void conv2d_backward_onednn_run(const Conv2dBackwardArgs& args);

bool maxpool2d_supports(const MaxPool2dArgs& args);  // maxpool2d.cpp
void maxpool2d_run(const MaxPool2dArgs& args);
bool maxpool2d_backward_supports(const MaxPool2dBackwardArgs& args);  // maxpool2d_backward.cpp
void maxpool2d_backward_run(const MaxPool2dBackwardArgs& args);

bool bias_add_supports(const BiasAddArgs& args);  // bias_add.cpp
void bias_add_run(const BiasAddArgs& args);
bool sum_rows_supports(const SumRowsArgs& args);  // sum_rows.cpp
void sum_rows_run(const SumRowsArgs& args);
bool relu_backward_supports(const ActivationBackwardArgs& args);  // relu_backward.cpp
void relu_backward_run(const ActivationBackwardArgs& args);

}  // namespace tinyopt::cpu
