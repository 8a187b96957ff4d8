// tinyopt: the command-line front end of the runtime.
#include <cstdio>
#include <exception>
#include <new>
#include <vector>

#include "cli/commands.h"
#include "cli/usage.h"
#include "core/error.h"
#include "io/interrupt_cleanup.h"

// Exit codes: 0 success, 1 an error while running a command, 2 a usage error
// (unknown command or option, a missing or out-of-range value).
int main(int argc, char** argv) {
  tinyopt::install_interrupt_cleanup();  // Ctrl-C mid-write leaves no temporary file behind
  CLI::App app{"tinyopt: naive -> blocked -> library kernels behind one dispatcher, INT8, pruning, KV cache, "
               "profiler and the TinyMLPerf Olympics",
               "tinyopt"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand: `tinyopt bench matmul --threads 2`
  app.set_version_flag("--version", std::string("tinyopt ") + TINYOPT_VERSION);
  static tinyopt::cli::GlobalOptions options;
  app.add_option("--backend", options.backend,
                 "Kernel choice: a variant name (cpu.naive, cpu.blocked, cpu.onednn, cuda.cublas, ...), 'auto', "
                 "or per op 'matmul=cpu.naive' (comma separated). Overrides TINYOPT_BACKEND.");
  app.add_flag("--strict", options.strict, "Error instead of falling back to the CPU when a CUDA op has no CUDA variant");
  app.add_flag("--log-dispatch", options.log_dispatch, "Log every routing decision to stderr");
  app.add_option("-t,--threads", options.threads,
                 "Threads for CPU kernels (default: OMP_NUM_THREADS, else the cores other processes leave free)")
      ->check(CLI::Range(1, 1024));
  app.add_flag("--force", options.force,
               "Allow an output path that is also an input of the command, or whose extension does not match");
  app.add_option("--limit", options.limits,
                 "Resource limit for input files, KEY=VALUE (repeatable; keys in io/limits.h, e.g. max_tensor_bytes=8G). "
                 "Overrides TINYOPT_LIMITS.");
  const std::vector<tinyopt::cli::Command> commands = {
      tinyopt::cli::add_backends_command(app),
      tinyopt::cli::add_bench_command(app),
      tinyopt::cli::add_train_command(app),
      tinyopt::cli::add_eval_command(app),
      tinyopt::cli::add_infer_command(app),
      tinyopt::cli::add_profile_command(app),
      tinyopt::cli::add_generate_command(app),
      tinyopt::cli::add_prune_command(app),
      tinyopt::cli::add_quantize_command(app),
      tinyopt::cli::add_olympics_command(app),
      tinyopt::cli::add_leaderboard_command(app),
  };
  CLI::App* help = tinyopt::cli::add_help_command(app);
  try {
    app.parse(argc, argv);
    if (help->parsed()) {
      tinyopt::cli::run_help_command(app);
      return 0;
    }
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "tinyopt: usage error: %s\nRun 'tinyopt help' or 'tinyopt COMMAND --help' for usage.\n",
                 tinyopt::cli::explain_parse_error(app, e).c_str());
    return tinyopt::cli::kUsageExitCode;
  } catch (const tinyopt::cli::UsageError& e) {
    std::fprintf(stderr, "tinyopt: usage error: %s\n", e.what());
    return tinyopt::cli::kUsageExitCode;
  }
  try {
    // Listing commands compute nothing: no need to watch the machine's load first.
    tinyopt::cli::apply_global_options(options, !app.got_subcommand("backends") && !app.got_subcommand("leaderboard"));
    for (const auto& command : commands)
      if (command.app->parsed()) command.run();
  } catch (const tinyopt::cli::UsageError& e) {
    std::fprintf(stderr, "tinyopt: usage error: %s\n", e.what());
    return tinyopt::cli::kUsageExitCode;
  } catch (const tinyopt::Error& e) {
    std::fprintf(stderr, "tinyopt: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "tinyopt: error: out of memory (a host allocation failed)\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tinyopt: unexpected error: %s\n", e.what());
    return 1;
  }
  return 0;
}
