#include "conformance/cases.h"

namespace tinyopt::conformance {

const std::vector<OpCase>& all_cases() {
  static const std::vector<OpCase> cases = [] {
    std::vector<OpCase> all;
    add_matmul_cases(all);
    add_elementwise_cases(all);
    add_activation_cases(all);
    add_transformer_cases(all);
    add_attention_decode_cases(all);
    add_conv_cases(all);
    add_pool_cases(all);
    add_bias_cases(all);
    add_relu_backward_cases(all);
    add_quant_cases(all);
    return all;
  }();
  return cases;
}

}  // namespace tinyopt::conformance
