#include "olympics/contender.h"

#include "core/dispatcher.h"
#include "core/threads.h"

namespace tinyopt::olympics {

namespace {
void apply(const std::string& backend, int threads) {
  OptimizedBackend::instance().set_choice(backend);
  set_num_threads(threads > 0 ? threads : default_threads());
}
}  // namespace

void Contender::apply_single_stream() const {
  apply(settings.backend, settings.single_stream_threads > 0 ? settings.single_stream_threads : settings.threads);
}

void Contender::apply_batched() const { apply(settings.backend, settings.threads); }

}  // namespace tinyopt::olympics
