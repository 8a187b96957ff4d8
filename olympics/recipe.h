// Recipes: which optimizations to apply to an event's reference model, as
// JSON. Built-in recipes live in olympics/recipes/*.json (compiled in; see
// docs/OLYMPICS.md); a user recipe is a file with the same keys.
//
//   {
//     "name": "my-recipe",               // default: the file's stem
//     "description": "...",
//     "backend": "auto",                 // dispatcher choice: auto | cpu.naive | cpu.blocked | cpu.onednn | "matmul=cpu.naive,..."
//     "threads": 2,                      // CPU threads (0 = OMP_NUM_THREADS or all cores)
//     "single_stream_threads": 1,        // threads for batch-1 queries (0 = "threads")
//     "batch_size": 256,                 // Offline scenario batch
//     "int8": {"observer": "minmax", "calibration": 512},   // post-training INT8 (calibration images from the calibration split)
//     "prune": {"sparsity": 0.7, "structured": false, "global": true, "finetune_epochs": 0},
//     "kv_cache": true,                  // GPT decoding with the KV cache
//     "model": "mine.safetensors",       // open division: your own model instead of the reference
//     "skip_unavailable": false,         // true: techniques this build lacks are skipped and reported, not an error
//     "events": {"gpt": {"batch_size": 8}}   // per-event overrides of the keys above
//   }
//
// Unknown keys, wrong types, out-of-range values, unknown backends and
// observers, and missing model files are errors naming the recipe, the key and
// the valid choices; every problem of a recipe is reported at once, when it is
// loaded, before any work starts. A recipe file cannot take a built-in's name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "olympics/event.h"

namespace tinyopt::olympics {

struct Int8Settings {
  std::string observer = "minmax";  // how activation ranges are estimated during calibration
  int64_t calibration = 512;        // calibration images (from the 5,000-image calibration split)
};

struct PruneSettings {
  double sparsity = 0.7;        // fraction of weights removed
  bool structured = false;      // whole filters / neurons instead of single weights
  bool global = true;           // one magnitude threshold over all layers instead of per layer
  int64_t finetune_epochs = 0;  // > 0 retrains: open division
};

// What a recipe asks for on one event (top-level keys merged with events.<key>).
struct RecipeSettings {
  std::string backend = "auto";
  int threads = 0;
  int single_stream_threads = 0;
  int64_t batch_size = 256;
  std::optional<Int8Settings> int8;
  std::optional<PruneSettings> prune;
  bool kv_cache = false;
  std::string model_file;  // "" = the event's reference model
  nlohmann::json to_json() const;
};

struct Recipe {
  std::string name;
  std::string description;
  std::string origin;  // "built-in" or the file it came from
  bool skip_unavailable = false;
  nlohmann::json json;  // as written (stored with each leaderboard entry)

  // The settings for one event (throws if the merged settings are invalid;
  // every event is checked when the recipe is parsed).
  RecipeSettings for_event(const Event& event) const;
};

// Parses and validates a recipe, reporting every problem at once; `origin`
// names it in errors. `file_dir`: the recipe came from a file in that
// directory, so its relative "model" paths are resolved against it (and must
// exist) and its name may not be a built-in recipe's.
Recipe parse_recipe(const nlohmann::json& json, const std::string& origin, const std::string& default_name,
                    const std::optional<std::filesystem::path>& file_dir = std::nullopt);
// The same from a recipe file's text: at most 1 MiB, JSON nesting bounded by
// io/limits.h (max_json_depth), so a hostile file is refused before it builds
// a deep or huge document (the fuzz target "recipe" feeds this).
Recipe parse_recipe_text(const std::string& text, const std::string& origin, const std::string& default_name,
                         const std::optional<std::filesystem::path>& file_dir = std::nullopt);
// A built-in name ("baseline", "all", ...) or a path to a JSON file; a
// relative "model" path in a file is taken relative to the file's directory.
Recipe load_recipe(const std::string& name_or_file);
// Built-in recipe names, in a stable order (baseline first).
std::vector<std::string> builtin_recipe_names();
// The JSON text of a built-in recipe (throws listing the names when unknown).
std::string builtin_recipe_text(const std::string& name);

}  // namespace tinyopt::olympics
