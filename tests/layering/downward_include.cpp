// Compiled as part of the nn layer by the Layers.* tests: the control case.
// nn sees every layer below it (here core, through profiler and io).
#include "core/tensor.h"
#include "nn/model.h"

int layering_probe_downward() { return 0; }
