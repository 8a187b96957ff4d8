// The KV-cache technique: a GPT decodes with its key/value cache (each new
// token attends to the cached keys and values instead of re-running the whole
// prefix). A run-time technique: the model is unchanged, the way it is run is not.
#include "olympics/technique.h"

namespace tinyopt::olympics {

std::string kv_cache_not_applicable(const Event& event) {
  if (event.is_classifier()) return "not applicable (no autoregressive decoding in an image classifier)";
  return "";
}

void apply_kv_cache(TechniqueContext& c) { c.decode_with_kv_cache = true; }

std::string verify_kv_cache(const TechniqueEvidence& e) {
  if (e.kv_cache_bytes <= 0) return "decoding allocated no cache";
  return "";
}

}  // namespace tinyopt::olympics
