#include "io/byte_source.h"

#include <cstring>

#include "core/error.h"

namespace tinyopt {

void MemorySource::read(uint64_t offset, void* dst, size_t bytes, const std::string& what) const {
  TINYOPT_CHECK(offset <= bytes_.size() && bytes <= bytes_.size() - offset,
                "'{}' is truncated: expected {} bytes of {} at offset {}, found {}", name_, bytes, what, offset,
                offset <= bytes_.size() ? bytes_.size() - offset : 0);
  if (bytes > 0) std::memcpy(dst, bytes_.data() + offset, bytes);
}

}  // namespace tinyopt
