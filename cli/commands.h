// cli/commands.h: one function per subcommand. Each registers its flags on a CLI11 subcommand and returns
// the action to run once parsing succeeded. The actions throw mmoe::Error; main() maps it to an exit code.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace mmoe::cli {

// Flags every data-consuming command shares.
struct CommonArgs {
  std::string config;
  std::string preset;
  std::map<std::string, std::string> raw;  // setting key -> flag value, when given
  std::map<std::string, std::vector<std::string>> raw_lists;
  bool quiet = false;
};

using Action = std::function<int()>;

Action register_synth(CLI::App& app);
Action register_train(CLI::App& app);
Action register_eval(CLI::App& app);
Action register_predict(CLI::App& app);
Action register_experiment(CLI::App& app);

}  // namespace mmoe::cli
