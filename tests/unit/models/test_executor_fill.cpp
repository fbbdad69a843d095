// A step whose threads copy the batch in (Executor::forward_backward with a BatchFill) is bit-identical to the
// same step on a batch copied beforehand: losses, gradients, touched rows, and the parameters after a fused
// Adam update; the fill is asked for disjoint row ranges that cover the batch exactly once. Dense, one-hot
// (scanned and sorted tables) and embedded inputs, one and two threads, batches split and not; and a model
// heavy enough that a batch of 5 rows is split.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "mmoe/model.h"
#include "mmoe/optim.h"

namespace {

struct Source {
  size_t rows = 0, n_dense = 0, n_cat = 0, n_task = 2;
  std::vector<float> dense, labels;
  std::vector<int32_t> cat;
  mmoe::BatchView view() const {
    return {rows, n_dense ? dense.data() : nullptr, n_cat ? cat.data() : nullptr, labels.data(), nullptr};
  }
};

Source source_for(const mmoe::ModelSpec& s, size_t rows, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  Source b;
  b.rows = rows;
  b.n_dense = static_cast<size_t>(s.n_dense);
  b.n_cat = s.cat_cardinality.size();
  for (size_t i = 0; i < rows; ++i) {
    for (size_t j = 0; j < b.n_dense; ++j) b.dense.push_back(normal(gen));
    for (int64_t card : s.cat_cardinality) b.cat.push_back(static_cast<int32_t>(gen() % 4 % static_cast<uint64_t>(card)));
    b.labels.push_back(normal(gen) > 0.0f ? 1.0f : 0.0f);
    b.labels.push_back(i % 5 == 2 ? NAN : normal(gen));  // a missing label: the label mass must see every row
  }
  return b;
}

// Copies rows [begin, end) of `from` into `to` (same shape, initially garbage), recording the ranges asked for.
struct RowCopier {
  const Source* from = nullptr;
  Source* to = nullptr;
  std::vector<std::pair<size_t, size_t>> ranges[2];  // by the thread that asked: one vector per slot, no locking
  static void fill(void* ctx, size_t begin, size_t end) {
    auto& c = *static_cast<RowCopier*>(ctx);
    const Source& f = *c.from;
    Source& t = *c.to;
    std::copy(f.dense.begin() + begin * f.n_dense, f.dense.begin() + end * f.n_dense, t.dense.begin() + begin * f.n_dense);
    std::copy(f.cat.begin() + begin * f.n_cat, f.cat.begin() + end * f.n_cat, t.cat.begin() + begin * f.n_cat);
    std::copy(f.labels.begin() + begin * 2, f.labels.begin() + end * 2, t.labels.begin() + begin * 2);
    c.ranges[begin == 0 ? 0 : 1].push_back({begin, end});
  }
};

mmoe::ModelSpec spec_of(mmoe::Arch arch, std::vector<int64_t> cards, mmoe::CatEncoding enc) {
  mmoe::ModelSpec s;
  s.arch = arch;
  s.n_expert = 3;
  s.expert_units = {8};
  s.tower_units = {4};
  s.tasks = {{"a", mmoe::TaskKind::binary, 1.0f}, {"b", mmoe::TaskKind::regression, 1.0f}};
  s.n_dense = 3;
  s.cat_cardinality = std::move(cards);
  s.cat_encoding = enc;
  s.embedding_dim = 4;
  return s;
}

TEST(ExecutorFill, StepsOnABatchTheThreadsCopyInEqualStepsOnACopiedBatch) {
  using mmoe::Arch;
  using mmoe::CatEncoding;
  const std::vector<mmoe::ModelSpec> specs = {
      spec_of(Arch::mmoe, {}, CatEncoding::onehot), spec_of(Arch::shared_bottom, {}, CatEncoding::onehot),
      spec_of(Arch::mmoe, {6, 7, 8}, CatEncoding::onehot), spec_of(Arch::mmoe, {20000, 20001, 5}, CatEncoding::onehot),
      spec_of(Arch::omoe, {6, 7, 8}, CatEncoding::embedding),
      spec_of(Arch::mmoe, {9}, CatEncoding::onehot)};  // one column: thread 0 counts none
  for (size_t c = 0; c < specs.size(); ++c) {
    const mmoe::ModelSpec& spec = specs[c];
    for (int threads : {1, 2}) {
      mmoe::Model copied(spec), filled(spec);
      copied.init(5);
      filled.init(5);
      mmoe::Executor exec_copied(copied, 96, threads), exec_filled(filled, 96, threads);
      mmoe::Optimizer opt_copied(copied, {}), opt_filled(filled, {});
      for (int step = 0; step < 4; ++step) {
        const size_t rows = step == 2 ? 20 : 96;  // 20 rows: one thread
        const Source src = source_for(spec, rows, 11 + static_cast<uint32_t>(step));
        Source dst = src;
        std::fill(dst.dense.begin(), dst.dense.end(), NAN);
        std::fill(dst.cat.begin(), dst.cat.end(), -1);
        std::fill(dst.labels.begin(), dst.labels.end(), 7.0f);
        RowCopier copier{&src, &dst, {}};
        const mmoe::BatchFill fill{&copier, &RowCopier::fill};
        const bool fused = step % 2 == 1;
        const mmoe::LossReport a = fused ? exec_copied.forward_backward(src.view(), opt_copied.fused_update(copied, 1e-2))
                                         : exec_copied.forward_backward(src.view());
        const mmoe::LossReport b = fused ? exec_filled.forward_backward(dst.view(), opt_filled.fused_update(filled, 1e-2), fill)
                                         : exec_filled.forward_backward(dst.view(), fill);
        const std::string where = "case " + std::to_string(c) + " threads " + std::to_string(threads) + " step " +
                                  std::to_string(step);
        EXPECT_EQ(a.total, b.total) << where;
        EXPECT_EQ(a.per_task, b.per_task) << where;
        EXPECT_EQ(exec_copied.touched_rows(), exec_filled.touched_rows()) << where;
        ASSERT_EQ(std::memcmp(copied.grads().data(), filled.grads().data(), copied.grads().size() * sizeof(float)), 0)
            << where;
        ASSERT_EQ(std::memcmp(copied.params().data(), filled.params().data(), copied.params().size() * sizeof(float)), 0)
            << where;
        // Every row was asked for exactly once, each thread its own contiguous slice.
        std::vector<std::pair<size_t, size_t>> asked = copier.ranges[0];
        asked.insert(asked.end(), copier.ranges[1].begin(), copier.ranges[1].end());
        std::sort(asked.begin(), asked.end());
        ASSERT_FALSE(asked.empty()) << where;
        EXPECT_EQ(asked.front().first, 0u) << where;
        EXPECT_EQ(asked.back().second, rows) << where;
        for (size_t i = 1; i < asked.size(); ++i) EXPECT_EQ(asked[i].first, asked[i - 1].second) << where;
        EXPECT_EQ(asked.size(), rows < 64 ? 1u : static_cast<size_t>(threads)) << where;
      }
    }
  }
}

// A model whose rows are heavy (the wide config's scale: 0.53M multiply-adds a row).
mmoe::ModelSpec heavy_spec() {
  mmoe::ModelSpec spec = spec_of(mmoe::Arch::mmoe, {}, mmoe::CatEncoding::onehot);
  spec.n_dense = 256;
  spec.n_expert = 8;
  spec.expert_units = {256};
  return spec;
}

// A heavy model splits even a batch of 5 rows over two threads (2 + 3 rows, as the fill sees); the answer is one thread's within float rounding.
TEST(ExecutorFill, AHeavyModelSplitsASmallBatch) {
  const mmoe::ModelSpec spec = heavy_spec();
  const Source src = source_for(spec, 5, 21);
  mmoe::Model one(spec), two(spec);
  one.init(4);
  two.init(4);
  mmoe::Executor exec_one(one, 8, 1), exec_two(two, 8, 2);
  Source dst = src;
  RowCopier copier{&src, &dst, {}};
  const mmoe::LossReport a = exec_one.forward_backward(src.view());
  const mmoe::LossReport b = exec_two.forward_backward(dst.view(), mmoe::BatchFill{&copier, &RowCopier::fill});
  ASSERT_EQ(copier.ranges[0].size(), 1u);
  ASSERT_EQ(copier.ranges[1].size(), 1u);
  EXPECT_EQ(copier.ranges[0][0], std::make_pair(size_t{0}, size_t{2}));
  EXPECT_EQ(copier.ranges[1][0], std::make_pair(size_t{2}, size_t{5}));
  EXPECT_NEAR(a.total, b.total, 1e-6 * std::max(1.0, std::abs(a.total)));
  float worst = 0.0f;
  for (size_t i = 0; i < one.grads().size(); ++i)
    worst = std::max(worst, std::abs(one.grads()[i] - two.grads()[i]) / std::max(1e-3f, std::abs(one.grads()[i])));
  EXPECT_LT(worst, 1e-3f);
}

// Prediction follows the same rule: on an executor sized for 64 rows a heavy model's batch of 5 runs on two
// threads (2 + 3 rows), and every row's forward is its own, so the answers equal one thread's bit for bit.
TEST(ExecutorFill, AHeavyModelPredictsASmallBatchOnTwoThreads) {
  const mmoe::ModelSpec spec = heavy_spec();
  const Source src = source_for(spec, 5, 22);
  mmoe::Model model(spec);
  model.init(5);
  mmoe::Executor exec_one(model, 64, 1), exec_two(model, 64, 2);
  std::vector<float> a(5 * src.n_task, NAN), b(5 * src.n_task, NAN);
  exec_one.predict(src.view(), a.data());
  exec_two.predict(src.view(), b.data());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
  std::vector<float> gates_one(5 * 2 * 8, NAN), gates_two(gates_one.size(), NAN);
  exec_one.last_gates(gates_one.data());
  exec_two.last_gates(gates_two.data());
  EXPECT_EQ(std::memcmp(gates_one.data(), gates_two.data(), gates_one.size() * sizeof(float)), 0);
}

}  // namespace
