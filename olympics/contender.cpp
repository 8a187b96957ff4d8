#include "olympics/contender.h"

namespace tinyopt::olympics {

ContenderScope Contender::single_stream_scope() const {
  return ContenderScope(kernels, settings.single_stream_threads > 0 ? settings.single_stream_threads : settings.threads);
}

ContenderScope Contender::batched_scope() const { return ContenderScope(kernels, settings.threads); }

}  // namespace tinyopt::olympics
