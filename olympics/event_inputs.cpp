#include "olympics/event_inputs.h"

#include "core/error.h"

namespace tinyopt::olympics {

std::vector<std::vector<int32_t>> EventInputs::prompts(int64_t count, int64_t length) const {
  const int64_t n = heldout_tokens.numel();
  TINYOPT_CHECK(count >= 1 && length >= 1 && n >= count * length, "held-out text has {} tokens; {} prompts of {} need more",
                n, count, length);
  const int32_t* ids = heldout_tokens.data<int32_t>();
  std::vector<std::vector<int32_t>> out;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t start = i * (n - length) / count;
    out.emplace_back(ids + start, ids + start + length);
  }
  return out;
}

}  // namespace tinyopt::olympics
