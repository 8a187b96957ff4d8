// A process-wide cache of per-weight-tensor preparations (packed int8 panels,
// oneDNN-reordered weights): quantized weights are immutable once quantized,
// so each is prepared once and reused by every later call.
//
// Entries are keyed by the weight's storage, its data address (a view may
// start inside the storage), its shape and a tag (the layout: ISA, library);
// the entry holds the shared_ptr<Storage>, so the address cannot be freed and
// reused by another tensor while the entry lives. An entry whose storage only
// the cache still holds belongs to a weight nobody can use again: such entries
// are dropped whenever a new one is added, so the cache never outgrows the
// live weights.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace tinyopt::cpu {

template <class Prepared>
class WeightCache {
 public:
  // The prepared form of `w` under `tag`, built by `prepare` on first use.
  std::shared_ptr<const Prepared> get(const Tensor& w, const std::string& tag,
                                      const std::function<std::shared_ptr<const Prepared>()>& prepare) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const Entry& e : entries_)
        if (e.storage == w.storage() && e.data == w.raw_data() && e.shape == w.shape() && e.tag == tag)
          return e.prepared;
    }
    // Prepare outside the lock (it may be slow and may run OpenMP work); two
    // threads racing on the same new weight both prepare, the first insert wins.
    std::shared_ptr<const Prepared> prepared = prepare();
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Entry& e : entries_)
      if (e.storage == w.storage() && e.data == w.raw_data() && e.shape == w.shape() && e.tag == tag)
        return e.prepared;
    std::erase_if(entries_, [](const Entry& e) { return e.storage.use_count() == 1; });
    entries_.push_back({w.storage(), w.raw_data(), w.shape(), tag, prepared});
    return prepared;
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
  }

 private:
  struct Entry {
    std::shared_ptr<Storage> storage;
    const void* data;
    Shape shape;
    std::string tag;
    std::shared_ptr<const Prepared> prepared;
  };
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
};

}  // namespace tinyopt::cpu
