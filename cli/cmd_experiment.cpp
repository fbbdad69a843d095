// mmoe experiment: the paper's synthetic experiments (Sec. 3.3, 5; Figs. 2 to 5) from a TOML description.
// Trains every (model, correlation, run), writes the CSVs (mmoe/experiment.h lists them), then draws the figures
// by running gnuplot on the shipped scripts (experiments/plots/*.gp). The scripts are copied into the output
// directory first, so `cd OUT && gnuplot plot/fig4.gp` redraws a figure without rerunning anything.
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "commands.h"
#include "mmoe/error.h"
#include "mmoe/experiment.h"
#include "mmoe/fs.h"

namespace mmoe::cli {

namespace {

namespace fs = std::filesystem;

// The figures, in the order they are drawn: script name (experiments/plots/NAME.gp) -> NAME.svg.
const char* const kPlots[] = {"fig2-label-correlation", "fig3-shared-bottom", "fig4-average-loss",
                              "fig5-final-loss-histograms", "gates"};

struct ExperimentArgs {
  std::string config;
  int runs = 0;
  int threads = 0;
  std::string out_dir = "out/synthetic";
  std::string plots_dir;
  bool no_plots = false;
  bool quiet = false;
  std::vector<std::string> argv;
};

std::string find_gnuplot() {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    const size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string candidate = (end > start ? dirs.substr(start, end - start) : ".") + "/gnuplot";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return {};
}

// The scripts: --plots-dir, else plots/ next to the config file, else the source tree's experiments/plots.
std::string find_plots_dir(const ExperimentArgs& a) {
  std::vector<std::string> candidates;
  if (!a.plots_dir.empty()) candidates.push_back(a.plots_dir);
  else {
    candidates.push_back((fs::path(a.config).parent_path() / "plots").string());
    candidates.push_back(std::string(MMOE_SOURCE_DIR) + "/experiments/plots");
  }
  for (const std::string& dir : candidates)
    if (file_exists(dir + "/" + kPlots[0] + ".gp")) return dir;
  throw Error(ErrorKind::usage, "no gnuplot scripts (" + std::string(kPlots[0]) + ".gp ...) in " + candidates.front(),
              "--plots-dir", "point --plots-dir at mmoe's experiments/plots, or pass --no-plots");
}

// Runs `gnuplot plot/NAME.gp` in out_dir; gnuplot's own messages go to our stderr.
void run_gnuplot(const std::string& gnuplot, const std::string& out_dir, const std::string& script) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw Error(ErrorKind::io, "cannot start gnuplot (fork failed)", gnuplot);
  if (pid == 0) {
    if (::chdir(out_dir.c_str()) != 0) ::_exit(126);
    ::execl(gnuplot.c_str(), "gnuplot", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw Error(ErrorKind::io, "lost the gnuplot process", gnuplot);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error(ErrorKind::io,
                "gnuplot failed on " + script + " (exit status " +
                    std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + "); the CSVs are in " + out_dir,
                out_dir + "/" + script);
}

void copy_script(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) throw Error(ErrorKind::io, "cannot copy the gnuplot script " + from + " (" + ec.message() + ")", to);
}

std::string clock_text(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm%02lds", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  return buf;
}

ExperimentProgressFn progress_line(bool quiet) {
  if (quiet || ::isatty(2) != 1) return {};
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  return [last](const ExperimentProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (p.done != p.total && now - *last < std::chrono::milliseconds(200)) return;
    *last = now;
    const double left = p.elapsed_seconds / static_cast<double>(p.done) * static_cast<double>(p.total - p.done);
    std::fprintf(stderr, "\r\033[Kexperiment: %zu/%zu runs (%.0f%%), %s elapsed, about %s left", p.done, p.total,
                 100.0 * static_cast<double>(p.done) / static_cast<double>(p.total), clock_text(p.elapsed_seconds).c_str(),
                 clock_text(left).c_str());
    if (p.done == p.total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  };
}

int run_experiment_command(const ExperimentArgs& a) {
  ExperimentConfig cfg = load_experiment_config(a.config);
  if (a.runs > 0) cfg.runs = a.runs;
  if (a.threads > 0) cfg.threads = a.threads;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (cfg.threads > static_cast<int>(cores))
    throw Error(ErrorKind::usage,
                "--threads " + std::to_string(cfg.threads) + " is more than this machine's " + std::to_string(cores) +
                    " cores",
                "--threads");
  // Everything that can fail before the long part fails now.
  std::string gnuplot, plots_dir;
  if (!a.no_plots) {
    gnuplot = find_gnuplot();
    if (gnuplot.empty())
      throw Error(ErrorKind::usage, "gnuplot is not installed (no 'gnuplot' on PATH), so the figures cannot be drawn",
                  "gnuplot", "install it (Debian: apt-get install gnuplot-nox) or pass --no-plots for the CSVs only");
    plots_dir = find_plots_dir(a);
  }
  if (!a.quiet) {
    std::cerr << "experiment: " << cfg.models.size() << " models x " << cfg.correlations.size() << " correlations x "
              << cfg.runs << " runs, " << cfg.train.max_steps << " steps of " << cfg.train.batch_size << " rows each, "
              << cfg.threads << " worker threads\n";
  }

  const ExperimentResult res = run_experiment(cfg, progress_line(a.quiet));
  std::vector<std::string> written = write_experiment_files(res, a.out_dir);
  nlohmann::json info = {{"wall_seconds", res.wall_seconds}, {"threads", cfg.threads}, {"runs", cfg.runs},
                         {"config", a.config}, {"command", a.argv}};
  for (size_t m = 0; m < res.specs.size(); ++m) {
    const ModelSpec& s = res.specs[m];
    info["models"][to_string(s.arch)] = {{"parameters", res.n_params[m]}, {"expert_units", s.expert_units},
                                         {"experts", s.bank_size()}, {"tower_units", s.tower_units}};
  }
  write_file_atomic(a.out_dir + "/run.json", info.dump(2) + "\n");
  written.push_back(a.out_dir + "/run.json");

  if (!a.no_plots) {
    copy_script(plots_dir + "/common.gp", a.out_dir + "/plot/common.gp");
    for (const char* name : kPlots) {
      const std::string script = std::string("plot/") + name + ".gp";
      copy_script(plots_dir + "/" + name + ".gp", a.out_dir + "/" + script);
      run_gnuplot(gnuplot, a.out_dir, script);
      written.push_back(a.out_dir + "/" + name + ".svg");
    }
  }
  if (!a.quiet) {
    std::cout << read_file(a.out_dir + "/summary.md");
    std::cout << "\n" << res.runs.size() << " trainings in " << clock_text(res.wall_seconds) << " on " << cfg.threads
              << " threads; wrote " << written.size() << " files to " << a.out_dir << "\n";
  }
  return 0;
}

}  // namespace

Action register_experiment(CLI::App& app) {
  auto a = std::make_shared<ExperimentArgs>();
  app.description(
      "the paper's synthetic experiments: R runs per (model, correlation) with fresh data and initialisation,\n"
      "loss curves, final losses, a summary table, gate weights and Figs. 2-5 (gnuplot, SVG)");
  app.add_option("--config", a->config, "experiment description, e.g. experiments/paper-synthetic.toml")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--runs", a->runs, "runs per (model, correlation), overriding experiment.runs")
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", a->threads, "worker threads (runs in parallel), overriding experiment.threads")
      ->check(CLI::PositiveNumber);
  app.add_option("--out-dir,-o", a->out_dir, "directory for the CSVs and figures")->capture_default_str();
  app.add_option("--plots-dir", a->plots_dir, "directory of the gnuplot scripts (default: plots/ next to the config)");
  app.add_flag("--no-plots", a->no_plots, "write the CSVs only (no gnuplot needed)");
  app.add_flag("--quiet,-q", a->quiet, "no progress line, no summary");
  return [a, &app]() {
    a->argv = {"mmoe", "experiment"};
    for (const CLI::Option* opt : app.get_options())
      if (opt->count() > 0 && opt->get_name() != "--help") {
        a->argv.push_back(opt->get_name());
        for (const std::string& v : opt->results()) a->argv.push_back(v);
      }
    return run_experiment_command(*a);
  };
}

}  // namespace mmoe::cli
