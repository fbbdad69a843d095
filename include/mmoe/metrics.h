// mmoe/metrics.h: evaluation metrics over flat spans, and gate statistics.
//
// Every metric takes one task's column: scores (rows), labels (rows), and optional sample weights (rows,
// empty = every weight 1). Rows whose label is NaN are skipped (NaN = "no label for this task on this row",
// see mmoe/dataset.h), so a task column can be passed as is. Sums are in double. A metric over zero
// labelled weight is NaN, never an exception: an empty validation split is a fact to report, not an error.
//
// Binary metrics take probabilities (Executor::predict output), labels 0/1 (a label > 0.5 is positive):
//   auc       exact ROC AUC = weighted Mann-Whitney U / (W+ W-); a tied (positive, negative) pair counts 1/2,
//             which is what sklearn's roc_auc_score computes. NaN when either class has no weight.
//   logloss   -mean[y log p + (1-y) log(1-p)], p clipped to [1e-7, 1-1e-7] so one confident miss is finite.
//   accuracy  mean[(p >= 0.5) == (y > 0.5)].
// Regression metrics take predicted values:
//   mse, mae  weighted means of squared / absolute errors.
//   r2        1 - SSE/SST, SST about the weighted mean label; NaN when SST = 0 (constant labels).
//
//   std::vector<float> prob(rows), y(rows);                 // one task's column
//   double a = mmoe::auc(prob, y);                           // unweighted
//   auto m = mmoe::binary_metrics(prob, y, weights);         // {"auc", "logloss", "accuracy", "count", "positives"}
//
// Gate statistics (the paper's Fig. 6 view: how each task's gate spreads over the experts) are streamed
// batch by batch from Executor::last_gates:
//   mmoe::GateStatsAccumulator acc(n_gate, n_expert);
//   for (each batch) { exec.predict(batch, out); exec.last_gates(gates.data()); acc.add(gates.data(), rows); }
//   mmoe::GateStats stats = acc.result();   // stats.mean_weight[g * n_expert + e]
//
// Mismatched span lengths throw ErrorKind::usage (where = the metric name); a negative or non-finite weight
// throws ErrorKind::input naming the row. A NaN score on a labelled row throws ErrorKind::input in auc (it has
// no place in the ranking) and propagates as a NaN result in the pointwise metrics.
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace mmoe {

// Exact ROC AUC in O(n log n) (radix sort of the scores; 100k rows take about a millisecond).
double auc(std::span<const float> scores, std::span<const float> labels, std::span<const float> weights = {});
// Binary cross-entropy of probabilities, clipped to [1e-7, 1 - 1e-7].
double logloss(std::span<const float> probs, std::span<const float> labels, std::span<const float> weights = {});
// Share of (weighted) rows with (p >= 0.5) == (label > 0.5).
double accuracy(std::span<const float> probs, std::span<const float> labels, std::span<const float> weights = {});
// Weighted mean squared error.
double mse(std::span<const float> preds, std::span<const float> labels, std::span<const float> weights = {});
// Weighted mean absolute error.
double mae(std::span<const float> preds, std::span<const float> labels, std::span<const float> weights = {});
// Coefficient of determination, 1 - SSE/SST about the weighted mean label.
double r2(std::span<const float> preds, std::span<const float> labels, std::span<const float> weights = {});

// {"auc", "logloss", "accuracy", "count", "positives"}; count and positives are numbers of labelled rows
// (not weights), so a report can tell a tiny split from a small-weight one.
std::map<std::string, double> binary_metrics(std::span<const float> probs, std::span<const float> labels,
                                             std::span<const float> weights = {});
// {"mse", "mae", "r2", "count"}; count is the number of labelled rows.
std::map<std::string, double> regression_metrics(std::span<const float> preds, std::span<const float> labels,
                                                 std::span<const float> weights = {});

// How gates distribute over experts, averaged over rows. Entropies are in nats: a uniform gate over E
// experts has entropy log E, a one-hot gate 0. mean_entropy low but entropy_of_mean high means each row
// picks few experts but different rows pick different ones (specialisation); both high means a gate that
// just averages the experts.
struct GateStats {
  int n_gate = 0;
  int n_expert = 0;
  size_t rows = 0;                       // rows accumulated
  std::vector<double> mean_weight;       // (n_gate, n_expert): mean gate probability of each expert
  std::vector<double> mean_entropy;      // (n_gate): mean over rows of -sum_e p log p
  std::vector<double> entropy_of_mean;   // (n_gate): -sum_e m log m of the mean distribution m
};

// Streams gate probabilities batch by batch; sums are kept in double, so the result does not depend on
// how the rows were split into batches (up to rounding). With no rows, result() has NaN statistics.
class GateStatsAccumulator {
 public:
  // Throws ErrorKind::usage unless n_gate >= 0 and n_expert >= 1.
  GateStatsAccumulator(int n_gate, int n_expert);

  // gates: (rows, n_gate * n_expert) row-major, gate g of row r at gates[r * n_gate * n_expert + g * n_expert].
  void add(const float* gates, size_t rows);
  GateStats result() const;

 private:
  int n_gate_;
  int n_expert_;
  size_t rows_ = 0;
  std::vector<double> sum_weight_;   // (n_gate, n_expert)
  std::vector<double> sum_entropy_;  // (n_gate)
};

}  // namespace mmoe
