// CUDA variants of attention_decode (one query per head against the KV cache,
// core/ops_nn.h), in attention_decode.cu. Plain C++ (no CUDA headers).
#pragma once

#include "core/ops_nn.h"

namespace tinyopt::cuda {

// Adds cuda.naive (one thread per (batch, head), two passes) and cuda.tiled
// (one block per (batch, head), K/V read once, online softmax) to ops::attention_decode.
void register_attention_decode_variants();

}  // namespace tinyopt::cuda
