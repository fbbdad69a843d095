// The update fused into Executor::forward_backward (each thread updating the parameters whose gradients it
// summed) gives bit-identical parameters to forward_backward followed by Optimizer::step, for every encoding,
// lazy or dense table updates, Adam and SGD, 1 and 2 threads; and it updates nothing when a value is not finite.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "mmoe/model.h"
#include "mmoe/optim.h"

namespace {

struct Case {
  mmoe::Arch arch;
  int n_cat;
  mmoe::CatEncoding encoding;
  bool lazy;
  mmoe::OptimKind optimizer;
};

mmoe::ModelSpec spec_for(const Case& c) {
  mmoe::ModelSpec s;
  s.arch = c.arch;
  s.n_expert = 4;
  s.expert_units = {12};
  s.tower_units = {6};
  s.tasks = {{"a", mmoe::TaskKind::binary, 1.0f}, {"b", mmoe::TaskKind::regression, 0.5f}};
  s.n_dense = 9;
  for (int j = 0; j < c.n_cat; ++j) s.cat_cardinality.push_back(4 + 5 * j);
  s.cat_encoding = c.encoding;
  return s;
}

struct Rows {
  std::vector<float> dense, labels;
  std::vector<int32_t> cat;
  size_t n_dense = 0, n_cat = 0;
  mmoe::BatchView batch(size_t begin, size_t n) const {
    return {n, dense.data() + begin * n_dense, n_cat ? cat.data() + begin * n_cat : nullptr, labels.data() + begin * 2,
            nullptr};
  }
};

Rows rows_for(const mmoe::ModelSpec& s, size_t n) {
  Rows r;
  r.n_dense = static_cast<size_t>(s.n_dense);
  r.n_cat = s.cat_cardinality.size();
  std::mt19937 gen(11);
  std::normal_distribution<float> normal;
  for (size_t i = 0; i < n * r.n_dense; ++i) r.dense.push_back(normal(gen));
  for (size_t i = 0; i < n; ++i) {
    r.labels.push_back(normal(gen) > 0.3f ? 1.0f : 0.0f);
    r.labels.push_back(normal(gen));
    for (size_t j = 0; j < r.n_cat; ++j)
      r.cat.push_back(static_cast<int32_t>(gen() % static_cast<uint32_t>(s.cat_cardinality[j])));
  }
  return r;
}

std::vector<float> params_of(const mmoe::Model& m) { return {m.params().begin(), m.params().end()}; }

class FusedUpdate : public ::testing::TestWithParam<Case> {};

TEST_P(FusedUpdate, BitIdenticalToASeparateStep) {
  const Case& c = GetParam();
  const mmoe::ModelSpec spec = spec_for(c);
  const Rows data = rows_for(spec, 400);
  mmoe::OptimConfig oc;
  oc.kind = c.optimizer;
  oc.lazy_sparse = c.lazy;
  oc.momentum = c.optimizer == mmoe::OptimKind::sgd ? 0.9 : 0.0;
  oc.weight_decay = 1e-3;
  for (int threads : {1, 2}) {
    mmoe::Model separate(spec), fused(spec);
    separate.init(5);
    fused.init(5);
    mmoe::Executor exec_s(separate, 128, threads), exec_f(fused, 128, threads);
    mmoe::Optimizer opt_s(separate, oc), opt_f(fused, oc);
    // Batches of 128 (split across threads), 40 and 7 rows (one thread), learning rates changing per step.
    const size_t sizes[] = {128, 40, 7, 128, 100};
    size_t begin = 0;
    for (int step = 0; step < 10; ++step) {
      const size_t n = sizes[step % 5];
      if (begin + n > 400) begin = 0;
      const double lr = 0.01 / (1 + step);
      const mmoe::LossReport ls = exec_s.forward_backward(data.batch(begin, n));
      opt_s.step(separate, lr, exec_s.touched_rows());
      const mmoe::LossReport lf = exec_f.forward_backward(data.batch(begin, n), opt_f.fused_update(fused, lr));
      ASSERT_TRUE(exec_f.last_update_applied());
      EXPECT_EQ(ls.total, lf.total) << "step " << step;
      begin += n;
    }
    const std::vector<float> a = params_of(separate), b = params_of(fused);
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << "threads " << threads;
    EXPECT_EQ(opt_s.steps(), opt_f.steps());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, FusedUpdate,
    ::testing::Values(Case{mmoe::Arch::mmoe, 0, mmoe::CatEncoding::onehot, false, mmoe::OptimKind::adam},
                      Case{mmoe::Arch::shared_bottom, 0, mmoe::CatEncoding::onehot, false, mmoe::OptimKind::sgd},
                      Case{mmoe::Arch::omoe, 3, mmoe::CatEncoding::onehot, false, mmoe::OptimKind::adam},
                      Case{mmoe::Arch::mmoe, 3, mmoe::CatEncoding::onehot, true, mmoe::OptimKind::adam},
                      Case{mmoe::Arch::mmoe, 3, mmoe::CatEncoding::embedding, true, mmoe::OptimKind::adam},
                      Case{mmoe::Arch::single_task, 2, mmoe::CatEncoding::embedding, false, mmoe::OptimKind::sgd}));

TEST(FusedUpdateSkip, NothingChangesWhenAValueIsNotFinite) {
  const Case c{mmoe::Arch::mmoe, 3, mmoe::CatEncoding::onehot, true, mmoe::OptimKind::adam};
  const mmoe::ModelSpec spec = spec_for(c);
  // An infinite input in thread 0's slice (row 5) or thread 1's (row 100): its activations, and so gradients,
  // are no longer finite; every thread must then leave its share alone.
  for (size_t bad_row : {size_t{5}, size_t{100}}) {
    Rows data = rows_for(spec, 128);
    data.dense[bad_row * data.n_dense + 2] = std::numeric_limits<float>::infinity();
    for (int threads : {1, 2}) {
      mmoe::Model model(spec);
      model.init(5);
      const std::vector<float> before = params_of(model);
      mmoe::Executor exec(model, 128, threads);
      mmoe::Optimizer opt(model, mmoe::OptimConfig{});
      exec.forward_backward(data.batch(0, 128), opt.fused_update(model, 0.01));
      EXPECT_FALSE(exec.last_update_applied());
      const std::vector<float> after = params_of(model);
      EXPECT_EQ(std::memcmp(before.data(), after.data(), before.size() * sizeof(float)), 0)
          << "bad row " << bad_row << ", threads " << threads;
    }
  }
}

}  // namespace
