// CPU kernel variants of the INT8 ops (core/ops_quant.h): qgemm and qconv2d
// (naive, blocked, onednn), quantize and dequantize. One concept per .cpp
// file; all registered in register_cpu_quant.cpp.
#pragma once

#include "core/ops_quant.h"

namespace tinyopt::cpu {

// Contiguous CPU tensors (the optional ones only when present): what every CPU int8 kernel here needs.
bool qgemm_cpu_supports(const QGemmArgs& args);
bool qconv2d_cpu_supports(const QConv2dArgs& args);

void qgemm_naive_run(const QGemmArgs& args);        // qgemm_naive.cpp
void qconv2d_naive_run(const QConv2dArgs& args);    // qconv2d_naive.cpp
bool qgemm_blocked_supports(const QGemmArgs& args);    // qgemm_blocked.cpp
void qgemm_blocked_run(const QGemmArgs& args);
bool qconv2d_blocked_supports(const QConv2dArgs& args);  // qconv2d_blocked.cpp
void qconv2d_blocked_run(const QConv2dArgs& args);
bool qgemm_onednn_supports(const QGemmArgs& args);    // qgemm_onednn.cpp
void qgemm_onednn_run(const QGemmArgs& args);
bool qconv2d_onednn_supports(const QConv2dArgs& args);  // qconv2d_onednn.cpp
void qconv2d_onednn_run(const QConv2dArgs& args);

// Runs `unfused` (a variant without a fused max-pool) and then, when
// args.pool > 0, the max-pool kernel on its output (qconv2d_pool.cpp).
void qconv2d_then_pool(const QConv2dArgs& args, void (*unfused)(const QConv2dArgs&));
template <void (*Unfused)(const QConv2dArgs&)>
void qconv2d_pooled_by_parts(const QConv2dArgs& args) {
  qconv2d_then_pool(args, Unfused);
}

bool quantize_supports(const QuantizeArgs& args);   // quantize.cpp
void quantize_run(const QuantizeArgs& args);
bool dequantize_supports(const DequantizeArgs& args);
void dequantize_run(const DequantizeArgs& args);

void register_cpu_quant_variants();                 // register_cpu_quant.cpp

}  // namespace tinyopt::cpu
