// mmoe: the command line tool. The only place that prints errors and turns them into exit codes:
// 0 success, 2 bad usage or bad input (with the file, line and column, or the key), 1 internal failure.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <new>

#include "commands.h"
#include "mmoe/error.h"
#include "params.h"

namespace {

int exit_code(mmoe::ErrorKind kind) { return kind == mmoe::ErrorKind::internal ? 1 : 2; }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mmoe: multi-task learning with Multi-gate Mixture-of-Experts (Ma et al., KDD 2018)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "mmoe 0.1.0");
  using mmoe::cli::Action;
  std::vector<std::pair<CLI::App*, Action>> commands;
  auto add = [&](const char* name, const char* doc, Action (*reg)(CLI::App&)) {
    CLI::App* sub = app.add_subcommand(name, doc);
    commands.emplace_back(sub, reg(*sub));
  };
  add("synth", "write the paper's synthetic two-task regression data (Sec. 3.2) as CSV", mmoe::cli::register_synth);
  add("train", "train a model (mmoe, omoe, shared-bottom, single-task) on CSV data", mmoe::cli::register_train);
  add("eval", "score a saved model on labelled data", mmoe::cli::register_eval);
  add("predict", "write predictions of a saved model, one row per input row", mmoe::cli::register_predict);
  add("experiment", "rerun the paper's synthetic experiments (Figs. 2-5) from a TOML description", mmoe::cli::register_experiment);
  bool markdown = false;
  CLI::App* help = app.add_subcommand("help-settings", "print every setting (TOML key, flag, default) as Markdown");
  help->add_flag("--markdown", markdown, "Markdown table (the source of docs/cli.md)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    if (help->parsed()) {
      std::cout << mmoe::cli::params_markdown();
      return 0;
    }
    for (auto& [sub, action] : commands)
      if (sub->parsed()) return action();
  } catch (const mmoe::Error& e) {
    std::cerr << "mmoe: " << mmoe::to_string(e.kind()) << ": " << e.what() << "\n";
    return exit_code(e.kind());
  } catch (const std::bad_alloc&) {
    std::cerr << "mmoe: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "mmoe: internal error: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
