// Compiled as part of the nn layer by the Layers.* tests: nn sits below
// quant, so this include must fail to compile ("No such file or directory").
#include "quant/quantizer.h"

int layering_probe_upward() { return 0; }
