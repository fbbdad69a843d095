// Argument checks shared by the metric functions (private to src/metrics).
#pragma once

#include <cmath>
#include <span>
#include <string>

#include "mmoe/error.h"

namespace mmoe::detail {

// Scores, labels and weights are parallel columns; a length mismatch is a caller bug worth a clear message.
inline void check_metric_spans(const char* metric, std::span<const float> scores, std::span<const float> labels,
                               std::span<const float> weights) {
  if (scores.size() != labels.size())
    throw Error(ErrorKind::usage,
                "scores and labels differ in length (" + std::to_string(scores.size()) + " vs " +
                    std::to_string(labels.size()) + ")",
                metric);
  if (!weights.empty() && weights.size() != labels.size())
    throw Error(ErrorKind::usage,
                "weights and labels differ in length (" + std::to_string(weights.size()) + " vs " +
                    std::to_string(labels.size()) + ")",
                metric);
}

// Weight of row i (1 when weights is empty); a negative or non-finite weight would silently corrupt every sum.
inline double metric_weight(const char* metric, std::span<const float> weights, size_t i) {
  if (weights.empty()) return 1.0;
  const float w = weights[i];
  if (!(w >= 0.0f) || !std::isfinite(w))
    throw Error(ErrorKind::input, "sample weight must be finite and >= 0, got " + std::to_string(w),
                std::string(metric) + " row " + std::to_string(i));
  return w;
}

}  // namespace mmoe::detail
