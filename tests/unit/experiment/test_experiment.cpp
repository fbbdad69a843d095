// The synthetic-experiment driver: files and their rows, determinism across thread counts, the summary
// statistics on hand examples, and the TOML description's error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "mmoe/error.h"
#include "mmoe/experiment.h"
#include "mmoe/fs.h"
#include "mmoe/model.h"

namespace {

// 2 models x 2 correlations x 2 runs of 40 steps on a small problem: well under a second.
mmoe::ExperimentConfig tiny_config() {
  mmoe::ExperimentConfig c;
  c.models = {mmoe::Arch::shared_bottom, mmoe::Arch::mmoe};
  c.correlations = {0.5, 1.0};
  c.runs = 2;
  c.seed = 11;
  c.synth.d = 8;
  c.synth.n_sines = 3;
  c.train_rows = 200;
  c.heldout_rows = 50;
  c.spec.n_expert = 3;
  c.spec.expert_units = {4};
  c.spec.tower_units = {2};
  c.train.batch_size = 16;
  c.train.max_steps = 40;
  c.train.eval_every_steps = 10;
  c.train.optim.lr = 1e-2;
  c.sweep_cosines = {0.0, 0.5, 1.0};
  c.sweep_trials = 3;
  c.sweep_rows = 100;
  return c;
}

std::string temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("mmoe_test_experiment_" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(Experiment, SummaryOnHandExamples) {
  const std::vector<double> odd = {10.0, 1.0, 3.0, 2.0, 4.0};  // sorted 1 2 3 4 10
  const mmoe::Summary s = mmoe::summarize(odd);
  EXPECT_EQ(s.n, 5u);
  EXPECT_DOUBLE_EQ(s.mean, 4.0);
  // squared deviations 9 + 4 + 1 + 0 + 36 = 50, over n - 1 = 4
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(12.5));
  EXPECT_DOUBLE_EQ(s.min, 1.0);
  EXPECT_DOUBLE_EQ(s.median, 3.0);
  EXPECT_DOUBLE_EQ(s.max, 10.0);

  const std::vector<double> even = {0.4, 0.1, 0.3, 0.2};
  const mmoe::Summary e = mmoe::summarize(even);
  EXPECT_DOUBLE_EQ(e.median, 0.25);  // mean of the middle two
  EXPECT_NEAR(e.mean, 0.25, 1e-15);
  EXPECT_NEAR(e.std, std::sqrt(0.05 / 3.0), 1e-15);

  const std::vector<double> one = {7.0};
  EXPECT_DOUBLE_EQ(mmoe::summarize(one).std, 0.0);
  EXPECT_TRUE(std::isnan(mmoe::summarize(std::vector<double>{}).mean));
}

TEST(Experiment, PearsonOnHandExamples) {
  const std::vector<double> x = {1, 2, 3, 4}, y = {2, 4, 6, 8}, z = {4, 3, 2, 1}, w = {1, 0, 0, 1};
  EXPECT_NEAR(mmoe::pearson(x, y), 1.0, 1e-15);
  EXPECT_NEAR(mmoe::pearson(x, z), -1.0, 1e-15);
  EXPECT_NEAR(mmoe::pearson(x, w), 0.0, 1e-15);
  EXPECT_TRUE(std::isnan(mmoe::pearson(x, std::vector<double>{5, 5, 5, 5})));
}

TEST(Experiment, MatchedBottomHasTheMmoeParameterCount) {
  mmoe::ExperimentConfig c;  // the paper's shapes: d = 100, 8 experts x 16, towers of 8
  const mmoe::ModelSpec moe = mmoe::experiment_spec(c, 2);
  ASSERT_EQ(moe.arch, mmoe::Arch::mmoe);
  const int w = mmoe::matched_bottom_units(moe);
  const mmoe::ModelSpec sb = mmoe::experiment_spec(c, 0);
  EXPECT_EQ(sb.expert_units, std::vector<int>{w});
  auto params = [&](int width) {
    mmoe::ModelSpec s = sb;
    s.expert_units = {width};
    return static_cast<double>(mmoe::Model(s).n_params());
  };
  const double target = static_cast<double>(mmoe::Model(moe).n_params());
  EXPECT_LE(std::fabs(params(w) - target), std::fabs(params(w - 1) - target));
  EXPECT_LE(std::fabs(params(w) - target), std::fabs(params(w + 1) - target));
  EXPECT_EQ(w, 126);  // 14834 MMoE parameters; 117 w + 34 for the bottom and towers
}

TEST(Experiment, TinyExperimentWritesEveryFileWithTheRightRows) {
  const mmoe::ExperimentConfig cfg = tiny_config();
  size_t calls = 0, last_done = 0;
  const mmoe::ExperimentResult res = mmoe::run_experiment(cfg, [&](const mmoe::ExperimentProgress& p) {
    ++calls;
    EXPECT_EQ(p.done, last_done + 1);
    last_done = p.done;
    EXPECT_EQ(p.total, 8u);
  });
  EXPECT_EQ(calls, 8u);
  ASSERT_EQ(res.runs.size(), 8u);
  for (int m = 0; m < 2; ++m)
    for (int c = 0; c < 2; ++c)
      for (int r = 0; r < 2; ++r) {
        const mmoe::RunResult& run = res.at(m, c, r);
        EXPECT_EQ(run.model, m);
        EXPECT_EQ(run.correlation, c);
        EXPECT_EQ(run.run, r);
        ASSERT_EQ(run.curve.size(), 4u);  // 40 steps, a point every 10
        EXPECT_EQ(run.curve.back().step, 40);
        EXPECT_TRUE(std::isfinite(run.curve.back().valid_loss));
        EXPECT_TRUE(std::isfinite(run.heldout_loss));
        // The last curve point's held-out loss is the final one (no training after it).
        EXPECT_NEAR(run.curve.back().valid_loss, run.heldout_loss, 1e-9 * (1.0 + run.heldout_loss));
        EXPECT_EQ(run.gate_weight.size(), m == 1 ? 2u * 3u : 0u);
        if (m == 1) {
          double sum = 0.0;
          for (int e = 0; e < 3; ++e) sum += run.gate_weight[e];
          EXPECT_NEAR(sum, 1.0, 1e-5);
        }
      }

  const std::string dir = temp_dir("files");
  mmoe::write_experiment_files(res, dir);
  const auto curves = lines(dir + "/curves.csv");
  ASSERT_EQ(curves.size(), 1u + 8u * 4u);
  EXPECT_EQ(curves[0], "model,correlation,run,step,train_loss,heldout_loss");
  EXPECT_EQ(curves[1].rfind("shared-bottom,0.5,0,10,", 0), 0u);
  const auto final_rows = lines(dir + "/final.csv");
  ASSERT_EQ(final_rows.size(), 1u + 8u);
  EXPECT_EQ(final_rows[0], "model,correlation,run,train_loss,heldout_loss,seconds");
  EXPECT_EQ(final_rows[8].rfind("mmoe,1,1,", 0), 0u);
  const auto summary = lines(dir + "/summary.csv");
  ASSERT_EQ(summary.size(), 1u + 2u * 4u);  // heldout and train, 2 models x 2 correlations
  EXPECT_EQ(summary[0], "split,model,correlation,runs,mean,std,min,median,max");
  EXPECT_EQ(summary[1].rfind("heldout,shared-bottom,0.5,2,", 0), 0u);
  const auto gates = lines(dir + "/gates.csv");
  ASSERT_EQ(gates.size(), 1u + 2u * 2u * 3u);  // mmoe only: 2 correlations x 2 tasks x 3 experts
  EXPECT_EQ(gates[1].rfind("mmoe,0.5,y1,1,", 0), 0u);
  const auto fig2 = lines(dir + "/fig2.csv");
  ASSERT_EQ(fig2.size(), 1u + 3u);
  EXPECT_EQ(fig2[3].rfind("1,3,", 0), 0u);
  for (const char* f : {"summary.md", "plot/meta.gp", "plot/curves_mean.dat", "plot/gates.dat", "plot/fig2.dat"})
    EXPECT_TRUE(mmoe::file_exists(dir + "/" + f)) << f;

  // The summary row is the statistics of the final.csv values it summarises.
  std::vector<double> v = {res.at(0, 0, 0).heldout_loss, res.at(0, 0, 1).heldout_loss};
  const mmoe::Summary s = mmoe::summarize(v);
  EXPECT_NEAR(s.mean, 0.5 * (v[0] + v[1]), 1e-15);
  EXPECT_NEAR(s.std, std::fabs(v[0] - v[1]) / std::sqrt(2.0), 1e-12);
  std::filesystem::remove_all(dir);
}

TEST(Experiment, OutputDoesNotDependOnThreadsOrTiming) {
  mmoe::ExperimentConfig one = tiny_config();
  one.threads = 1;
  mmoe::ExperimentConfig two = tiny_config();
  two.threads = 2;
  const std::string d1 = temp_dir("t1"), d2 = temp_dir("t2");
  mmoe::write_experiment_files(mmoe::run_experiment(one), d1);
  mmoe::write_experiment_files(mmoe::run_experiment(two), d2);
  // final.csv carries wall times; everything else must be byte-identical.
  for (const char* f : {"curves.csv", "summary.csv", "summary.md", "gates.csv", "fig2.csv", "plot/curves_mean.dat",
                        "plot/gates.dat"})
    EXPECT_EQ(mmoe::read_file(d1 + "/" + f), mmoe::read_file(d2 + "/" + f)) << f;
  auto without_seconds = [](const std::string& path) {
    std::string out;
    for (const std::string& line : lines(path)) out += line.substr(0, line.rfind(',')) + "\n";
    return out;
  };
  EXPECT_EQ(without_seconds(d1 + "/final.csv"), without_seconds(d2 + "/final.csv"));
  std::filesystem::remove_all(d1);
  std::filesystem::remove_all(d2);
}

TEST(Experiment, RunIsTheSameWhateverTheNumberOfRuns) {
  mmoe::ExperimentConfig cfg = tiny_config();
  const mmoe::ModelSpec spec = mmoe::experiment_spec(cfg, 1);
  const mmoe::RunResult a = mmoe::run_one(cfg, spec, 1, 0, 1);
  cfg.runs = 50;
  const mmoe::RunResult b = mmoe::run_one(cfg, spec, 1, 0, 1);
  EXPECT_EQ(a.heldout_loss, b.heldout_loss);
  EXPECT_EQ(a.gate_weight, b.gate_weight);
}

TEST(Experiment, SweepFollowsTheCosine) {
  mmoe::ExperimentConfig cfg = tiny_config();
  cfg.synth.n_sines = 0;  // linear labels: Pearson ~ p (the noise is small against |w| = 1)
  cfg.sweep_rows = 4000;
  const std::vector<mmoe::SweepPoint> sweep = mmoe::label_correlation_sweep(cfg, 2);
  ASSERT_EQ(sweep.size(), 3u);
  for (const mmoe::SweepPoint& p : sweep) {
    ASSERT_EQ(p.pearson.size(), 3u);
    for (double r : p.pearson) EXPECT_NEAR(r, p.cosine * 0.99, 0.06) << p.cosine;
  }
}

TEST(Experiment, ShippedDescriptionParses) {
  const mmoe::ExperimentConfig c =
      mmoe::load_experiment_config(std::string(MMOE_SOURCE_DIR) + "/experiments/paper-synthetic.toml");
  EXPECT_EQ(c.runs, 200);
  EXPECT_EQ(c.models.size(), 3u);
  EXPECT_EQ(c.correlations, (std::vector<double>{0.5, 0.9, 1.0}));
  EXPECT_EQ(c.synth.d, 100);
  EXPECT_EQ(c.spec.n_expert, 8);
  EXPECT_EQ(c.spec.expert_units, std::vector<int>{16});
  EXPECT_EQ(c.spec.tower_units, std::vector<int>{8});
  EXPECT_EQ(c.bottom_units, std::vector<int>{113});
  const double lr = c.train.optim.lr;
  EXPECT_TRUE(lr == 1e-4 || lr == 1e-3 || lr == 1e-2) << lr;
}

TEST(Experiment, ConfigErrorsNameTheKey) {
  auto error_of = [](const std::string& text) -> mmoe::Error {
    try {
      mmoe::parse_experiment_config(text, "e.toml");
    } catch (const mmoe::Error& e) {
      return e;
    }
    ADD_FAILURE() << "no error for: " << text;
    return mmoe::Error(mmoe::ErrorKind::internal, "none");
  };
  mmoe::Error e = error_of("[train]\nbatchsize = 64\n");
  EXPECT_EQ(e.kind(), mmoe::ErrorKind::usage);
  EXPECT_EQ(e.where(), "train.batchsize");
  EXPECT_NE(std::string(e.what()).find("e.toml:2:1"), std::string::npos) << e.what();
  EXPECT_NE(e.hint().find("did you mean 'train.batch_size'"), std::string::npos) << e.hint();

  e = error_of("[experiment]\nrun = 3\n");
  EXPECT_EQ(e.where(), "experiment.run");
  EXPECT_NE(e.hint().find("'experiment.runs'"), std::string::npos) << e.hint();

  e = error_of("[sweeps]\ntrials = 3\n");
  EXPECT_NE(e.hint().find("'sweep'"), std::string::npos) << e.hint();

  e = error_of("[experiment]\nruns = 0\n");
  EXPECT_EQ(e.where(), "experiment.runs");
  e = error_of("[experiment]\ncorrelations = [0.5, 1.5]\n");
  EXPECT_EQ(e.where(), "experiment.correlations");
  e = error_of("[experiment]\nmodels = [\"mmoe\", \"mmeo\"]\n");
  EXPECT_EQ(e.where(), "experiment.models");
  e = error_of("[train]\nlr = \"fast\"\n");
  EXPECT_EQ(e.where(), "train.lr");
  e = error_of("[model]\nbottom_units = \"wide\"\n");
  EXPECT_EQ(e.where(), "model.bottom_units");
  EXPECT_TRUE(mmoe::parse_experiment_config("[model]\nbottom_units = \"matched\"\n").bottom_units.empty());
}

}  // namespace
