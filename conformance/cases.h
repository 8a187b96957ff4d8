// Each op contributes its conformance cases here; case_table.cpp collects them.
#pragma once

#include <vector>

#include "conformance/conformance.h"

namespace tinyopt::conformance {

void add_matmul_cases(std::vector<OpCase>& cases);
void add_elementwise_cases(std::vector<OpCase>& cases);

}  // namespace tinyopt::conformance
