// TINYOPT_HD marks helpers that compile for both the host and CUDA devices.
#pragma once

#if defined(__CUDACC__)
#define TINYOPT_HD __host__ __device__
#else
#define TINYOPT_HD
#endif
