#include "io/limits.h"

#include <cstdlib>
#include <mutex>

#include "core/error.h"
#include "core/shape.h"

namespace tinyopt {

namespace {

struct Field {
  const char* key;
  uint64_t Limits::*member;
};

constexpr Field kFields[] = {
    {"max_header_bytes", &Limits::max_header_bytes}, {"max_tensors", &Limits::max_tensors},
    {"max_tensor_bytes", &Limits::max_tensor_bytes}, {"max_model_bytes", &Limits::max_model_bytes},
    {"max_rank", &Limits::max_rank},                 {"max_json_depth", &Limits::max_json_depth},
    {"max_vocab", &Limits::max_vocab},
};

uint64_t parse_size(const std::string& text, const std::string& key, const std::string& source) {
  size_t i = 0;
  uint64_t value = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    TINYOPT_CHECK(value <= (UINT64_MAX - digit) / 10, "{}: value '{}' of {} is too large", source, text, key);
    value = value * 10 + digit;
    ++i;
  }
  TINYOPT_CHECK(i > 0, "{}: value '{}' of {} is not a non-negative integer (e.g. 4096, 64K, 2G)", source, text, key);
  int shift = 0;
  if (i < text.size()) {
    const char s = text[i++];
    shift = s == 'K' || s == 'k' ? 10 : s == 'M' || s == 'm' ? 20 : s == 'G' || s == 'g' ? 30 : s == 'T' || s == 't' ? 40 : -1;
    TINYOPT_CHECK(shift > 0 && i == text.size(), "{}: value '{}' of {} has an unknown suffix (use K, M, G or T)",
                  source, text, key);
  }
  TINYOPT_CHECK(shift == 0 || value <= (UINT64_MAX >> shift), "{}: value '{}' of {} is too large", source, text, key);
  return value << shift;
}

Limits initial_limits() {
  Limits l;
  if (const char* env = std::getenv("TINYOPT_LIMITS"); env != nullptr && *env != '\0') {
    // A bad TINYOPT_LIMITS is reported on first use, not silently ignored.
    l = parse_limits(env, l, "TINYOPT_LIMITS");
  }
  return l;
}

std::mutex g_mutex;
Limits g_limits;
bool g_initialised = false;

}  // namespace

Limits parse_limits(const std::string& spec, Limits base, const std::string& source) {
  size_t start = 0;
  while (start <= spec.size()) {
    size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    const std::string item = spec.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    TINYOPT_CHECK(eq != std::string::npos, "{}: expected KEY=VALUE, found '{}'", source, item);
    const std::string key = item.substr(0, eq);
    const Field* field = nullptr;
    for (const Field& f : kFields)
      if (key == f.key) field = &f;
    if (field == nullptr) {
      std::string keys;
      for (const Field& f : kFields) keys += (keys.empty() ? "" : ", ") + std::string(f.key);
      fail("{}: unknown limit '{}' (known: {})", source, key, keys);
    }
    base.*(field->member) = parse_size(item.substr(eq + 1), key, source);
  }
  TINYOPT_CHECK(base.max_rank <= static_cast<uint64_t>(Shape::kMaxDims),
                "{}: max_rank {} exceeds the {} dimensions a tinyopt tensor can have", source, base.max_rank,
                Shape::kMaxDims);
  return base;
}

std::vector<std::string> describe_limits(const Limits& limits) {
  std::vector<std::string> out;
  for (const Field& f : kFields) out.push_back(fmt::format("{}={}", f.key, limits.*(f.member)));
  return out;
}

const Limits& limits() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_initialised) {
    g_limits = initial_limits();
    g_initialised = true;
  }
  return g_limits;
}

void set_limits(const Limits& limits) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_limits = limits;
  g_initialised = true;
}

void check_limit(uint64_t value, uint64_t limit, const char* key, const std::string& what) {
  if (value <= limit) return;
  fail("{} is {}, over the limit {}={} (raise it with --limit {}=N or TINYOPT_LIMITS={}=N)", what, value, key, limit,
       key, key);
}

ScopedLimits::ScopedLimits(const Limits& limits) : saved_(tinyopt::limits()) { set_limits(limits); }
ScopedLimits::~ScopedLimits() { set_limits(saved_); }

}  // namespace tinyopt
