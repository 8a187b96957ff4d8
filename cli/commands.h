// Subcommands of the `tinyopt` tool. Each file adds one subcommand to the
// CLI11 app and runs it; errors are thrown as tinyopt::Error and main() turns
// them into one line on stderr and a non-zero exit.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <functional>
#include <string>
#include <vector>

#include "nn/model.h"

namespace tinyopt::cli {

// Options every command shares (set before the subcommand runs).
struct GlobalOptions {
  std::string backend;  // --backend / TINYOPT_BACKEND
  bool strict = false;
  bool log_dispatch = false;
  int threads = 0;      // 0 = leave OpenMP's default (OMP_NUM_THREADS or all cores)
  std::vector<std::string> limits;  // --limit KEY=VALUE (io/limits.h)
  bool force = false;               // --force: overwrite an input, or write an unexpected extension
};

// A subcommand and what runs it once parsing succeeded.
struct Command {
  CLI::App* app;
  std::function<void()> run;
};

Command add_backends_command(CLI::App& app);
Command add_bench_command(CLI::App& app);
Command add_train_command(CLI::App& app);
Command add_eval_command(CLI::App& app);
Command add_infer_command(CLI::App& app);
Command add_profile_command(CLI::App& app);
Command add_generate_command(CLI::App& app);
Command add_prune_command(CLI::App& app);  // cmd_prune.cpp
Command add_quantize_command(CLI::App& app);
Command add_olympics_command(CLI::App& app);     // cmd_olympics.cpp
Command add_leaderboard_command(CLI::App& app);  // cmd_leaderboard.cpp
// `tinyopt bench generate` (cmd_bench_generate.cpp), a subcommand of `bench`.
CLI::App* add_bench_generate_command(CLI::App& bench);
void run_bench_generate();
// `tinyopt bench sparse` (cmd_bench_sparse.cpp): the sparse-vs-dense crossover.
CLI::App* add_bench_sparse_command(CLI::App& bench);
void run_bench_sparse();
// `tinyopt bench qgemm` and `tinyopt bench qconv` (cmd_bench_quant.cpp), subcommands of `bench`.
std::pair<CLI::App*, CLI::App*> add_bench_quant_commands(CLI::App& bench);
void run_bench_qgemm();
void run_bench_qconv();

// Applies the global options (backend choice, strict mode, threads).
// `probe_free_cores`: without --threads or OMP_NUM_THREADS, watch the
// machine for 0.1 s and use the cores other processes leave free (commands
// that compute); otherwise every core.
void apply_global_options(const GlobalOptions& options, bool probe_free_cores = true);
const GlobalOptions& global_options();

// Fashion-MNIST images [N, 1, 28, 28] reshaped for an image model's input
// ([1, 28, 28] or [784]); `path` names the model in the error when it does not fit.
Tensor fashion_mnist_for(const nn::Model& model, const Tensor& images, const std::string& path);
// The held-out fortunes text as token ids [n] in a GPT model's vocabulary.
Tensor heldout_tokens_for(const nn::Model& model);

// Prints JSON to stdout, pretty.
void print_json(const nlohmann::json& j);
nlohmann::json machine_json();

}  // namespace tinyopt::cli
