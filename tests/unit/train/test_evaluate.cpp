// evaluate() takes its metrics, objective and gate statistics from one pass over the data: the same numbers as
// metrics over predict() and gate statistics over predict_gates() (each a pass of its own, both checked against
// one executor's single batch of every row), over several batches with a partial last one, on one and two
// threads; without gate statistics it reports none and the same metrics.
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "mmoe/metrics.h"
#include "mmoe/model.h"
#include "mmoe/train.h"

namespace {

mmoe::ModelSpec spec_of(mmoe::Arch arch) {
  mmoe::ModelSpec s;
  s.arch = arch;
  s.n_expert = 4;
  s.expert_units = {8};
  s.tower_units = {4};
  s.tasks = {{"click", mmoe::TaskKind::binary, 1.0f}, {"value", mmoe::TaskKind::regression, 0.5f}};
  s.n_dense = 5;
  return s;
}

// Rows past two whole prediction batches, so the last batch is partial; every seventh value label is missing.
mmoe::Dataset data_for(const mmoe::ModelSpec& s) {
  std::mt19937 gen(7);
  std::normal_distribution<float> normal;
  mmoe::Dataset d;
  d.rows = 2 * mmoe::kPredictBatch + 123;
  d.n_dense = static_cast<size_t>(s.n_dense);
  d.n_task = 2;
  d.task_names = {"click", "value"};
  for (size_t i = 0; i < d.rows; ++i) {
    for (size_t j = 0; j < d.n_dense; ++j) d.dense.push_back(normal(gen));
    d.labels.push_back(normal(gen) > 0.3f ? 1.0f : 0.0f);
    d.labels.push_back(i % 7 == 3 ? NAN : normal(gen));
  }
  return d;
}

std::vector<float> column(const std::vector<float>& v, size_t rows, size_t stride, size_t k) {
  std::vector<float> out(rows);
  for (size_t i = 0; i < rows; ++i) out[i] = v[i * stride + k];
  return out;
}

TEST(Evaluate, OnePassGivesTheMetricsOfPredictAndTheGateStatsOfPredictGates) {
  for (mmoe::Arch arch : {mmoe::Arch::mmoe, mmoe::Arch::omoe, mmoe::Arch::shared_bottom}) {
    const mmoe::ModelSpec spec = spec_of(arch);
    mmoe::Model model(spec);
    model.init(11);
    const mmoe::Dataset data = data_for(spec);
    for (int threads : {1, 2}) {
      SCOPED_TRACE(std::to_string(static_cast<int>(arch)) + " threads " + std::to_string(threads));
      const std::vector<float> pred = mmoe::predict(model, data, threads);
      const mmoe::Evaluation ev = mmoe::evaluate(model, data, threads);

      const auto click = mmoe::binary_metrics(column(pred, data.rows, 2, 0), column(data.labels, data.rows, 2, 0), {});
      const auto value = mmoe::regression_metrics(column(pred, data.rows, 2, 1), column(data.labels, data.rows, 2, 1), {});
      EXPECT_EQ(ev.tasks.at("click"), click);
      EXPECT_EQ(ev.tasks.at("value"), value);
      EXPECT_TRUE(std::isfinite(ev.loss));
      EXPECT_GT(ev.loss, 0.0);

      if (spec.n_gate() == 0) {
        EXPECT_FALSE(ev.gates.has_value());
        continue;
      }
      const std::vector<float> gates = mmoe::predict_gates(model, data, threads);
      ASSERT_EQ(gates.size(), data.rows * static_cast<size_t>(spec.n_gate() * spec.bank_size()));
      // predict_gates batch by batch against one batch of every row on an executor of its own.
      mmoe::Executor exec(model, data.rows, threads);
      std::vector<float> out(data.rows * 2), direct(gates.size());
      exec.predict(mmoe::BatchView{data.rows, data.dense.data(), nullptr, nullptr, nullptr}, out.data());
      exec.last_gates(direct.data());
      EXPECT_EQ(gates, direct);
      EXPECT_EQ(pred, out);
      mmoe::GateStatsAccumulator whole(spec.n_gate(), spec.bank_size());
      whole.add(gates.data(), data.rows);
      const mmoe::GateStats expected = whole.result();
      ASSERT_TRUE(ev.gates.has_value());
      EXPECT_EQ(ev.gates->rows, data.rows);
      // Batch by batch or all at once, the double sums see the rows in the same order: the same bits.
      EXPECT_EQ(ev.gates->mean_weight, expected.mean_weight);
      EXPECT_EQ(ev.gates->mean_entropy, expected.mean_entropy);
      EXPECT_EQ(ev.gates->entropy_of_mean, expected.entropy_of_mean);

      const mmoe::Evaluation no_gates = mmoe::evaluate(model, data, threads, /*gate_stats=*/false);
      EXPECT_FALSE(no_gates.gates.has_value());
      EXPECT_EQ(no_gates.tasks, ev.tasks);
      EXPECT_EQ(no_gates.loss, ev.loss);
    }
  }
}

TEST(Evaluate, TwoThreadsGiveOneThreadsNumbers) {
  const mmoe::ModelSpec spec = spec_of(mmoe::Arch::mmoe);
  mmoe::Model model(spec);
  model.init(3);
  const mmoe::Dataset data = data_for(spec);
  const mmoe::Evaluation one = mmoe::evaluate(model, data, 1), two = mmoe::evaluate(model, data, 2);
  EXPECT_EQ(one.tasks, two.tasks);
  EXPECT_EQ(one.loss, two.loss);
  ASSERT_TRUE(one.gates && two.gates);
  EXPECT_EQ(one.gates->mean_weight, two.gates->mean_weight);
  EXPECT_EQ(one.gates->mean_entropy, two.gates->mean_entropy);
}

}  // namespace
