// Finite-difference check of the whole model's backward pass, through the public API only.
//
// One table of configurations covers every architecture, both task kinds, both categorical encodings,
// deeper experts and towers, missing labels, sample weights, loss weights and 1 or 2 threads. For each we
// draw a seeded model and batch, take the analytic gradient from Executor::forward_backward, and compare a
// sample of entries of EVERY parameter tensor with central differences of the loss the engine itself reports:
//
//   fd = (L(p + d) - L(p - d)) / (2 d),  |fd - g| <= 2e-2 * max(|fd|, |g|) + 1e-4
//
// The engine computes in float32, so d cannot be tiny: with d = 5e-3 the rounding noise of L is ~1e-5 in fd
// and the truncation error ~1e-5. A larger d means a perturbation can push some row's ReLU input across 0
// (a kink); there the central difference is not the derivative. Such entries are recognised, not excused
// blindly: on a mismatch we retry with d / 4, and only if the two one-sided slopes (L(p+d)-L(p))/d and
// (L(p)-L(p-d))/d still disagree by enough to explain the mismatch is the entry skipped as a kink. Each tensor
// must have most of its sampled entries actually checked, so skipping cannot hide a broken tensor.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "mmoe/model.h"
#include "mmoe/spec.h"

namespace {

using mmoe::Arch;
using mmoe::CatEncoding;
using mmoe::TaskKind;

struct TaskDef {
  TaskKind kind;
  float loss_weight;
  double missing_rate;  // fraction of rows without a label for this task (1.0 = no label at all)
};

struct GradCase {
  const char* name;
  Arch arch;
  int n_expert;
  std::vector<int> expert_units;
  std::vector<int> tower_units;
  std::vector<TaskDef> tasks;
  int64_t n_dense;
  std::vector<int64_t> cat_cardinality;
  CatEncoding encoding;
  int embedding_dim;
  bool weights;
  int threads;
  mmoe::Init init;
};

constexpr TaskKind kBin = TaskKind::binary;
constexpr TaskKind kReg = TaskKind::regression;

// The table. Widths are small so every entry of a tensor is a meaningful fraction of it.
const std::vector<GradCase>& cases() {
  static const std::vector<GradCase> table = {
      {"mmoe_binary", Arch::mmoe, 3, {4}, {3}, {{kBin, 1.0f, 0.0}, {kBin, 1.0f, 0.0}}, 5, {}, CatEncoding::onehot,
       2, false, 1, mmoe::Init::torch_default},
      {"mmoe_regression_weighted", Arch::mmoe, 4, {4}, {3}, {{kReg, 1.0f, 0.0}, {kReg, 0.5f, 0.25}}, 5, {},
       CatEncoding::onehot, 2, true, 2, mmoe::Init::he_uniform},
      {"mmoe_mixed_masked_onehot", Arch::mmoe, 3, {4}, {3}, {{kBin, 1.0f, 0.25}, {kReg, 0.7f, 0.25}}, 3, {4, 3},
       CatEncoding::onehot, 2, true, 2, mmoe::Init::torch_default},
      {"mmoe_embedding_deep", Arch::mmoe, 3, {5, 4}, {3, 2}, {{kBin, 1.0f, 0.0}, {kReg, 1.0f, 0.25}}, 3, {4, 3},
       CatEncoding::embedding, 2, true, 1, mmoe::Init::xavier_uniform},
      {"mmoe_one_task", Arch::mmoe, 3, {4}, {3}, {{kReg, 1.0f, 0.0}}, 4, {}, CatEncoding::onehot, 2, false, 2,
       mmoe::Init::torch_default},
      {"mmoe_task_unlabelled", Arch::mmoe, 2, {4}, {3}, {{kBin, 1.0f, 0.0}, {kBin, 1.0f, 1.0}}, 4, {},
       CatEncoding::onehot, 2, true, 1, mmoe::Init::torch_default},
      {"omoe_three_tasks", Arch::omoe, 3, {4}, {3}, {{kBin, 1.0f, 0.0}, {kReg, 1.0f, 0.25}, {kBin, 0.5f, 0.25}}, 5,
       {}, CatEncoding::onehot, 2, true, 2, mmoe::Init::torch_default},
      {"omoe_embedding", Arch::omoe, 2, {4, 3}, {2}, {{kReg, 1.0f, 0.0}, {kBin, 1.0f, 0.0}}, 2, {3, 5},
       CatEncoding::embedding, 3, false, 1, mmoe::Init::he_uniform},
      {"shared_bottom_deep", Arch::shared_bottom, 1, {5, 4}, {3, 2}, {{kReg, 1.0f, 0.25}, {kBin, 1.0f, 0.0}}, 5, {},
       CatEncoding::onehot, 2, true, 2, mmoe::Init::torch_default},
      {"shared_bottom_no_tower_hidden_onehot", Arch::shared_bottom, 1, {4}, {}, {{kReg, 1.0f, 0.0}, {kReg, 2.0f, 0.0}},
       3, {3, 4}, CatEncoding::onehot, 2, false, 1, mmoe::Init::torch_default},
      {"single_task_binary_onehot", Arch::single_task, 1, {4}, {3}, {{kBin, 1.0f, 0.25}, {kBin, 1.0f, 0.0},
       {kBin, 1.0f, 0.25}}, 3, {4, 3}, CatEncoding::onehot, 2, true, 2, mmoe::Init::torch_default},
      {"single_task_embedding_deep", Arch::single_task, 1, {4, 3}, {3}, {{kReg, 1.0f, 0.0}, {kBin, 0.5f, 0.25}}, 3,
       {4}, CatEncoding::embedding, 2, true, 1, mmoe::Init::torch_default},
  };
  return table;
}

constexpr size_t kRows = 9;
constexpr double kStep = 5e-3;      // d
constexpr double kRelTol = 2e-2;
constexpr double kAbsTol = 1e-4;
constexpr int kMaxNonzero = 16;     // sampled entries with a nonzero analytic gradient, per tensor
constexpr int kMaxZero = 4;         // and with a zero one (must have a zero difference too)

struct Batch {
  std::vector<float> dense, labels, weights;
  std::vector<int32_t> cat;
  mmoe::BatchView view() const {
    mmoe::BatchView b;
    b.rows = kRows;
    b.dense = dense.empty() ? nullptr : dense.data();
    b.cat = cat.empty() ? nullptr : cat.data();
    b.labels = labels.data();
    b.weights = weights.empty() ? nullptr : weights.data();
    return b;
  }
};

mmoe::ModelSpec make_spec(const GradCase& gc) {
  mmoe::ModelSpec spec;
  spec.arch = gc.arch;
  spec.n_expert = gc.n_expert;
  spec.expert_units = gc.expert_units;
  spec.tower_units = gc.tower_units;
  // Fixed names: building "t" + std::to_string(k) trips a false GCC 12 -Wrestrict (PR 105651).
  static const char* const kNames[] = {"t0", "t1", "t2", "t3"};
  for (size_t k = 0; k < gc.tasks.size(); ++k)
    spec.tasks.push_back({kNames[k], gc.tasks[k].kind, gc.tasks[k].loss_weight});
  spec.n_dense = gc.n_dense;
  spec.cat_cardinality = gc.cat_cardinality;
  spec.cat_encoding = gc.encoding;
  spec.embedding_dim = gc.embedding_dim;
  spec.init = gc.init;
  spec.validate();
  return spec;
}

Batch make_batch(const GradCase& gc, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  Batch b;
  for (size_t i = 0; i < kRows * static_cast<size_t>(gc.n_dense); ++i) b.dense.push_back(normal(rng));
  for (size_t r = 0; r < kRows; ++r)
    for (int64_t card : gc.cat_cardinality)
      b.cat.push_back(static_cast<int32_t>(std::uniform_int_distribution<int64_t>(0, card - 1)(rng)));
  const size_t n_task = gc.tasks.size();
  b.labels.assign(kRows * n_task, 0.0f);
  for (size_t k = 0; k < n_task; ++k) {
    for (size_t r = 0; r < kRows; ++r) {
      float y = gc.tasks[k].kind == kBin ? (unit(rng) < 0.5 ? 1.0f : 0.0f) : normal(rng);
      // Rows 0 and 1 always keep their label (unless the task has none at all), so L_k has support.
      bool missing = gc.tasks[k].missing_rate >= 1.0 || (r >= 2 && unit(rng) < gc.tasks[k].missing_rate);
      b.labels[r * n_task + k] = missing ? NAN : y;
    }
  }
  if (gc.weights)
    for (size_t r = 0; r < kRows; ++r) b.weights.push_back(static_cast<float>(0.5 + 1.5 * unit(rng)));
  return b;
}

struct TensorTally {
  std::string name;
  int sampled = 0, checked = 0, kinks = 0, nonzero_fd = 0, failed = 0;
};

struct CheckReport {
  std::vector<TensorTally> tensors;
  int n_fail = 0;
  std::string failures;  // the first few, one per line
};

// Checks one configuration. `corrupt` > 0 is the harness's own test: the analytic gradient of the first
// sampled nonzero entry of every tensor is moved by corrupt * |g| + 1e-3 before comparing, and the harness
// must then report those entries (see HarnessCatchesWrongGradients).
CheckReport run_gradcheck(const GradCase& gc, uint64_t seed, double corrupt = 0.0) {
  CheckReport report;
  mmoe::Model model(make_spec(gc));
  model.init(seed);
  Batch batch = make_batch(gc, seed + 7);
  mmoe::Executor exec(model, kRows, gc.threads);

  const double f0 = exec.forward_backward(batch.view()).total;
  if (!std::isfinite(f0)) {
    report.n_fail = 1;
    report.failures = "\n  loss is not finite";
    return report;
  }
  std::vector<float> analytic(model.grads().begin(), model.grads().end());
  auto loss_at = [&](size_t flat, float value) {
    model.params()[flat] = value;
    return exec.forward_backward(batch.view()).total;
  };

  std::mt19937_64 pick(seed + 13);
  std::ostringstream failures;
  for (const mmoe::ParamTensor& t : model.tensors()) {
    if (t.size == 0) continue;
    // Sample up to kMaxNonzero entries whose analytic gradient is nonzero and kMaxZero whose is zero.
    std::vector<size_t> order(t.size);
    std::iota(order.begin(), order.end(), size_t{0});
    std::shuffle(order.begin(), order.end(), pick);
    std::vector<size_t> chosen;
    int nz = 0, z = 0;
    for (size_t i : order) {
      if (analytic[t.offset + i] != 0.0f ? nz++ < kMaxNonzero : z++ < kMaxZero) chosen.push_back(i);
    }
    TensorTally tally;
    tally.name = t.name;
    bool corrupted = false;
    for (size_t i : chosen) {
      const size_t flat = t.offset + i;
      const float p = model.params()[flat];
      double g = analytic[flat];
      if (corrupt > 0 && g != 0 && !corrupted) {
        g += corrupt * std::abs(g) + 1e-3;
        corrupted = true;
      }
      ++tally.sampled;
      // Central difference at step `step`; the actual float perturbations are used, not the nominal ones.
      auto differences = [&](double step, double& central, double& fwd, double& bwd) {
        const float hi = static_cast<float>(p + step), lo = static_cast<float>(p - step);
        const double fp = loss_at(flat, hi), fm = loss_at(flat, lo);
        model.params()[flat] = p;
        const double dp = static_cast<double>(hi) - p, dm = p - static_cast<double>(lo);
        central = (fp - fm) / (dp + dm);
        fwd = (fp - f0) / dp;
        bwd = (f0 - fm) / dm;
      };
      auto ok = [&](double fd) {
        return std::abs(fd - g) <= kRelTol * std::max(std::abs(fd), std::abs(g)) + kAbsTol;
      };
      double fd, fwd, bwd;
      differences(kStep, fd, fwd, bwd);
      if (std::abs(fd) > kAbsTol) ++tally.nonzero_fd;
      if (ok(fd)) {
        ++tally.checked;
        continue;
      }
      // Mismatch. A kink between d/4 and d: the smaller step sees a smooth function again.
      double fd4, fwd4, bwd4;
      differences(kStep / 4, fd4, fwd4, bwd4);
      if (ok(fd4)) {
        ++tally.checked;
        continue;
      }
      // A kink within d/4: the one-sided slopes disagree, and the analytic gradient (one of the two slopes)
      // is within half their gap of the central difference. A smooth function with a wrong gradient has
      // nearly equal one-sided slopes and fails this.
      const double gap = std::abs(fwd4 - bwd4);
      const double tol = kRelTol * std::max(std::abs(fd4), std::abs(g)) + kAbsTol;
      if (gap > 2 * tol && std::abs(fd4 - g) <= 0.55 * gap + tol) {
        ++tally.kinks;
        continue;
      }
      ++tally.failed;
      if (++report.n_fail <= 20)
        failures << "\n  " << t.name << "[" << i << "]: analytic " << g << ", finite difference " << fd
                 << " (d=" << kStep << "), " << fd4 << " (d=" << kStep / 4 << "), one-sided " << fwd4 << " / "
                 << bwd4;
    }
    report.tensors.push_back(tally);
  }
  report.failures = failures.str();
  return report;
}

uint64_t case_seed(size_t index) { return 1000 + 31 * index; }

class GradCheck : public ::testing::TestWithParam<size_t> {};

TEST_P(GradCheck, AnalyticMatchesFiniteDifferences) {
  const GradCase& gc = cases()[GetParam()];
  CheckReport report = run_gradcheck(gc, case_seed(GetParam()));
  EXPECT_EQ(report.n_fail, 0) << gc.name << ": " << report.n_fail << " gradient entries disagree"
                              << report.failures;
  ASSERT_FALSE(report.tensors.empty());
  int checked = 0, kinks = 0;
  for (const TensorTally& t : report.tensors) {
    // Sampled entries are checked or recognised kinks; kinks may not be the majority of any tensor.
    const int min_checked = std::min(t.sampled, std::max(2, (t.sampled * 2) / 3));
    EXPECT_GE(t.checked, min_checked) << gc.name << ": " << t.name << " only " << t.checked << " of "
                                      << t.sampled << " entries checked (" << t.kinks << " kinks)";
    // Every tensor must influence the loss somewhere in the sample: a parameter the forward pass ignores
    // would otherwise pass as "zero gradient, zero difference".
    EXPECT_GT(t.nonzero_fd, 0) << gc.name << ": " << t.name << " never changed the loss";
    checked += t.checked;
    kinks += t.kinks;
  }
  RecordProperty("checked", checked);
  RecordProperty("kinks", kinks);
}

// The harness itself: a gradient that is wrong by 10% (+1e-3) in one entry of each tensor must be caught,
// so the kink rule cannot quietly excuse real errors.
TEST(GradCheckHarness, CatchesWrongGradients) {
  for (size_t index = 0; index < cases().size(); ++index) {
    const GradCase& gc = cases()[index];
    CheckReport report = run_gradcheck(gc, case_seed(index), /*corrupt=*/0.1);
    for (const TensorTally& t : report.tensors)
      EXPECT_GE(t.failed, 1) << gc.name << ": a corrupted entry of " << t.name << " went unnoticed";
  }
}

INSTANTIATE_TEST_SUITE_P(Models, GradCheck, ::testing::Range(size_t{0}, cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& param_info) {
                           return std::string(cases()[param_info.param].name);
                         });

}  // namespace
