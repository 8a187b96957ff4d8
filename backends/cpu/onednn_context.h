// The process's one oneDNN CPU engine and stream (oneDNN runs on the same
// OpenMP pool as our kernels).
#pragma once

#include <dnnl.hpp>

namespace tinyopt::cpu {

dnnl::engine& onednn_engine();
dnnl::stream& onednn_stream();

}  // namespace tinyopt::cpu
