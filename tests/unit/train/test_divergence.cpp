// The divergence diagnostics name the parameter that went bad in a user's words: the layer, and the expert,
// gate or task that owns the element.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "mmoe/model.h"
#include "train/divergence.h"

namespace {

using mmoe::Arch;
using mmoe::Model;
using mmoe::ModelSpec;
using mmoe::detail::describe_element;
using mmoe::detail::first_bad_gradient;
using mmoe::detail::first_bad_parameter;

ModelSpec two_task_spec(Arch arch) {
  ModelSpec spec;
  spec.arch = arch;
  spec.n_expert = 4;
  spec.expert_units = {6, 5};
  spec.tower_units = {3};
  spec.n_dense = 7;
  spec.tasks = {{"click"}, {"buy"}};
  return spec;
}

// The first.w element in input row `row`, fused output column `column`.
size_t first_w(const Model& m, int64_t row, int64_t column) {
  return static_cast<size_t>(row * m.tensor("first.w").shape[1] + column);
}

TEST(Divergence, NamesExpertGateAndTaskOfMmoe) {
  const Model m(two_task_spec(Arch::mmoe));
  const auto& first = m.tensor("first.w");  // columns: 4 experts x 6 units, then 2 gates x 4 experts
  EXPECT_EQ(describe_element(m, first, first_w(m, 2, 0)), "layer 'first.w' (expert 0, shared by all tasks)");
  EXPECT_EQ(describe_element(m, first, first_w(m, 6, 23)), "layer 'first.w' (expert 3, shared by all tasks)");
  EXPECT_EQ(describe_element(m, first, first_w(m, 0, 24)), "layer 'first.w' (the gate of task 'click')");
  EXPECT_EQ(describe_element(m, first, first_w(m, 1, 31)), "layer 'first.w' (the gate of task 'buy')");
  EXPECT_EQ(describe_element(m, m.tensor("first.b"), 29), "layer 'first.b' (the gate of task 'buy')");
  // expert.1.w is (4 experts, 6, 5): element 2 * 30 + 7 belongs to expert 2.
  EXPECT_EQ(describe_element(m, m.tensor("expert.1.w"), 67), "layer 'expert.1.w' (expert 2, shared by all tasks)");
  // tower.0.w is (2 tasks, 5, 3), tower.1.b is (2 tasks, 1).
  EXPECT_EQ(describe_element(m, m.tensor("tower.0.w"), 14), "layer 'tower.0.w' (task 'click')");
  EXPECT_EQ(describe_element(m, m.tensor("tower.0.w"), 15), "layer 'tower.0.w' (task 'buy')");
  EXPECT_EQ(describe_element(m, m.tensor("tower.1.b"), 1), "layer 'tower.1.b' (task 'buy')");
}

TEST(Divergence, NamesTheBankMemberOfOtherArchitectures) {
  const Model omoe(two_task_spec(Arch::omoe));
  EXPECT_EQ(describe_element(omoe, omoe.tensor("first.w"), first_w(omoe, 0, 25)),
            "layer 'first.w' (the gate shared by all tasks)");
  const Model sb(two_task_spec(Arch::shared_bottom));
  EXPECT_EQ(describe_element(sb, sb.tensor("expert.1.w"), 3), "layer 'expert.1.w' (the shared bottom)");
  const Model single(two_task_spec(Arch::single_task));
  EXPECT_EQ(describe_element(single, single.tensor("first.w"), first_w(single, 0, 7)),
            "layer 'first.w' (the network of task 'buy')");
}

TEST(Divergence, FindsTheFirstNonFiniteGradientAndParameter) {
  Model m(two_task_spec(Arch::mmoe));
  m.zero_grads();
  EXPECT_EQ(first_bad_gradient(m, {}), "");
  EXPECT_EQ(first_bad_parameter(m, {}), "");
  const auto& tower = m.tensor("tower.0.w");
  m.grads()[tower.offset + 20] = std::numeric_limits<float>::infinity();
  EXPECT_EQ(first_bad_gradient(m, {}), "layer 'tower.0.w' (task 'buy')");
  m.grads()[m.tensor("first.b").offset + 3] = std::nanf("");
  EXPECT_EQ(first_bad_gradient(m, {}), "layer 'first.b' (expert 0, shared by all tasks)");
  m.params()[tower.offset + 1] = -std::numeric_limits<float>::infinity();
  EXPECT_EQ(first_bad_parameter(m, {}), "layer 'tower.0.w' (task 'click')");
}

TEST(Divergence, ChecksOnlyTheTouchedRowsOfSparseTables) {
  ModelSpec spec = two_task_spec(Arch::mmoe);
  spec.cat_cardinality = {3, 5};
  Model m(spec);
  m.zero_grads();
  const auto& table = m.tensor("first.onehot");  // (8 categories, 32 fused columns)
  m.grads()[table.offset + 6 * 32 + 30] = std::numeric_limits<float>::infinity();
  const int32_t untouched[] = {0, 1, 5};
  EXPECT_EQ(first_bad_gradient(m, untouched), "");
  const int32_t touched[] = {0, 6};
  EXPECT_EQ(first_bad_gradient(m, touched), "layer 'first.onehot' (the gate of task 'buy')");
}

}  // namespace
