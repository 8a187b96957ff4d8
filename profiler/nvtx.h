// NVTX ranges so Nsight Systems (`nsys profile -t nvtx,cuda`) shows the
// model's structure: one `tinyopt` domain, a range per op and per layer,
// names registered once (nvtxDomainRegisterStringA) so a range push sends a
// handle rather than a string, and a colour per op category.
//
// With TINYOPT_HAVE_NVTX (CMake defines it when the header-only NVTX3 is
// found) the calls reach NVTX, which itself does nothing unless a tool such as
// nsys is attached. Without it they are empty constexpr functions: no code,
// no dependency. The two sets live in different inline namespaces so that a
// translation unit built either way can never collide with the other at link
// time (the test builds one with NVTX undefined).
#pragma once

#include <string_view>

namespace tinyopt::nvtx {

// Colour groups of the op catalogue (and one for layers).
enum class Category { compute, elementwise, normalization, attention, memory, backward, layer };
constexpr Category category_of(std::string_view op) {
  if (op.find("backward") != std::string_view::npos) return Category::backward;
  if (op == "matmul" || op == "conv2d") return Category::compute;
  if (op.starts_with("attention")) return Category::attention;  // attention, attention_decode
  if (op == "layernorm" || op == "softmax" || op == "cross_entropy") return Category::normalization;
  if (op == "embedding" || op == "maxpool2d") return Category::memory;
  return Category::elementwise;  // add, relu, gelu, bias_add, sum_rows, ...
}

#if defined(TINYOPT_HAVE_NVTX)
inline namespace enabled {
inline constexpr bool kEnabled = true;
// `op` must outlive the process (catalogue names are string literals).
void push_op(const char* op);
void push_layer(std::string_view name);
void pop();
}  // namespace enabled
#else
inline namespace disabled {
inline constexpr bool kEnabled = false;
constexpr void push_op(const char*) {}
constexpr void push_layer(std::string_view) {}
constexpr void pop() {}
}  // namespace disabled
#endif

}  // namespace tinyopt::nvtx
