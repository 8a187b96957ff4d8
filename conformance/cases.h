// Each op contributes its conformance cases here; case_table.cpp collects them.
#pragma once

#include <vector>

#include "conformance/conformance.h"

namespace tinyopt::conformance {

void add_matmul_cases(std::vector<OpCase>& cases);
void add_elementwise_cases(std::vector<OpCase>& cases);
void add_activation_cases(std::vector<OpCase>& cases);   // gelu, softmax, cross_entropy
void add_transformer_cases(std::vector<OpCase>& cases);  // layernorm, embedding, attention
void add_attention_decode_cases(std::vector<OpCase>& cases);
void add_conv_cases(std::vector<OpCase>& cases);
void add_pool_cases(std::vector<OpCase>& cases);
void add_bias_cases(std::vector<OpCase>& cases);
void add_relu_backward_cases(std::vector<OpCase>& cases);
void add_quant_cases(std::vector<OpCase>& cases);  // qgemm, qconv2d, quantize, dequantize, u8 maxpool2d

}  // namespace tinyopt::conformance
