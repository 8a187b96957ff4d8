// Recipes: every built-in parses; unknown keys, wrong types and ranges are
// errors that name the key and list the valid ones; per-event overrides;
// files resolve relative model paths; unknown names list the built-ins.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "core/error.h"
#include "olympics/recipe.h"

using namespace tinyopt::olympics;

namespace {

std::string error_of(const nlohmann::json& j) {
  try {
    parse_recipe(j, "test.json", "test");
  } catch (const tinyopt::Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(OlympicsRecipe, EveryBuiltinParsesAndBaselineComesFirst) {
  const auto names = builtin_recipe_names();
  ASSERT_GE(names.size(), 5u);
  EXPECT_EQ(names.front(), "baseline");
  EXPECT_EQ(names.back(), "all");
  for (const std::string n : {"fp32-best", "int8", "prune", "kv-cache"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  for (const std::string& n : names) {
    const Recipe r = load_recipe(n);
    EXPECT_EQ(r.name, n);
    EXPECT_FALSE(r.description.empty()) << n;
    for (const Event& e : all_events()) r.for_event(e);
  }
  const RecipeSettings b = load_recipe("baseline").for_event(find_event("cnn"));
  EXPECT_EQ(b.backend, "cpu.naive");
  EXPECT_FALSE(b.int8 || b.prune || b.kv_cache);
  const RecipeSettings all = load_recipe("all").for_event(find_event("gpt"));
  EXPECT_TRUE(all.kv_cache);
  EXPECT_EQ(all.batch_size, 8);  // the per-event override
  EXPECT_EQ(load_recipe("all").for_event(find_event("cnn")).batch_size, 256);
}

TEST(OlympicsRecipe, UnknownKeysListTheValidOnes) {
  const std::string e = error_of({{"backend", "auto"}, {"quantize", true}});
  EXPECT_TRUE(contains(e, "unknown key 'quantize'")) << e;
  EXPECT_TRUE(contains(e, "int8")) << e;
  EXPECT_TRUE(contains(e, "kv_cache")) << e;
  const std::string nested = error_of({{"prune", {{"sparsity", 0.5}, {"amount", 0.5}}}});
  EXPECT_TRUE(contains(nested, "unknown key 'amount'")) << nested;
  EXPECT_TRUE(contains(nested, "finetune_epochs")) << nested;
  const std::string q = error_of({{"int8", {{"bits", 4}}}});
  EXPECT_TRUE(contains(q, "unknown key 'bits'") && contains(q, "observer")) << q;
  const std::string ev = error_of({{"events", {{"cnn", {{"name", "x"}}}}}});
  EXPECT_TRUE(contains(ev, "events.cnn") && contains(ev, "unknown key 'name'")) << ev;
}

TEST(OlympicsRecipe, WrongTypesAndRangesAreErrors) {
  EXPECT_TRUE(contains(error_of({{"threads", "two"}}), "threads: expected an integer"));
  EXPECT_TRUE(contains(error_of({{"threads", -1}}), "outside"));
  EXPECT_TRUE(contains(error_of({{"batch_size", 0}}), "batch_size"));
  EXPECT_TRUE(contains(error_of({{"prune", {{"sparsity", 1.5}}}}), "not in (0, 1)"));
  EXPECT_TRUE(contains(error_of({{"prune", true}}), "expected an object"));
  EXPECT_TRUE(contains(error_of({{"int8", {{"calibration", 100000}}}}), "calibration"));
  EXPECT_TRUE(contains(error_of({{"kv_cache", 1}}), "expected true or false"));
  EXPECT_TRUE(contains(error_of(nlohmann::json::array()), "expected a JSON object"));
  EXPECT_TRUE(contains(error_of({{"events", {{"resnet", nlohmann::json::object()}}}}), "unknown event 'resnet'"));
  EXPECT_TRUE(contains(error_of({{"name", "has space"}}), "may hold only"));
  // Techniques switched off explicitly.
  EXPECT_EQ(error_of({{"int8", false}, {"prune", nullptr}}), "");
}

TEST(OlympicsRecipe, FilesResolveModelPathsAndReportBadJson) {
  const std::string dir = ::testing::TempDir();
  const std::string good = dir + "/olympics_recipe_good.json";
  for (const char* model : {"/my.safetensors", "/c.safetensors"}) std::ofstream(dir + model) << "x";
  {
    std::ofstream out(good);
    out << R"({"backend": "cpu.blocked", "model": "my.safetensors", "events": {"cnn": {"model": "c.safetensors"}}})";
  }
  const Recipe r = load_recipe(good);
  EXPECT_EQ(r.name, "olympics_recipe_good");
  EXPECT_EQ(r.origin, good);
  const RecipeSettings mlp = r.for_event(find_event("mlp"));
  EXPECT_EQ(mlp.backend, "cpu.blocked");
  EXPECT_TRUE(contains(mlp.model_file, "my.safetensors"));
  EXPECT_NE(mlp.model_file, "my.safetensors");  // made relative to the recipe's directory
  EXPECT_TRUE(contains(r.for_event(find_event("cnn")).model_file, "c.safetensors"));

  const std::string bad = dir + "/olympics_recipe_bad.json";
  {
    std::ofstream out(bad);
    out << R"({"backend": "auto",)";
  }
  try {
    load_recipe(bad);
    FAIL() << "expected an error";
  } catch (const tinyopt::Error& e) {
    EXPECT_TRUE(contains(e.what(), bad) && contains(e.what(), "invalid JSON")) << e.what();
  }
  try {
    load_recipe("no-such-recipe");
    FAIL() << "expected an error";
  } catch (const tinyopt::Error& e) {
    EXPECT_TRUE(contains(e.what(), "baseline") && contains(e.what(), "all")) << e.what();
  }
  EXPECT_THROW(load_recipe(dir + "/missing.json"), tinyopt::Error);
}

TEST(OlympicsRecipe, EventsAreFoundByKeyOrNameAndUnknownListsThem) {
  EXPECT_EQ(find_event("mlp").key, "mlp");
  EXPECT_EQ(find_event("CNN Marathon").key, "cnn");
  EXPECT_EQ(find_event("transformer-decathlon").key, "gpt");
  try {
    find_event("resnet");
    FAIL();
  } catch (const tinyopt::Error& e) {
    EXPECT_TRUE(contains(e.what(), "mlp") && contains(e.what(), "Transformer Decathlon")) << e.what();
  }
}

TEST(OlympicsRecipe, EveryProblemIsReportedAtOnceWhenLoaded) {
  const std::string e = error_of({{"backend", "cpu.fastest"},
                                  {"int8", {{"observer", "minimax"}}},
                                  {"threads", "two"},
                                  {"events", {{"mpl", {{"batch_size", 8}}}}}});
  EXPECT_TRUE(contains(e, "4 problems")) << e;
  EXPECT_TRUE(contains(e, "unknown backend variant 'cpu.fastest'") && contains(e, "cpu.blocked")) << e;
  EXPECT_TRUE(contains(e, "unknown observer 'minimax'") && contains(e, "minmax")) << e;
  EXPECT_TRUE(contains(e, "threads: expected an integer")) << e;
  EXPECT_TRUE(contains(e, "unknown event 'mpl'")) << e;
  EXPECT_TRUE(contains(error_of({{"backend", "matmul=cpu.nope"}}), "unknown variant 'cpu.nope' for op 'matmul'"));
  EXPECT_EQ(error_of({{"backend", "cpu.onednn,matmul=cpu.naive"}}), "");
}

TEST(OlympicsRecipe, AFileCannotReplaceABuiltinOrNameAMissingModel) {
  const std::string dir = ::testing::TempDir();
  const std::string shadow = dir + "/baseline.json";  // named by its file...
  std::ofstream(shadow) << R"({"backend": "cpu.blocked"})";
  const std::string named = dir + "/mine.json";  // ...or by its "name"
  std::ofstream(named) << R"({"name": "all", "backend": "cpu.blocked", "events": {"cnn": {"model": "absent.safetensors"}}})";
  for (const std::string& file : {shadow, named}) {
    try {
      load_recipe(file);
      FAIL() << file << " replaced a built-in recipe";
    } catch (const tinyopt::Error& e) {
      EXPECT_TRUE(contains(e.what(), "name of a built-in recipe")) << e.what();
    }
  }
  try {
    load_recipe(named);
  } catch (const tinyopt::Error& e) {  // both problems of the second file at once
    EXPECT_TRUE(contains(e.what(), "events.cnn.model") && contains(e.what(), "absent.safetensors: no such file"))
        << e.what();
  }
  EXPECT_EQ(load_recipe("baseline").origin, "built-in");
}
