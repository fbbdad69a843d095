// Golden test: the engine against the PyTorch reference in tools/make_fixtures.py, on fixed weights.
//
// Each tests/fixtures/parity_<case>.json holds a spec, one batch, the parameters, and what PyTorch computed
// from them in float64: raw outputs, predictions, gate probabilities, total and per-task loss, the gradient
// of every parameter tensor, and the parameters after two steps of Adam, Adam + L2, AdamW and SGD-momentum.
// We load the parameters into an mmoe::Model and require the engine to reproduce all of it, with 1 and with
// 2 threads (the thread split must not change the answer beyond rounding). The engine runs in float32, so
// the tolerance is |a - b| <= 1e-5 * max(|a|, |b|) + 1e-6: a few hundred float32 ulps, with a small floor
// for values that are near zero by cancellation.
//
// Regenerate the fixtures with `/usr/bin/python3 tools/make_fixtures.py` (see docs/testing.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mmoe/model.h"
#include "mmoe/optim.h"
#include "mmoe/spec.h"

namespace {

using nlohmann::json;

constexpr double kRelTol = 1e-5;
constexpr double kAbsTol = 1e-6;

std::filesystem::path fixture_dir() { return std::filesystem::path(MMOE_FIXTURE_DIR); }

// Case names of every tests/fixtures/parity_*.json, sorted, so a new fixture is picked up without code.
std::vector<std::string> fixture_cases() {
  std::vector<std::string> cases;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(fixture_dir(), ec)) {
    std::string file = entry.path().filename().string();
    if (file.rfind("parity_", 0) == 0 && entry.path().extension() == ".json")
      cases.push_back(file.substr(7, file.size() - 7 - 5));
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

json load_fixture(const std::string& name) {
  std::filesystem::path path = fixture_dir() / ("parity_" + name + ".json");
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return json::parse(in);
}

// A flat float array; JSON null (a missing label) becomes NaN.
std::vector<float> floats(const json& j) {
  std::vector<float> out;
  out.reserve(j.size());
  for (const auto& v : j) out.push_back(v.is_null() ? std::numeric_limits<float>::quiet_NaN() : v.get<float>());
  return out;
}

mmoe::ModelSpec spec_from_json(const json& j) {
  mmoe::ModelSpec spec;
  spec.arch = mmoe::parse_arch(j.at("arch").get<std::string>());
  spec.n_expert = j.at("n_expert").get<int>();
  spec.expert_units = j.at("expert_units").get<std::vector<int>>();
  spec.tower_units = j.at("tower_units").get<std::vector<int>>();
  spec.tasks.clear();
  for (const auto& t : j.at("tasks")) {
    mmoe::TaskSpec task;
    task.name = t.at("name").get<std::string>();
    task.kind = mmoe::parse_task_kind(t.at("kind").get<std::string>());
    task.loss_weight = t.at("loss_weight").get<float>();
    spec.tasks.push_back(task);
  }
  spec.n_dense = j.at("n_dense").get<int64_t>();
  spec.cat_cardinality = j.at("cat_cardinality").get<std::vector<int64_t>>();
  spec.cat_encoding = mmoe::parse_cat_encoding(j.at("cat_encoding").get<std::string>());
  spec.embedding_dim = j.at("embedding_dim").get<int>();
  spec.validate();
  return spec;
}

mmoe::OptimConfig optim_from_json(const json& j) {
  mmoe::OptimConfig cfg;
  cfg.kind = mmoe::parse_optim_kind(j.at("kind").get<std::string>());
  cfg.lr = j.at("lr").get<double>();
  cfg.beta1 = j.at("beta1").get<double>();
  cfg.beta2 = j.at("beta2").get<double>();
  cfg.eps = j.at("eps").get<double>();
  cfg.momentum = j.at("momentum").get<double>();
  cfg.weight_decay = j.at("weight_decay").get<double>();
  cfg.decoupled = j.at("decoupled").get<bool>();
  return cfg;
}

bool close(double expected, double got) {
  if (std::isnan(expected) || std::isnan(got)) return false;
  return std::abs(expected - got) <= kRelTol * std::max(std::abs(expected), std::abs(got)) + kAbsTol;
}

// Compares element-wise and reports the first few mismatches with their flat index, so a failure names the
// case, the quantity, the element, the expected and the computed value.
template <typename T>
void expect_close(const std::string& what, const std::vector<float>& expected, const T* got, size_t n) {
  ASSERT_EQ(expected.size(), n) << what << ": size";
  size_t bad = 0;
  std::ostringstream first;
  double worst = 0.0;
  for (size_t i = 0; i < n; ++i) {
    double e = expected[i], g = static_cast<double>(got[i]);
    if (close(e, g)) continue;
    worst = std::max(worst, std::abs(e - g));
    if (bad < 6) first << "\n    [" << i << "] expected " << e << " got " << g;
    ++bad;
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << n << " elements differ (max abs diff " << worst << ")"
                     << first.str();
}

struct Case {
  std::string name;
  json fx;
  mmoe::ModelSpec spec;
  size_t rows = 0;
  std::vector<float> dense, labels, weights;
  std::vector<int32_t> cat;
  int n_task = 0, n_gate = 0, bank = 0;

  explicit Case(const std::string& case_name) : name(case_name), fx(load_fixture(case_name)) {
    spec = spec_from_json(fx.at("spec"));
    const json& in = fx.at("inputs");
    rows = in.at("rows").get<size_t>();
    dense = floats(in.at("dense"));
    labels = floats(in.at("labels"));
    if (!in.at("weights").is_null()) weights = floats(in.at("weights"));
    for (const auto& v : in.at("cat")) cat.push_back(v.get<int32_t>());
    n_task = spec.n_task();
    n_gate = spec.n_gate();
    bank = spec.bank_size();
  }

  mmoe::BatchView batch(bool with_labels = true) const {
    mmoe::BatchView b;
    b.rows = rows;
    b.dense = dense.empty() ? nullptr : dense.data();
    b.cat = cat.empty() ? nullptr : cat.data();
    b.labels = with_labels ? labels.data() : nullptr;
    b.weights = with_labels && !weights.empty() ? weights.data() : nullptr;
    return b;
  }

  // Copies the fixture's initial parameters into the model. Every tensor must be there.
  void load_params(mmoe::Model& model) const {
    const json& params = fx.at("params");
    for (const auto& t : model.tensors()) {
      if (t.size == 0) continue;
      ASSERT_TRUE(params.contains(t.name)) << name << ": model tensor " << t.name << " is not in the fixture";
      std::vector<float> values = floats(params.at(t.name));
      ASSERT_EQ(values.size(), t.size) << name << ": " << t.name << " size";
      std::span<float> p = model.param(t.name);
      std::copy(values.begin(), values.end(), p.begin());
    }
  }
};

class Parity : public ::testing::TestWithParam<std::string> {};

// The model's tensor list and the fixture's must be the same set with the same sizes: a tensor the engine
// forgot (or one it added) must fail here, not pass silently as "nothing to compare".
TEST_P(Parity, TensorSetMatchesFixture) {
  Case c(GetParam());
  mmoe::Model model(c.spec);
  std::map<std::string, size_t> in_model;
  for (const auto& t : model.tensors())
    if (t.size > 0) in_model[t.name] = t.size;
  std::map<std::string, size_t> in_fixture;
  for (const auto& [name, values] : c.fx.at("params").items()) in_fixture[name] = values.size();
  EXPECT_EQ(in_model, in_fixture);
  for (const auto& [name, values] : c.fx.at("params").items()) {
    ASSERT_TRUE(model.has_tensor(name)) << name;
    // Shapes, not just sizes: the product must match and the header's layout is what the fixture assumes.
    size_t product = 1;
    for (int64_t d : model.tensor(name).shape) product *= static_cast<size_t>(d);
    EXPECT_EQ(product, values.size()) << name;
    EXPECT_TRUE(c.fx.at("grads").contains(name)) << name << " has no gradient in the fixture";
  }
  for (const auto& o : c.fx.at("optim"))
    for (const auto& step : o.at("steps")) EXPECT_EQ(step.size(), in_fixture.size());
}

TEST_P(Parity, ForwardBackward) {
  Case c(GetParam());
  const json& fx = c.fx;
  std::vector<float> want_outputs = floats(fx.at("outputs"));
  std::vector<float> want_pred = floats(fx.at("predictions"));
  std::vector<float> want_gates = floats(fx.at("gates"));
  std::vector<float> want_task_losses = floats(fx.at("task_losses"));
  const double want_loss = fx.at("loss").get<double>();
  const size_t n_out = c.rows * static_cast<size_t>(c.n_task);
  const size_t n_gates = c.rows * static_cast<size_t>(c.n_gate * c.bank);
  ASSERT_EQ(want_gates.size(), n_gates);

  for (int threads : {1, 2}) {
    SCOPED_TRACE(c.name + ", " + std::to_string(threads) + " thread(s)");
    mmoe::Model model(c.spec);
    model.init(12345);  // then overwritten: nothing may depend on the initial draw
    c.load_params(model);
    if (HasFatalFailure()) return;
    mmoe::Executor exec(model, c.rows, threads);

    const mmoe::LossReport& report = exec.forward_backward(c.batch());
    EXPECT_TRUE(close(want_loss, report.total)) << "loss: expected " << want_loss << " got " << report.total;
    ASSERT_EQ(report.per_task.size(), static_cast<size_t>(c.n_task));
    for (int k = 0; k < c.n_task; ++k)
      EXPECT_TRUE(close(want_task_losses[k], report.per_task[k]))
          << "task " << k << " loss: expected " << want_task_losses[k] << " got " << report.per_task[k];

    std::vector<float> outputs(n_out, NAN);
    exec.last_outputs(outputs.data());
    expect_close("outputs", want_outputs, outputs.data(), n_out);
    std::vector<float> gates(n_gates + 1, NAN);  // +1: a zero-size vector still has a valid data pointer
    exec.last_gates(gates.data());
    expect_close("gates", want_gates, gates.data(), n_gates);

    for (const auto& t : model.tensors()) {
      if (t.size == 0 || !fx.at("grads").contains(t.name)) continue;  // TensorSetMatchesFixture reports it
      std::span<float> g = model.grad(t.name);
      expect_close("grad " + t.name, floats(fx.at("grads").at(t.name)), g.data(), g.size());
    }

    // The same batch again must give bit-identical gradients (fixed reduction order).
    std::vector<float> first_grads(model.grads().begin(), model.grads().end());
    exec.forward_backward(c.batch());
    size_t differ = 0;
    for (size_t i = 0; i < first_grads.size(); ++i)
      if (std::memcmp(&first_grads[i], &model.grads()[i], sizeof(float)) != 0) ++differ;
    EXPECT_EQ(differ, 0u) << "a second forward_backward on the same batch changed the gradients";

    // Inference: no labels, no weights.
    std::vector<float> pred(n_out, NAN);
    exec.predict(c.batch(/*with_labels=*/false), pred.data());
    expect_close("predict", want_pred, pred.data(), n_out);
    std::fill(outputs.begin(), outputs.end(), NAN);
    exec.last_outputs(outputs.data());
    expect_close("outputs after predict", want_outputs, outputs.data(), n_out);
    std::fill(gates.begin(), gates.end(), NAN);
    exec.last_gates(gates.data());
    expect_close("gates after predict", want_gates, gates.data(), n_gates);
  }
}

// Runs each optimizer of the fixture for two steps from the fixture's parameters (step 2 recomputes the
// gradient at step 1's parameters on the same batch) and compares every tensor after each step.
void run_optim(const Case& c, int threads, const json& o, bool lazy_sparse) {
  mmoe::OptimConfig cfg = optim_from_json(o);
  cfg.lazy_sparse = lazy_sparse;
  std::string label = std::string(mmoe::to_string(cfg.kind)) + " wd=" + std::to_string(cfg.weight_decay) +
                      (cfg.decoupled ? " decoupled" : "") + (lazy_sparse ? " lazy_sparse" : "") + ", " +
                      std::to_string(threads) + " thread(s)";
  SCOPED_TRACE(c.name + ", " + label);
  mmoe::Model model(c.spec);
  c.load_params(model);
  if (::testing::Test::HasFatalFailure()) return;
  mmoe::Executor exec(model, c.rows, threads);
  mmoe::Optimizer opt(model, cfg);
  const json& steps = o.at("steps");
  ASSERT_EQ(steps.size(), 2u);
  for (size_t s = 0; s < steps.size(); ++s) {
    exec.forward_backward(c.batch());
    opt.step(model, cfg.lr, exec.touched_rows());
    EXPECT_EQ(opt.steps(), static_cast<int64_t>(s + 1));
    for (const auto& t : model.tensors()) {
      if (t.size == 0 || !steps[s].contains(t.name)) continue;
      std::span<const float> p = std::as_const(model).param(t.name);
      expect_close("step " + std::to_string(s + 1) + " " + t.name, floats(steps[s].at(t.name)), p.data(),
                   p.size());
    }
  }
}

TEST_P(Parity, OptimizerSteps) {
  Case c(GetParam());
  for (int threads : {1, 2})
    for (const auto& o : c.fx.at("optim")) run_optim(c, threads, o, /*lazy_sparse=*/false);
  // Lazy sparse updates skip the rows of the one-hot/embedding table that the batch did not touch. Without
  // weight decay those rows have zero gradient, so their dense Adam/SGD update is zero too (m = v = 0), and
  // over two steps on one batch the lazy result must equal the dense fixture exactly as well.
  if (!c.spec.cat_cardinality.empty())
    for (const auto& o : c.fx.at("optim"))
      if (o.at("weight_decay").get<double>() == 0.0) run_optim(c, 1, o, /*lazy_sparse=*/true);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Parity, ::testing::ValuesIn(fixture_cases()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) { return param_info.param; });

// Guards against an empty or misplaced fixture directory turning the whole suite into zero tests.
TEST(ParityFixtures, AllCasesPresent) {
  std::set<std::string> have;
  for (const auto& name : fixture_cases()) have.insert(name);
  for (const char* name : {"mmoe_regression", "mmoe_binary_mixed", "omoe", "shared_bottom", "single_task",
                           "mmoe_deep_experts", "mmoe_onehot", "mmoe_embedding", "mmoe_one_task",
                           "shared_bottom_no_tower_hidden", "mmoe_task_unlabelled"})
    EXPECT_TRUE(have.count(name)) << "missing fixture parity_" << name << ".json in " << fixture_dir();
}

}  // namespace
