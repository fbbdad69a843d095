// mmoe/synth.h: the paper's synthetic two-task regression data with controlled task correlation (Sec. 3.2).
//
//   u1, u2   orthogonal unit vectors in R^d (Gram-Schmidt on two N(0, I) draws)
//   w1 = c u1,  w2 = c (p u1 + sqrt(1 - p^2) u2)             so cos(w1, w2) = p exactly (up to rounding)
//   alpha_i, beta_i ~ N(0, 1), i = 1..m, drawn once per data set and shared by both tasks
//   x ~ N(0, I_d)
//   y_k = w_k.x + sum_i sin(alpha_i w_k.x + beta_i) + eps_k,  eps_k ~ N(0, noise_std^2)
//
// The task (w1, w2, alpha, beta) and the rows are separate so that an experiment's train, validation and
// test sets share one task but get fresh x:
//
//   mmoe::SynthConfig cfg;  cfg.correlation = 0.9;  cfg.seed = 7;
//   mmoe::Rng rng(cfg.seed);
//   mmoe::SynthTask task = mmoe::make_synth_task(cfg, rng);
//   mmoe::Dataset train = mmoe::sample_synthetic(task, cfg, 8000, rng);
//   mmoe::Dataset test  = mmoe::sample_synthetic(task, cfg, 2000, rng);
//   mmoe::write_synthetic_csv(train, "train.csv");            // x0,...,x99,y1,y2
//
// make_synthetic(cfg) is the one-call form: Rng(cfg.seed), make_synth_task, then cfg.rows rows.
// All randomness comes from mmoe::Rng, so the same seed gives the same data on every platform. The draw
// order is: u1 (d), u2 (d), alpha (m), beta (m); then per row x (d), eps1, eps2. eps is drawn even when
// noise_std = 0, so x does not depend on the noise level. Labels are computed from x after rounding it to
// float, so the stored labels are exact functions of the stored features.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mmoe/dataset.h"
#include "mmoe/rng.h"

namespace mmoe {

struct SynthConfig {
  int d = 100;               // input width, >= 2
  double correlation = 0.5;  // p = cos(w1, w2), in [-1, 1]
  double scale = 1.0;        // c = |w1| = |w2|
  int n_sines = 10;          // m, >= 0
  double noise_std = 0.1;    // standard deviation of eps, >= 0 (the paper's variance 0.01)
  size_t rows = 10000;       // rows drawn by make_synthetic, > 0
  uint64_t seed = 1;

  // Throws ErrorKind::usage with the parameter name ("d", "correlation", ...) in where.
  void validate() const;
};

// One draw of the task: both weight vectors and the shared sine parameters.
struct SynthTask {
  std::vector<double> w1, w2;       // (d)
  std::vector<double> alpha, beta;  // (n_sines)
};

// Validates config, then draws w1, w2, alpha, beta from rng (config.rows and config.seed are not used).
SynthTask make_synth_task(const SynthConfig& config, Rng& rng);

// `rows` fresh rows of an existing task: n_dense = d dense features x0..x{d-1}, labels y1, y2 (regression),
// no categorical columns, no weights. Uses config.noise_std only. rows may be 0 (an empty split).
Dataset sample_synthetic(const SynthTask& task, const SynthConfig& config, size_t rows, Rng& rng);

// Rng(config.seed) -> make_synth_task -> sample_synthetic(config.rows).
Dataset make_synthetic(const SynthConfig& config);

// Writes the header (dense names, then task names) and one row per line, each float in its shortest form
// that reads back bit-identically; a NaN label is written as an empty field. The file appears atomically
// (written to path + ".tmp", flushed, fsynced, renamed). Throws ErrorKind::io naming the path on failure,
// ErrorKind::usage if the data set has categorical columns.
void write_synthetic_csv(const Dataset& data, const std::string& path);

}  // namespace mmoe
