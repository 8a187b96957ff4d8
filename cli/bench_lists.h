// The comma lists the `tinyopt bench` subcommands take (--sizes, --batches,
// --lengths), parsed in one place so every flag refuses bad input the same way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tinyopt::cli {

struct MatmulShape {
  int64_t m, k, n;
  std::string str() const;
};

// "1024" -> 1024^3; "1x784x128" -> M=1, K=784, N=128 (batch x in x out);
// positive integers up to 999999 and M*K*N up to 1.5e11, comma separated.
std::vector<MatmulShape> parse_matmul_sizes(const std::string& text);

// A comma list of integers in [lo, hi] for `flag`; `what` names one item
// ("batch size") and `example` shows a valid list in the error.
std::vector<int64_t> parse_int_list(const std::string& text, const char* flag, int64_t lo, int64_t hi,
                                    const char* what, const char* example);

}  // namespace tinyopt::cli
