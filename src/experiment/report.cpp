// An experiment's numbers as files: CSVs for people and other tools, and gnuplot data blocks for the shipped
// scripts in experiments/plots/. Every number is printed with %.9g, so equal results give equal bytes.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "mmoe/error.h"
#include "mmoe/experiment.h"
#include "mmoe/fs.h"

namespace mmoe {

namespace {

std::string num(double v) {
  if (std::isnan(v)) return "nan";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string fixed(double v, int digits) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Mean and standard deviation of the curves of one (model, correlation), point by point. Every run has the
// same steps (max_steps and eval_every are fixed), so points line up.
std::string mean_curve_block(const ExperimentResult& r, int m, int c) {
  std::ostringstream out;
  const size_t points = r.at(m, c, 0).curve.size();
  for (size_t p = 0; p < points; ++p) {
    std::vector<double> tr, ho;
    for (int run = 0; run < r.config.runs; ++run) {
      tr.push_back(r.at(m, c, run).curve[p].train_loss);
      ho.push_back(r.at(m, c, run).curve[p].valid_loss);
    }
    const Summary a = summarize(tr), b = summarize(ho);
    out << r.at(m, c, 0).curve[p].step << " " << num(a.mean) << " " << num(b.mean) << " " << num(a.std) << " "
        << num(b.std) << "\n";
  }
  return out.str();
}

void write(const std::string& path, const std::string& text, std::vector<std::string>& written) {
  write_file_atomic(path, text);
  written.push_back(path);
}

}  // namespace

std::vector<GateRow> gate_table(const ExperimentResult& r) {
  std::vector<GateRow> rows;
  const ExperimentConfig& cfg = r.config;
  for (size_t m = 0; m < cfg.models.size(); ++m) {
    const ModelSpec& spec = r.specs[m];
    if (spec.n_gate() == 0) continue;
    const int E = spec.bank_size(), T = spec.n_task();
    for (size_t c = 0; c < cfg.correlations.size(); ++c) {
      // ranked[(k * E + rank) * runs + run]
      std::vector<double> ranked(static_cast<size_t>(T * E * cfg.runs));
      for (int run = 0; run < cfg.runs; ++run) {
        const std::vector<double>& w = r.at(static_cast<int>(m), static_cast<int>(c), run).gate_weight;
        std::vector<int> order(static_cast<size_t>(E));
        for (int e = 0; e < E; ++e) order[e] = e;
        // Task 0's favourite expert first; ties keep index order so the ranking is deterministic.
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return w[a] > w[b]; });
        for (int k = 0; k < T; ++k)
          for (int rank = 0; rank < E; ++rank)
            ranked[static_cast<size_t>((k * E + rank) * cfg.runs + run)] = w[static_cast<size_t>(k * E + order[rank])];
      }
      for (int k = 0; k < T; ++k)
        for (int rank = 0; rank < E; ++rank) {
          const Summary s = summarize(std::span<const double>(
              ranked.data() + static_cast<size_t>((k * E + rank) * cfg.runs), static_cast<size_t>(cfg.runs)));
          rows.push_back(GateRow{static_cast<int>(m), static_cast<int>(c), k, rank, s.mean, s.std});
        }
    }
  }
  return rows;
}

std::vector<std::string> write_experiment_files(const ExperimentResult& r, const std::string& out_dir) {
  const ExperimentConfig& cfg = r.config;
  const int n_model = static_cast<int>(cfg.models.size());
  const int n_corr = static_cast<int>(cfg.correlations.size());
  const std::string plot_dir = out_dir + "/plot";
  std::error_code ec;
  std::filesystem::create_directories(plot_dir, ec);
  if (ec) throw Error(ErrorKind::io, "cannot create the output directory (" + ec.message() + ")", plot_dir);
  std::vector<std::string> written;
  auto model_name = [&](int m) { return std::string(to_string(cfg.models[static_cast<size_t>(m)])); };
  auto corr_name = [&](int c) { return num(cfg.correlations[static_cast<size_t>(c)]); };

  {
    std::ostringstream out;
    out << "model,correlation,run,step,train_loss,heldout_loss\n";
    for (const RunResult& run : r.runs)
      for (const CurvePoint& p : run.curve)
        out << model_name(run.model) << "," << corr_name(run.correlation) << "," << run.run << "," << p.step << ","
            << num(p.train_loss) << "," << num(p.valid_loss) << "\n";
    write(out_dir + "/curves.csv", out.str(), written);
  }
  {
    std::ostringstream out;
    out << "model,correlation,run,train_loss,heldout_loss,seconds\n";
    for (const RunResult& run : r.runs)
      out << model_name(run.model) << "," << corr_name(run.correlation) << "," << run.run << "," << num(run.train_loss)
          << "," << num(run.heldout_loss) << "," << fixed(run.seconds, 3) << "\n";
    write(out_dir + "/final.csv", out.str(), written);
  }
  {
    // The held-out loss is the headline; the training loss separates fitting (trainability) from overfitting.
    std::ostringstream csv, md;
    csv << "split,model,correlation,runs,mean,std,min,median,max\n";
    for (const bool heldout : {true, false}) {
      const char* split = heldout ? "heldout" : "train";
      if (heldout)
        md << "Final held-out loss (MSE(y1) + MSE(y2) on " << cfg.heldout_rows << " fresh rows of each run's task; noise "
           << "floor " << num(2.0 * cfg.synth.noise_std * cfg.synth.noise_std) << "), " << cfg.runs
           << " runs per row:\n\n";
      else
        md << "\nFinal training loss (the same objective on the run's " << cfg.train_rows << " training rows):\n\n";
      md << "| model | parameters | correlation | runs | mean | std | min | median | max |\n";
      md << "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
      for (int c = 0; c < n_corr; ++c)
        for (int m = 0; m < n_model; ++m) {
          std::vector<double> v;
          for (int run = 0; run < cfg.runs; ++run)
            v.push_back(heldout ? r.at(m, c, run).heldout_loss : r.at(m, c, run).train_loss);
          const Summary s = summarize(v);
          csv << split << "," << model_name(m) << "," << corr_name(c) << "," << s.n << "," << num(s.mean) << ","
              << num(s.std) << "," << num(s.min) << "," << num(s.median) << "," << num(s.max) << "\n";
          md << "| " << display_name(cfg.models[static_cast<size_t>(m)]) << " | "
             << r.n_params[static_cast<size_t>(m)] << " | " << corr_name(c) << " | " << s.n << " | " << fixed(s.mean, 4)
             << " | " << fixed(s.std, 4) << " | " << fixed(s.min, 4) << " | " << fixed(s.median, 4) << " | "
             << fixed(s.max, 4) << " |\n";
        }
    }
    write(out_dir + "/summary.csv", csv.str(), written);
    write(out_dir + "/summary.md", md.str(), written);
  }
  const std::vector<GateRow> gates = gate_table(r);
  {
    std::ostringstream out;
    out << "model,correlation,task,expert_rank,mean_weight,std_weight\n";
    for (const GateRow& g : gates)
      out << model_name(g.model) << "," << corr_name(g.correlation) << ","
          << r.specs[static_cast<size_t>(g.model)].tasks[static_cast<size_t>(g.task)].name << "," << g.rank + 1 << ","
          << num(g.mean) << "," << num(g.std) << "\n";
    write(out_dir + "/gates.csv", out.str(), written);
  }
  {
    std::ostringstream csv, dat;
    csv << "cosine,trials,mean,std,min,max\n";
    dat << "# cosine mean std mean-2std mean+2std min max\n";
    for (const SweepPoint& p : r.sweep) {
      const Summary s = summarize(p.pearson);
      csv << num(p.cosine) << "," << s.n << "," << num(s.mean) << "," << num(s.std) << "," << num(s.min) << ","
          << num(s.max) << "\n";
      dat << num(p.cosine) << " " << num(s.mean) << " " << num(s.std) << " " << num(s.mean - 2 * s.std) << " "
          << num(s.mean + 2 * s.std) << " " << num(s.min) << " " << num(s.max) << "\n";
    }
    write(out_dir + "/fig2.csv", csv.str(), written);
    write(plot_dir + "/fig2.dat", dat.str(), written);
  }

  // gnuplot data: blocks separated by two blank lines, block (m - 1) * n_corr + (c - 1) for model m and
  // correlation c (1-based), so a script selects one with `index`.
  {
    std::ostringstream curves;
    curves << "# step mean_train_loss mean_heldout_loss std_train_loss std_heldout_loss\n";
    for (int m = 0; m < n_model; ++m)
      for (int c = 0; c < n_corr; ++c)
        curves << "# " << model_name(m) << " correlation " << corr_name(c) << "\n" << mean_curve_block(r, m, c) << "\n\n";
    write(plot_dir + "/curves_mean.dat", curves.str(), written);
  }
  std::string gated_models;
  int n_gated = 0;
  {
    // Block (g - 1) * n_corr + (c - 1) for the g-th gated model: rank, then mean and std of each task's gate.
    std::ostringstream out;
    out << "# expert_rank mean_y1 mean_y2 std_y1 std_y2 (experts ranked by task y1's gate weight)\n";
    for (int m = 0; m < n_model; ++m) {
      const ModelSpec& spec = r.specs[static_cast<size_t>(m)];
      if (spec.n_gate() == 0 || spec.n_task() != 2) continue;
      gated_models += (gated_models.empty() ? "" : " ") + std::to_string(m + 1);
      ++n_gated;
      for (int c = 0; c < n_corr; ++c) {
        out << "# " << model_name(m) << " correlation " << corr_name(c) << "\n";
        const int E = spec.bank_size();
        for (int rank = 0; rank < E; ++rank) {
          const GateRow* row[2] = {nullptr, nullptr};
          for (const GateRow& g : gates)
            if (g.model == m && g.correlation == c && g.rank == rank) row[g.task] = &g;
          out << rank + 1 << " " << num(row[0]->mean) << " " << num(row[1]->mean) << " " << num(row[0]->std) << " "
              << num(row[1]->std) << "\n";
        }
        out << "\n\n";
      }
    }
    write(plot_dir + "/gates.dat", out.str(), written);
  }
  {
    std::ostringstream out;
    auto words = [&](auto f, int n) {
      std::string s;
      for (int i = 0; i < n; ++i) {
        if (i > 0) s += ' ';
        s += f(i);
      }
      return s;
    };
    out << "# written by mmoe experiment: what the data files hold\n";
    out << "models = \"" << words(model_name, n_model) << "\"\n";
    out << "titles = \"" << words([&](int m) { return std::string(display_name(cfg.models[static_cast<size_t>(m)])); },
                                  n_model)
        << "\"\n";
    out << "n_model = " << n_model << "\n";
    out << "correlations = \"" << words(corr_name, n_corr) << "\"\n";
    out << "n_corr = " << n_corr << "\n";
    out << "gated = \"" << gated_models << "\"\n";
    out << "n_gated = " << n_gated << "\n";
    out << "runs = " << cfg.runs << "\n";
    out << "steps = " << cfg.train.max_steps << "\n";
    out << "curve_points = " << cfg.train.max_steps / cfg.train.eval_every_steps << "\n";
    out << "batch_size = " << cfg.train.batch_size << "\n";
    out << "lr = " << num(cfg.train.optim.lr) << "\n";
    out << "train_rows = " << cfg.train_rows << "\n";
    out << "heldout_rows = " << cfg.heldout_rows << "\n";
    out << "n_expert = " << cfg.spec.n_expert << "\n";
    out << "sweep_trials = " << cfg.sweep_trials << "\n";
    out << "sweep_rows = " << cfg.sweep_rows << "\n";
    out << "sines = " << cfg.synth.n_sines << "\n";
    out << "noise_floor = " << num(2.0 * cfg.synth.noise_std * cfg.synth.noise_std) << "\n";
    write(plot_dir + "/meta.gp", out.str(), written);
  }
  return written;
}

}  // namespace mmoe
