// CPU kernel variants of the transformer ops of the catalogue (core/ops_nn.h):
// gelu, softmax, cross_entropy, layernorm, embedding, attention and their
// backward passes. One concept per .cpp file; all registered in register_cpu.cpp.
//
// The light ops have one variant each, `cpu.simd`: plain loops written once
// and compiled per ISA (simd_clones.h), OpenMP across rows when the call is
// large enough. Attention has `cpu.naive` (the textbook loops, the bottom of
// the speedup ladder) and `cpu.blocked` (fused, online softmax, register tiles).
#pragma once

#include "core/ops_nn.h"

namespace tinyopt::cpu {

bool gelu_supports(const UnaryArgs& args);  // gelu.cpp
void gelu_run(const UnaryArgs& args);
bool gelu_backward_supports(const ActivationBackwardArgs& args);
void gelu_backward_run(const ActivationBackwardArgs& args);

bool softmax_supports(const SoftmaxArgs& args);  // softmax.cpp
void softmax_run(const SoftmaxArgs& args);

bool cross_entropy_supports(const CrossEntropyArgs& args);  // cross_entropy.cpp
void cross_entropy_run(const CrossEntropyArgs& args);

bool layernorm_supports(const LayerNormArgs& args);  // layernorm.cpp
void layernorm_run(const LayerNormArgs& args);
bool layernorm_backward_supports(const LayerNormBackwardArgs& args);
void layernorm_backward_run(const LayerNormBackwardArgs& args);

bool embedding_supports(const EmbeddingArgs& args);  // embedding.cpp
void embedding_run(const EmbeddingArgs& args);
bool embedding_backward_supports(const EmbeddingBackwardArgs& args);
void embedding_backward_run(const EmbeddingBackwardArgs& args);

bool attention_naive_supports(const AttentionArgs& args);  // attention_naive.cpp
void attention_naive_run(const AttentionArgs& args);
bool attention_blocked_supports(const AttentionArgs& args);  // attention_blocked.cpp
void attention_blocked_run(const AttentionArgs& args);
bool attention_backward_blocked_supports(const AttentionBackwardArgs& args);  // attention_backward_blocked.cpp
void attention_backward_blocked_run(const AttentionBackwardArgs& args);

bool attention_decode_naive_supports(const AttentionDecodeArgs& args);  // attention_decode_naive.cpp
void attention_decode_naive_run(const AttentionDecodeArgs& args);
bool attention_decode_blocked_supports(const AttentionDecodeArgs& args);  // attention_decode_blocked.cpp
void attention_decode_blocked_run(const AttentionDecodeArgs& args);

}  // namespace tinyopt::cpu
