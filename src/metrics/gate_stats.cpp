// Streaming gate statistics: per-gate mean expert weight, mean per-row entropy and entropy of the mean.
#include <cmath>
#include <limits>
#include <string>

#include "mmoe/error.h"
#include "mmoe/metrics.h"

namespace mmoe {

namespace {

// -sum p log p in nats, with 0 log 0 = 0; tiny negative rounding noise in p is treated as 0.
template <typename T>
double entropy(const T* p, int n) {
  double h = 0.0;
  for (int e = 0; e < n; ++e) {
    const double v = p[e];
    if (v > 0.0) h -= v * std::log(v);
  }
  return h;
}

}  // namespace

GateStatsAccumulator::GateStatsAccumulator(int n_gate, int n_expert) : n_gate_(n_gate), n_expert_(n_expert) {
  if (n_gate < 0) throw Error(ErrorKind::usage, "n_gate must be >= 0, got " + std::to_string(n_gate), "n_gate");
  if (n_expert < 1)
    throw Error(ErrorKind::usage, "n_expert must be >= 1, got " + std::to_string(n_expert), "n_expert");
  sum_weight_.assign(static_cast<size_t>(n_gate) * n_expert, 0.0);
  sum_entropy_.assign(static_cast<size_t>(n_gate), 0.0);
}

void GateStatsAccumulator::add(const float* gates, size_t rows) {
  if (rows == 0 || n_gate_ == 0) {
    rows_ += rows;
    return;
  }
  MMOE_CHECK(gates != nullptr, "gate buffer is null");
  const size_t width = sum_weight_.size();  // n_gate * n_expert
  for (size_t r = 0; r < rows; ++r) {
    const float* row = gates + r * width;  // (n_gate, n_expert)
    for (size_t j = 0; j < width; ++j) sum_weight_[j] += row[j];
    for (int g = 0; g < n_gate_; ++g) sum_entropy_[g] += entropy(row + static_cast<size_t>(g) * n_expert_, n_expert_);
  }
  rows_ += rows;
}

GateStats GateStatsAccumulator::result() const {
  GateStats out;
  out.n_gate = n_gate_;
  out.n_expert = n_expert_;
  out.rows = rows_;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  out.mean_weight.assign(sum_weight_.size(), nan);
  out.mean_entropy.assign(sum_entropy_.size(), nan);
  out.entropy_of_mean.assign(sum_entropy_.size(), nan);
  if (rows_ == 0) return out;
  const double inv = 1.0 / static_cast<double>(rows_);
  for (size_t j = 0; j < sum_weight_.size(); ++j) out.mean_weight[j] = sum_weight_[j] * inv;
  for (int g = 0; g < n_gate_; ++g) {
    out.mean_entropy[g] = sum_entropy_[g] * inv;
    out.entropy_of_mean[g] = entropy(out.mean_weight.data() + static_cast<size_t>(g) * n_expert_, n_expert_);
  }
  return out;
}

}  // namespace mmoe
