// Output paths, checked before any work starts: a typo in --out must not cost
// a whole run, and a command must never destroy one of its own inputs
// (`infer --output model.safetensors` used to replace the model with logits).
#pragma once

#include <string>
#include <vector>

namespace tinyopt::cli {

// Refuses (as a usage error naming `flag`) an output path whose directory is
// missing or not writable, that is a directory, that is the same file as one
// of `inputs`, or whose extension is not `extension` (".npy", ".safetensors",
// ".json", ".html"). The global --force allows the last two.
void check_output_path(const std::string& flag, const std::string& path, const std::string& extension,
                       const std::vector<std::string>& inputs);

}  // namespace tinyopt::cli
