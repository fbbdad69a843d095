// A training step writes every dense gradient afresh: the backward's GEMMs and column sums overwrite, with
// no clearing pass first (a control: with the memset removed and one weight gradient still accumulating,
// this test fails). So whatever the gradient arena (and, with two threads, the private buffers) held
// before, NaN included, the step's gradients are bit-identical to a fresh executor's on the same batch, for
// every architecture, deeper experts and towers, one and several tasks, one and two threads.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mmoe/model.h"

namespace {

struct Case {
  std::string name;
  mmoe::ModelSpec spec;
};

mmoe::ModelSpec spec_of(mmoe::Arch arch, std::vector<int> expert_units, std::vector<int> tower_units, int tasks) {
  mmoe::ModelSpec s;
  s.arch = arch;
  s.n_expert = 3;
  s.expert_units = std::move(expert_units);
  s.tower_units = std::move(tower_units);
  for (int k = 0; k < tasks; ++k)
    s.tasks.push_back({"t" + std::to_string(k), k % 2 ? mmoe::TaskKind::regression : mmoe::TaskKind::binary, 1.0f});
  s.n_dense = 5;
  return s;
}

std::vector<Case> cases() {
  using mmoe::Arch;
  return {{"mmoe", spec_of(Arch::mmoe, {8}, {4}, 2)},
          {"mmoe_deep", spec_of(Arch::mmoe, {8, 6}, {4, 3}, 3)},
          {"mmoe_no_tower_hidden", spec_of(Arch::mmoe, {8}, {}, 2)},
          {"omoe", spec_of(Arch::omoe, {8}, {4}, 2)},
          {"omoe_deep", spec_of(Arch::omoe, {8, 6}, {4, 3}, 2)},
          {"shared_bottom", spec_of(Arch::shared_bottom, {8, 6}, {4}, 2)},
          {"shared_bottom_one_task", spec_of(Arch::shared_bottom, {8}, {4}, 1)},
          {"single_task", spec_of(Arch::single_task, {8}, {4, 3}, 2)}};
}

struct Batch {
  std::vector<float> dense, labels;
  mmoe::BatchView view(size_t tasks) const { return {labels.size() / tasks, dense.data(), nullptr, labels.data(), nullptr}; }
};

Batch batch_for(const mmoe::ModelSpec& s, size_t rows, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  Batch b;
  for (size_t i = 0; i < rows * static_cast<size_t>(s.n_dense); ++i) b.dense.push_back(normal(gen));
  for (size_t i = 0; i < rows; ++i)
    for (int k = 0; k < s.n_task(); ++k)
      b.labels.push_back(s.tasks[static_cast<size_t>(k)].kind == mmoe::TaskKind::binary ? (normal(gen) > 0.0f ? 1.0f : 0.0f)
                                                                                        : normal(gen));
  return b;
}

TEST(ExecutorGradients, EveryDenseGradientIsOverwrittenByAStep) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const Case& c : cases())
    for (int threads : {1, 2}) {
      const size_t T = static_cast<size_t>(c.spec.n_task());
      mmoe::Model model(c.spec);
      model.init(5);
      mmoe::Executor exec(model, 96, threads);
      // A first step leaves its gradients in the arena and the private buffers; then every tensor's
      // gradients are poisoned (the alignment padding between tensors is zero from construction and is
      // written by nothing).
      exec.forward_backward(batch_for(c.spec, 96, 1).view(T));
      for (const mmoe::ParamTensor& t : model.tensors())
        std::fill(model.grads().begin() + static_cast<ptrdiff_t>(t.offset),
                  model.grads().begin() + static_cast<ptrdiff_t>(t.offset + t.size), nan);
      for (size_t rows : {96, 40, 20}) {  // 20 rows: one thread even with two
        const Batch b = batch_for(c.spec, rows, static_cast<uint32_t>(rows));
        exec.forward_backward(b.view(T));
        mmoe::Model fresh(c.spec);
        std::memcpy(fresh.params().data(), model.params().data(), model.params().size() * sizeof(float));
        mmoe::Executor fresh_exec(fresh, 96, threads);
        fresh_exec.forward_backward(b.view(T));
        size_t finite = 0;
        for (float g : model.grads()) finite += std::isfinite(g);
        EXPECT_EQ(finite, model.grads().size()) << c.name << ", threads " << threads << ", rows " << rows;
        EXPECT_EQ(std::memcmp(fresh.grads().data(), model.grads().data(), model.grads().size() * sizeof(float)), 0)
            << c.name << ", threads " << threads << ", rows " << rows;
      }
    }
}

TEST(ExecutorGradients, AnEmptyBatchLeavesZeroGradients) {
  const mmoe::ModelSpec spec = cases().front().spec;
  mmoe::Model model(spec);
  model.init(5);
  mmoe::Executor exec(model, 64, 2);
  exec.forward_backward(batch_for(spec, 64, 3).view(2));
  const std::vector<float> none(8, 1.0f);  // pointers to valid memory, no rows
  exec.forward_backward(mmoe::BatchView{0, none.data(), nullptr, none.data(), nullptr});
  for (float g : model.grads()) ASSERT_EQ(g, 0.0f);
}

}  // namespace
