// The executor's row-sparse bookkeeping over many steps: the rows a batch touched are listed sorted and
// unique (by the ordered scan of a small table and by the sort of a large one), the rows the batch before
// touched are cleared inside the step, so the table gradients after every step equal a fresh executor's on
// the same batch, and a code out of range leaves the executor usable.
#include <algorithm>
#include <cstring>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "mmoe/error.h"
#include "mmoe/model.h"

namespace {

struct Case {
  mmoe::CatEncoding encoding;
  int64_t cardinality;  // of every column: 6 is scanned, 20,000 is sorted (more than 4 x rows x columns)
};

mmoe::ModelSpec spec_for(const Case& c) {
  mmoe::ModelSpec s;
  s.arch = mmoe::Arch::mmoe;
  s.n_expert = 3;
  s.expert_units = {8};
  s.tower_units = {4};
  s.tasks = {{"a", mmoe::TaskKind::binary, 1.0f}, {"b", mmoe::TaskKind::regression, 1.0f}};
  s.n_dense = 3;
  s.cat_cardinality = {c.cardinality, c.cardinality + 1, c.cardinality + 2};
  s.cat_encoding = c.encoding;
  s.embedding_dim = 4;
  return s;
}

struct Batch {
  std::vector<float> dense, labels;
  std::vector<int32_t> cat;
  mmoe::BatchView view() const { return {labels.size() / 2, dense.data(), cat.data(), labels.data(), nullptr}; }
};

// Codes drawn from a few values per column, different each step, so consecutive batches share some rows
// and not others.
Batch batch_for(const mmoe::ModelSpec& s, size_t rows, std::mt19937& gen) {
  Batch b;
  std::normal_distribution<float> normal;
  const int32_t base = static_cast<int32_t>(gen() % 3);
  for (size_t i = 0; i < rows; ++i) {
    for (int j = 0; j < s.n_dense; ++j) b.dense.push_back(normal(gen));
    for (int64_t card : s.cat_cardinality)
      b.cat.push_back(static_cast<int32_t>((base + static_cast<int64_t>(gen() % 3)) % card));
    b.labels.push_back(normal(gen) > 0.0f ? 1.0f : 0.0f);
    b.labels.push_back(normal(gen));
  }
  return b;
}

std::vector<int32_t> expected_touched(const mmoe::Model& m, const Batch& b) {
  const std::vector<int64_t> offsets = m.cat_offsets();
  std::set<int32_t> rows;
  for (size_t i = 0; i < b.cat.size(); ++i) rows.insert(static_cast<int32_t>(offsets[i % offsets.size()] + b.cat[i]));
  return {rows.begin(), rows.end()};
}

class ExecutorSparse : public ::testing::TestWithParam<Case> {};

TEST_P(ExecutorSparse, EveryStepMatchesAFreshExecutor) {
  const mmoe::ModelSpec spec = spec_for(GetParam());
  for (int threads : {1, 2}) {
    mmoe::Model model(spec);
    model.init(3);
    mmoe::Executor exec(model, 96, threads);
    std::mt19937 gen(7);
    for (int step = 0; step < 8; ++step) {
      const Batch b = batch_for(spec, step % 3 == 2 ? 20 : 96, gen);  // 20 rows: one thread
      // The parameters change between steps as they would in training.
      for (float& p : model.params()) p += 1e-3f * static_cast<float>(step + 1);
      exec.forward_backward(b.view());
      EXPECT_EQ(exec.touched_rows(), expected_touched(model, b)) << "threads " << threads << " step " << step;

      mmoe::Model fresh(spec);
      std::memcpy(fresh.params().data(), model.params().data(), model.params().size() * sizeof(float));
      mmoe::Executor fresh_exec(fresh, 96, threads);
      fresh_exec.forward_backward(b.view());
      ASSERT_EQ(std::memcmp(fresh.grads().data(), model.grads().data(), model.grads().size() * sizeof(float)), 0)
          << "threads " << threads << " step " << step;
    }
  }
}

TEST_P(ExecutorSparse, ACodeOutOfRangeThrowsAndLeavesTheExecutorUsable) {
  const mmoe::ModelSpec spec = spec_for(GetParam());
  mmoe::Model model(spec);
  model.init(3);
  mmoe::Executor exec(model, 64, 2);
  std::mt19937 gen(9);
  const Batch first = batch_for(spec, 64, gen);
  exec.forward_backward(first.view());
  // Two threads count the codes, thread 0 column 0 and thread 1 columns 1 and 2: a bad code in either's.
  for (size_t column : {size_t{1}, size_t{0}})
    for (int32_t bad : {-1, static_cast<int32_t>(spec.cat_cardinality[column])}) {
      Batch broken = batch_for(spec, 64, gen);
      broken.cat[40 * 3 + column] = bad;
      EXPECT_THROW(exec.forward_backward(broken.view()), mmoe::Error) << "column " << column << " code " << bad;
    }
  const Batch next = batch_for(spec, 64, gen);
  exec.forward_backward(next.view());
  EXPECT_EQ(exec.touched_rows(), expected_touched(model, next));
  mmoe::Model fresh(spec);
  std::memcpy(fresh.params().data(), model.params().data(), model.params().size() * sizeof(float));
  mmoe::Executor fresh_exec(fresh, 64, 2);
  fresh_exec.forward_backward(next.view());
  EXPECT_EQ(std::memcmp(fresh.grads().data(), model.grads().data(), model.grads().size() * sizeof(float)), 0);
}

INSTANTIATE_TEST_SUITE_P(Tables, ExecutorSparse,
                         ::testing::Values(Case{mmoe::CatEncoding::onehot, 6}, Case{mmoe::CatEncoding::onehot, 20000},
                                           Case{mmoe::CatEncoding::embedding, 6},
                                           Case{mmoe::CatEncoding::embedding, 20000}));

}  // namespace
