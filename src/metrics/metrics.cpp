// Pointwise metrics (logloss, accuracy, mse, mae, r2) and the per-task metric maps.
//
// All share one shape: a weighted mean over rows with a label. NaN predictions on labelled rows are not
// checked here: they propagate into the result as NaN, which is the honest answer for a diverged model.
#include <algorithm>
#include <cmath>
#include <limits>

#include "metrics/metric_checks.h"
#include "mmoe/metrics.h"

namespace mmoe {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kProbClip = 1e-7;

// Weighted mean of term(score, label) over labelled rows; NaN when the labelled weight is 0.
template <typename Term>
double weighted_mean(const char* metric, std::span<const float> scores, std::span<const float> labels,
                     std::span<const float> weights, Term term) {
  detail::check_metric_spans(metric, scores, labels, weights);
  double sum = 0.0, wsum = 0.0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (std::isnan(labels[i])) continue;
    const double w = detail::metric_weight(metric, weights, i);
    sum += w * term(static_cast<double>(scores[i]), static_cast<double>(labels[i]));
    wsum += w;
  }
  return wsum > 0.0 ? sum / wsum : kNaN;
}

size_t count_labelled(std::span<const float> labels) {
  size_t n = 0;
  for (float y : labels) n += !std::isnan(y);
  return n;
}

}  // namespace

double logloss(std::span<const float> probs, std::span<const float> labels, std::span<const float> weights) {
  return weighted_mean("logloss", probs, labels, weights, [](double p, double y) {
    p = std::clamp(p, kProbClip, 1.0 - kProbClip);
    return -(y * std::log(p) + (1.0 - y) * std::log(1.0 - p));
  });
}

double accuracy(std::span<const float> probs, std::span<const float> labels, std::span<const float> weights) {
  return weighted_mean("accuracy", probs, labels, weights,
                       [](double p, double y) { return ((p >= 0.5) == (y > 0.5)) ? 1.0 : 0.0; });
}

double mse(std::span<const float> preds, std::span<const float> labels, std::span<const float> weights) {
  return weighted_mean("mse", preds, labels, weights, [](double p, double y) { return (p - y) * (p - y); });
}

double mae(std::span<const float> preds, std::span<const float> labels, std::span<const float> weights) {
  return weighted_mean("mae", preds, labels, weights, [](double p, double y) { return std::fabs(p - y); });
}

double r2(std::span<const float> preds, std::span<const float> labels, std::span<const float> weights) {
  // Two passes: SST about the weighted mean, not sum(y^2) - W mean^2, which cancels badly for large labels.
  const double mean = weighted_mean("r2", preds, labels, weights, [](double, double y) { return y; });
  if (std::isnan(mean)) return kNaN;
  double sse = 0.0, sst = 0.0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (std::isnan(labels[i])) continue;
    const double w = weights.empty() ? 1.0 : weights[i];  // already validated by weighted_mean
    const double y = labels[i];
    const double e = static_cast<double>(preds[i]) - y;
    sse += w * e * e;
    sst += w * (y - mean) * (y - mean);
  }
  return sst > 0.0 ? 1.0 - sse / sst : kNaN;
}

std::map<std::string, double> binary_metrics(std::span<const float> probs, std::span<const float> labels,
                                             std::span<const float> weights) {
  size_t positives = 0;
  for (float y : labels) positives += (y > 0.5f);  // NaN > 0.5 is false
  return {
      {"auc", auc(probs, labels, weights)},
      {"logloss", logloss(probs, labels, weights)},
      {"accuracy", accuracy(probs, labels, weights)},
      {"count", static_cast<double>(count_labelled(labels))},
      {"positives", static_cast<double>(positives)},
  };
}

std::map<std::string, double> regression_metrics(std::span<const float> preds, std::span<const float> labels,
                                                 std::span<const float> weights) {
  return {
      {"mse", mse(preds, labels, weights)},
      {"mae", mae(preds, labels, weights)},
      {"r2", r2(preds, labels, weights)},
      {"count", static_cast<double>(count_labelled(labels))},
  };
}

}  // namespace mmoe
