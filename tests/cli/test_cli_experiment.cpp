// `mmoe experiment` through the real binary, on a small description in the shape of the shipped one: it writes
// the per-run curves and final losses, the summary, and the figures with labelled axes and legends (gnuplot).
#include <cstdlib>

#include "cli/cli_harness.h"

namespace {

using namespace mmoe_cli_test;  // CliDir, CliResult, slurp, lines

// experiments/paper-synthetic.toml, shrunk: 2 runs per cell, small data, 40 steps.
const char* kTinyExperiment = R"([experiment]
models = ["shared-bottom", "omoe", "mmoe"]
correlations = [0.5, 1.0]
runs = 2
seed = 7
threads = 2

[data]
dim = 10
train_rows = 300
heldout_rows = 100

[model]
experts = 3
expert_units = [4]
tower_units = [2]
bottom_units = [8]

[train]
lr = 0.01
batch_size = 32
steps = 40
eval_every = 10

[sweep]
trials = 2
rows = 200
)";

bool have_gnuplot() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

TEST(CliExperiment, WritesCurvesSummaryAndFigures) {
  MMOE_REQUIRE_CLI();
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot is not installed (tools/setup.sh installs gnuplot-nox)";
  CliDir dir;
  dir.write("tiny.toml", kTinyExperiment);
  const std::string plots = std::string(MMOE_SOURCE_DIR) + "/experiments/plots";
  const CliResult r = dir.run({"experiment", "--config", "tiny.toml", "--plots-dir", plots, "--out-dir", "out", "-q"});
  ASSERT_EQ(r.code, 0) << r.err;

  // 3 models x 2 correlations x 2 runs = 12 final losses (plus a header); 4 curve points per run.
  EXPECT_EQ(lines(slurp(dir.path("out/final.csv"))).size(), 13u);
  EXPECT_EQ(lines(slurp(dir.path("out/curves.csv"))).size(), 1u + 12u * 4u);
  const std::string summary = slurp(dir.path("out/summary.md"));
  for (const char* model : {"| Shared-Bottom |", "| OMoE |", "| MMoE |"}) EXPECT_NE(summary.find(model), std::string::npos) << summary;

  // Every figure is an SVG whose axes are labelled and which carries a legend or a title.
  for (const char* fig : {"fig2-label-correlation.svg", "fig3-shared-bottom.svg", "fig4-average-loss.svg",
                          "fig5-final-loss-histograms.svg", "gates.svg"}) {
    const std::string svg = slurp(dir.path(std::string("out/") + fig));
    ASSERT_FALSE(svg.empty()) << fig << " was not written";
    EXPECT_NE(svg.find("<svg"), std::string::npos) << fig;
    EXPECT_NE(svg.find("</svg>"), std::string::npos) << fig << " is cut short";
    EXPECT_GE(lines(svg).size(), 50u) << fig << " looks empty";
  }
  EXPECT_NE(slurp(dir.path("out/fig4-average-loss.svg")).find("MMoE"), std::string::npos);  // the legend
  EXPECT_NE(slurp(dir.path("out/fig2-label-correlation.svg")).find("cosine"), std::string::npos);  // the x label
}

TEST(CliExperiment, SameSeedSameResults) {
  MMOE_REQUIRE_CLI();
  CliDir dir;
  dir.write("tiny.toml", kTinyExperiment);
  for (const char* out : {"a", "b"})
    ASSERT_EQ(dir.run({"experiment", "--config", "tiny.toml", "--no-plots", "--out-dir", out, "-q"}).code, 0);
  // final.csv's last column is each run's wall time; everything else must match to the digit.
  EXPECT_EQ(slurp(dir.path("a/curves.csv")), slurp(dir.path("b/curves.csv")));
  EXPECT_EQ(slurp(dir.path("a/summary.csv")), slurp(dir.path("b/summary.csv")));
  EXPECT_EQ(slurp(dir.path("a/gates.csv")), slurp(dir.path("b/gates.csv")));
}

}  // namespace
