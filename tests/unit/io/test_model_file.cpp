// Model files and checkpoints (model_file.h): bit-identical round trips for every architecture and both
// categorical encodings, identical predictions after reload, checkpoints that resume training bit-exactly,
// the spec <-> JSON mapping, and files whose content disagrees with the model their spec describes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "mmoe/error.h"
#include "mmoe/model.h"
#include "mmoe/model_file.h"
#include "mmoe/optim.h"
#include "mmoe/rng.h"
#include "error_capture.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct TempDir {
  fs::path dir;
  TempDir() {
    static int counter = 0;
    dir = fs::temp_directory_path() / ("mmoe_io_model_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

using mmoe::test::expect_error;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

mmoe::ModelSpec make_spec(mmoe::Arch arch, mmoe::CatEncoding enc) {
  mmoe::ModelSpec spec;
  spec.arch = arch;
  spec.n_expert = 3;
  spec.expert_units = {6, 4};
  spec.tower_units = {5};
  spec.tasks = {{"click", mmoe::TaskKind::binary, 1.0f}, {"dwell", mmoe::TaskKind::regression, 0.3f}};
  spec.n_dense = 4;
  spec.cat_cardinality = {3, 5};
  spec.cat_encoding = enc;
  spec.embedding_dim = 2;
  spec.init = mmoe::Init::xavier_uniform;
  return spec;
}

// Random inputs and labels for `rows` rows of `spec`.
struct Data {
  size_t rows;
  std::vector<float> dense, labels;
  std::vector<int32_t> cat;
  Data(const mmoe::ModelSpec& spec, size_t n, uint64_t seed) : rows(n) {
    mmoe::Rng rng(seed);
    for (size_t i = 0; i < n * static_cast<size_t>(spec.n_dense); ++i) dense.push_back(static_cast<float>(rng.normal()));
    for (size_t r = 0; r < n; ++r)
      for (int64_t card : spec.cat_cardinality) cat.push_back(static_cast<int32_t>(rng.below(static_cast<uint64_t>(card))));
    for (size_t r = 0; r < n; ++r)
      for (const mmoe::TaskSpec& t : spec.tasks)
        labels.push_back(t.kind == mmoe::TaskKind::binary ? static_cast<float>(rng.below(2))
                                                          : static_cast<float>(rng.normal()));
  }
  mmoe::BatchView batch() const {
    return {rows, dense.data(), cat.empty() ? nullptr : cat.data(), labels.data(), nullptr};
  }
};

std::vector<float> predict(mmoe::Model& model, const Data& data) {
  mmoe::Executor exec(model, data.rows, 2);
  std::vector<float> out(data.rows * static_cast<size_t>(model.spec().n_task()));
  exec.predict(data.batch(), out.data());
  return out;
}

bool bit_identical(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

const json kPipeline = {{"columns", {{{"name", "age"}, {"kind", "numeric"}, {"mean", 38.5}}}}, {"version", 1}};

TEST(ModelFile, RoundTripIsBitIdenticalForEveryArchAndEncoding) {
  TempDir tmp;
  for (mmoe::Arch arch : {mmoe::Arch::mmoe, mmoe::Arch::omoe, mmoe::Arch::shared_bottom, mmoe::Arch::single_task}) {
    for (mmoe::CatEncoding enc : {mmoe::CatEncoding::onehot, mmoe::CatEncoding::embedding}) {
      SCOPED_TRACE(std::string(mmoe::to_string(arch)) + "/" + mmoe::to_string(enc));
      const mmoe::ModelSpec spec = make_spec(arch, enc);
      mmoe::Model model(spec);
      model.init(11);
      const std::string path = tmp.path(std::string(mmoe::to_string(arch)) + "_" + mmoe::to_string(enc) + ".mmoe");
      const json meta = {{"trained_on", "census.csv"}, {"epochs", 3}};
      mmoe::save_model(path, model, kPipeline, meta);

      mmoe::LoadedModel loaded = mmoe::load_model(path);
      ASSERT_TRUE(loaded.model);
      EXPECT_EQ(loaded.pipeline, kPipeline);
      EXPECT_EQ(loaded.meta, meta);
      EXPECT_EQ(mmoe::spec_to_json(loaded.model->spec()), mmoe::spec_to_json(spec));
      EXPECT_TRUE(bit_identical(loaded.model->params(), model.params()));

      const Data data(spec, 37, 5);
      EXPECT_TRUE(bit_identical(predict(*loaded.model, data), predict(model, data)));
    }
  }
}

TEST(ModelFile, DenseOnlyModelAndNullPipeline) {
  TempDir tmp;
  mmoe::ModelSpec spec = make_spec(mmoe::Arch::mmoe, mmoe::CatEncoding::onehot);
  spec.cat_cardinality.clear();
  spec.tower_units.clear();
  spec.expert_units = {3};
  mmoe::Model model(spec);
  model.init(3);
  const std::string path = tmp.path("dense.mmoe");
  mmoe::save_model(path, model, nullptr, json::object());
  const mmoe::LoadedModel loaded = mmoe::load_model(path);
  EXPECT_TRUE(loaded.pipeline.is_null());
  EXPECT_TRUE(bit_identical(loaded.model->params(), model.params()));
}

TEST(ModelFile, OverwriteLeavesNoTemporaryFiles) {
  TempDir tmp;
  mmoe::Model model(make_spec(mmoe::Arch::mmoe, mmoe::CatEncoding::onehot));
  model.init(1);
  const std::string path = tmp.path("m.mmoe");
  mmoe::save_model(path, model, kPipeline, {});
  model.init(2);
  mmoe::save_model(path, model, kPipeline, {});
  EXPECT_TRUE(bit_identical(mmoe::load_model(path).model->params(), model.params()));
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(tmp.dir)) {
    ++files;
    EXPECT_EQ(entry.path().filename(), "m.mmoe");
  }
  EXPECT_EQ(files, 1u);
}

TEST(ModelFile, IoErrors) {
  TempDir tmp;
  mmoe::Model model(make_spec(mmoe::Arch::omoe, mmoe::CatEncoding::onehot));
  const std::string bad = tmp.path("missing_dir/m.mmoe");
  mmoe::Error e = expect_error([&] { mmoe::save_model(bad, model, {}, {}); }, mmoe::ErrorKind::io);
  EXPECT_EQ(e.where(), bad);
  EXPECT_TRUE(contains(e.what(), bad));
  e = expect_error([&] { mmoe::load_model(tmp.path("nope.mmoe")); }, mmoe::ErrorKind::io);
  EXPECT_EQ(e.where(), tmp.path("nope.mmoe"));
  e = expect_error([&] { mmoe::load_model(tmp.dir.string()); }, mmoe::ErrorKind::io);
  e = expect_error([&] { mmoe::save_model(tmp.dir.string(), model, {}, {}); }, mmoe::ErrorKind::io);
  EXPECT_EQ(e.where(), tmp.dir.string());
}

TEST(ModelFile, InvalidUtf8InThePipelineIsAnInputError) {
  TempDir tmp;
  mmoe::Model model(make_spec(mmoe::Arch::mmoe, mmoe::CatEncoding::onehot));
  const std::string path = tmp.path("m.mmoe");
  mmoe::Error e = expect_error([&] { mmoe::save_model(path, model, json{{"vocab", {"caf\xe9"}}}, {}); },
                               mmoe::ErrorKind::input);
  EXPECT_TRUE(contains(e.message(), "UTF-8")) << e.message();
  EXPECT_FALSE(fs::exists(path));
}

// Rewrites a saved model's header through `edit` (the container API keeps the file well-formed), so that
// the content checks are the ones that fire.
std::string edit_model_file(const TempDir& tmp, const std::function<void(json&)>& edit,
                            std::vector<float>* params_override = nullptr) {
  mmoe::Model model(make_spec(mmoe::Arch::mmoe, mmoe::CatEncoding::onehot));
  model.init(4);
  const std::string path = tmp.path("edit.mmoe");
  mmoe::save_model(path, model, kPipeline, {});
  mmoe::Container c = mmoe::read_container(path);
  std::vector<float> params = c.read_f32("params");
  if (params_override) params = *params_override;
  json header = c.header;
  header.erase("sections");
  edit(header);
  mmoe::write_container(path, mmoe::FileKind::model, header, {{"params", mmoe::DType::f32, params.data(), params.size()}});
  return path;
}

TEST(ModelFile, UneditedRewriteLoads) {
  TempDir tmp;
  EXPECT_NO_THROW(mmoe::load_model(edit_model_file(tmp, [](json&) {})));
}

TEST(ModelFile, SpecClaimingAHugeModelIsRefusedBeforeAllocating) {
  TempDir tmp;
  // 10^12 inputs: building this Model would ask for terabytes.
  const std::string path = edit_model_file(tmp, [](json& h) { h["spec"]["n_dense"] = int64_t{1000000000000}; });
  const mmoe::Error e = expect_error([&] { mmoe::load_model(path); }, mmoe::ErrorKind::format);
  EXPECT_TRUE(contains(e.message(), "at least")) << e.message();
  EXPECT_TRUE(contains(e.where(), "(section params)")) << e.where();
  const std::string cats = edit_model_file(tmp, [](json& h) { h["spec"]["cat_cardinality"] = {int64_t{1} << 40}; });
  expect_error([&] { mmoe::load_model(cats); }, mmoe::ErrorKind::format);
}

TEST(ModelFile, TensorTableMustMatchTheRebuiltModel) {
  TempDir tmp;
  std::string path = edit_model_file(tmp, [](json& h) { h["tensors"][2]["shape"] = {3, 6, 5}; });
  mmoe::Error e = expect_error([&] { mmoe::load_model(path); }, mmoe::ErrorKind::format);
  EXPECT_TRUE(contains(e.message(), "tensor #2")) << e.message();
  EXPECT_TRUE(contains(e.where(), "(header)")) << e.where();
  path = edit_model_file(tmp, [](json& h) { h["tensors"][0]["name"] = "first.W"; });
  expect_error([&] { mmoe::load_model(path); }, mmoe::ErrorKind::format);
  path = edit_model_file(tmp, [](json& h) { h["tensors"].erase(h["tensors"].size() - 1); });
  e = expect_error([&] { mmoe::load_model(path); }, mmoe::ErrorKind::format);
  EXPECT_TRUE(contains(e.message(), "tensor table lists")) << e.message();
  // A spec for a different (smaller but valid) model than the table.
  path = edit_model_file(tmp, [](json& h) { h["spec"]["n_expert"] = 2; });
  expect_error([&] { mmoe::load_model(path); }, mmoe::ErrorKind::format);
}

TEST(ModelFile, ParamsSectionSizeMustMatchTheModel) {
  TempDir tmp;
  mmoe::Model model(make_spec(mmoe::Arch::mmoe, mmoe::CatEncoding::onehot));
  std::vector<float> longer(model.arena_size() + 16, 0.0f);
  std::string path = edit_model_file(tmp, [](json&) {}, &longer);
  mmoe::Error e = expect_error([&] { mmoe::load_model(path); }, mmoe::ErrorKind::format);
  EXPECT_TRUE(contains(e.message(), "section 'params' holds")) << e.message();
  std::vector<float> shorter(model.arena_size() - 16, 0.0f);
  path = edit_model_file(tmp, [](json&) {}, &shorter);
  expect_error([&] { mmoe::load_model(path); }, mmoe::ErrorKind::format);
}

TEST(ModelFile, HeaderFieldErrorsNameTheField) {
  TempDir tmp;
  std::string path = edit_model_file(tmp, [](json& h) { h["spec"].erase("tower_units"); });
  mmoe::Error e = expect_error([&] { mmoe::load_model(path); }, mmoe::ErrorKind::format);
  EXPECT_TRUE(contains(e.message(), "spec.tower_units")) << e.message();
  EXPECT_TRUE(contains(e.where(), "edit.mmoe@24 (header)")) << e.where();
  path = edit_model_file(tmp, [](json& h) { h["format"] = "mmoe-checkpoint"; });
  e = expect_error([&] { mmoe::load_model(path); }, mmoe::ErrorKind::format);
  EXPECT_TRUE(contains(e.message(), "'format'")) << e.message();
  path = edit_model_file(tmp, [](json& h) { h.erase("pipeline"); });
  e = expect_error([&] { mmoe::load_model(path); }, mmoe::ErrorKind::format);
  EXPECT_TRUE(contains(e.message(), "pipeline")) << e.message();
}

TEST(ModelFile, FlippedByteInAModelFileIsRefused) {
  // A sample of positions in a real model file (the container test covers every byte of a small one).
  TempDir tmp;
  mmoe::Model model(make_spec(mmoe::Arch::mmoe, mmoe::CatEncoding::embedding));
  model.init(9);
  const std::string path = tmp.path("m.mmoe");
  mmoe::save_model(path, model, kPipeline, {});
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> good{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const std::string bad = tmp.path("bad.mmoe");
  for (size_t i = 12; i + 12 < good.size(); i += 7) {
    std::vector<char> b = good;
    b[i] = static_cast<char>(b[i] ^ 0x10);
    std::ofstream(bad, std::ios::binary).write(b.data(), static_cast<std::streamsize>(b.size()));
    const mmoe::Error e = expect_error([&] { mmoe::load_model(bad); }, mmoe::ErrorKind::format);
    EXPECT_TRUE(contains(e.message(), "checksum mismatch")) << i << ": " << e.message();
  }
}

// ---- spec <-> JSON -----------------------------------------------------------------------------------------

TEST(SpecJson, RoundTripsEveryField) {
  mmoe::ModelSpec spec = make_spec(mmoe::Arch::single_task, mmoe::CatEncoding::embedding);
  spec.n_expert = 5;
  spec.embedding_dim = 7;
  spec.init = mmoe::Init::he_uniform;
  spec.tasks[1].loss_weight = 0.1f;  // not exact in decimal: must still round-trip
  const json j = spec_to_json(spec);
  EXPECT_EQ(j["arch"], "single-task");
  EXPECT_EQ(j["cat_encoding"], "embedding");
  EXPECT_EQ(j["init"], "he");
  const mmoe::ModelSpec back = mmoe::spec_from_json(json::parse(j.dump()));
  EXPECT_EQ(back.arch, spec.arch);
  EXPECT_EQ(back.n_expert, 5);
  EXPECT_EQ(back.expert_units, spec.expert_units);
  EXPECT_EQ(back.tower_units, spec.tower_units);
  ASSERT_EQ(back.tasks.size(), 2u);
  EXPECT_EQ(back.tasks[1].name, "dwell");
  EXPECT_EQ(back.tasks[1].kind, mmoe::TaskKind::regression);
  EXPECT_EQ(back.tasks[1].loss_weight, 0.1f);
  EXPECT_EQ(back.n_dense, spec.n_dense);
  EXPECT_EQ(back.cat_cardinality, spec.cat_cardinality);
  EXPECT_EQ(back.cat_encoding, spec.cat_encoding);
  EXPECT_EQ(back.embedding_dim, 7);
  EXPECT_EQ(back.init, spec.init);
}

TEST(SpecJson, BadFieldsAreFormatErrorsNamingTheField) {
  const json good = mmoe::spec_to_json(make_spec(mmoe::Arch::mmoe, mmoe::CatEncoding::onehot));
  struct Case {
    std::function<void(json&)> edit;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](json& j) { j.erase("n_dense"); }, "spec.n_dense"},
      {[](json& j) { j["n_expert"] = "8"; }, "spec.n_expert"},
      {[](json& j) { j["n_expert"] = 2.5; }, "spec.n_expert"},
      {[](json& j) { j["expert_units"] = {16, -1}; }, "spec.expert_units[1]"},
      {[](json& j) { j["tower_units"] = 8; }, "spec.tower_units"},
      {[](json& j) { j["tasks"][1]["kind"] = "ranking"; }, "spec.tasks[1].kind"},
      {[](json& j) { j["tasks"][0].erase("name"); }, "spec.tasks[0].name"},
      {[](json& j) { j["tasks"][0]["loss_weight"] = -1; }, "spec.tasks[0].loss_weight"},
      {[](json& j) { j["cat_cardinality"] = {3, 0}; }, "spec.cat_cardinality[1]"},
      {[](json& j) { j["cat_encoding"] = "hash"; }, "spec.cat_encoding"},
      {[](json& j) { j["init"] = nullptr; }, "spec.init"},
      {[](json& j) { j["arch"] = "transformer"; }, "spec.arch"},
      {[](json& j) { j["n_experts"] = 8; }, "spec.n_experts"},
      {[](json& j) { j["tasks"] = json::array(); }, "spec"},
      {[](json& j) { j = json::array(); }, "spec"},
  };
  for (const Case& c : cases) {
    json j = good;
    c.edit(j);
    const mmoe::Error e = expect_error([&] { mmoe::spec_from_json(j); }, mmoe::ErrorKind::format);
    EXPECT_EQ(e.where(), "field '" + c.field + "'") << e.what();
  }
}

TEST(OptimJson, RoundTripsEveryField) {
  mmoe::OptimConfig c;
  c.kind = mmoe::OptimKind::sgd;
  c.lr = 0.1 / 3;
  c.beta1 = 0.85;
  c.beta2 = 0.995;
  c.eps = 1e-7;
  c.momentum = 0.9;
  c.nesterov = true;
  c.weight_decay = 1e-4;
  c.decoupled = true;
  c.lazy_sparse = true;
  const mmoe::OptimConfig b = mmoe::optim_from_json(json::parse(mmoe::optim_to_json(c).dump()));
  EXPECT_EQ(b.kind, c.kind);
  EXPECT_EQ(b.lr, c.lr);
  EXPECT_EQ(b.beta1, c.beta1);
  EXPECT_EQ(b.beta2, c.beta2);
  EXPECT_EQ(b.eps, c.eps);
  EXPECT_EQ(b.momentum, c.momentum);
  EXPECT_EQ(b.nesterov, c.nesterov);
  EXPECT_EQ(b.weight_decay, c.weight_decay);
  EXPECT_EQ(b.decoupled, c.decoupled);
  EXPECT_EQ(b.lazy_sparse, c.lazy_sparse);
  json j = mmoe::optim_to_json(c);
  j.erase("eps");
  EXPECT_EQ(expect_error([&] { mmoe::optim_from_json(j); }, mmoe::ErrorKind::format).where(), "field 'optim.eps'");
}

// ---- checkpoints -------------------------------------------------------------------------------------------

void train_steps(mmoe::Model& model, mmoe::Optimizer& opt, const Data& data, int steps) {
  // A new Executor clears only the table rows it touched itself, so start from zero gradients (a loaded
  // model has them; the original still holds the last step's).
  model.zero_grads();
  mmoe::Executor exec(model, data.rows, 2);
  for (int s = 0; s < steps; ++s) {
    exec.forward_backward(data.batch());
    opt.step(model, opt.config().lr, exec.touched_rows());
  }
}

void check_resume(mmoe::OptimConfig config, mmoe::CatEncoding enc) {
  TempDir tmp;
  const mmoe::ModelSpec spec = make_spec(mmoe::Arch::mmoe, enc);
  const Data data(spec, 32, 8);
  mmoe::Model model(spec);
  model.init(21);
  mmoe::Optimizer opt(model, config);
  train_steps(model, opt, data, 3);

  const std::vector<float> best(model.params().begin(), model.params().end());
  const std::vector<float> curve = {0.7f, 0.6f, 0.55f};
  const json state = {{"epoch", 2}, {"step", 3}, {"rng", {1, 2, 3, 4}}, {"best_metric", 0.71}};
  const std::string path = tmp.path("run.ckpt");
  mmoe::save_checkpoint(path, model, opt, kPipeline, state, {{"best_params", best}, {"loss_curve", curve}});

  mmoe::LoadedCheckpoint ck = mmoe::load_checkpoint(path);
  EXPECT_EQ(ck.trainer_state, state);
  EXPECT_EQ(ck.model.pipeline, kPipeline);
  EXPECT_EQ(ck.optim_steps, 3);
  EXPECT_EQ(ck.optim.kind, config.kind);
  EXPECT_EQ(ck.optim.lr, config.lr);
  EXPECT_EQ(ck.optim.momentum, config.momentum);
  EXPECT_TRUE(bit_identical(ck.model.model->params(), model.params()));
  EXPECT_TRUE(bit_identical(ck.m, opt.m()));
  EXPECT_TRUE(bit_identical(ck.v, opt.v()));
  ASSERT_EQ(ck.extra.size(), 2u);
  EXPECT_TRUE(bit_identical(ck.extra.at("best_params"), best));
  EXPECT_TRUE(bit_identical(ck.extra.at("loss_curve"), curve));

  // Resume: the restored run continues exactly like the original.
  mmoe::Model& resumed = *ck.model.model;
  mmoe::Optimizer opt2(resumed, ck.optim);
  mmoe::restore_optimizer(opt2, ck);
  EXPECT_EQ(opt2.steps(), 3);
  train_steps(model, opt, data, 4);
  train_steps(resumed, opt2, data, 4);
  EXPECT_TRUE(bit_identical(resumed.params(), model.params()));
  EXPECT_TRUE(bit_identical(opt2.m(), opt.m()));
}

TEST(Checkpoint, AdamRoundTripResumesBitExactly) {
  mmoe::OptimConfig c;
  c.lr = 0.01;
  c.lazy_sparse = true;
  check_resume(c, mmoe::CatEncoding::embedding);
}

TEST(Checkpoint, SgdMomentumRoundTripResumesBitExactly) {
  mmoe::OptimConfig c;
  c.kind = mmoe::OptimKind::sgd;
  c.lr = 0.05;
  c.momentum = 0.9;
  c.nesterov = true;
  check_resume(c, mmoe::CatEncoding::onehot);
}

TEST(Checkpoint, WrongKindBothWays) {
  TempDir tmp;
  mmoe::Model model(make_spec(mmoe::Arch::mmoe, mmoe::CatEncoding::onehot));
  mmoe::Optimizer opt(model, {});
  const std::string ckpt = tmp.path("run.ckpt"), mdl = tmp.path("m.mmoe");
  mmoe::save_checkpoint(ckpt, model, opt, {}, {});
  mmoe::save_model(mdl, model, {}, {});
  mmoe::Error e = expect_error([&] { mmoe::load_model(ckpt); }, mmoe::ErrorKind::format);
  EXPECT_EQ(e.message(), "this is an mmoe checkpoint, not a model file");
  EXPECT_EQ(e.where(), ckpt + "@12 (file kind)");
  e = expect_error([&] { mmoe::load_checkpoint(mdl); }, mmoe::ErrorKind::format);
  EXPECT_EQ(e.message(), "this is an mmoe model file, not a checkpoint");
}

TEST(Checkpoint, RestoreIntoAMismatchedOptimizerIsRefused) {
  TempDir tmp;
  mmoe::Model model(make_spec(mmoe::Arch::mmoe, mmoe::CatEncoding::onehot));
  mmoe::Optimizer adam(model, {});
  const std::string path = tmp.path("run.ckpt");
  mmoe::save_checkpoint(path, model, adam, {}, {});
  const mmoe::LoadedCheckpoint ck = mmoe::load_checkpoint(path);
  EXPECT_TRUE(ck.extra.empty());
  mmoe::OptimConfig sgd_config;
  sgd_config.kind = mmoe::OptimKind::sgd;
  mmoe::Optimizer sgd(*ck.model.model, sgd_config);
  expect_error([&] { mmoe::restore_optimizer(sgd, ck); }, mmoe::ErrorKind::usage);
  mmoe::Model other(make_spec(mmoe::Arch::omoe, mmoe::CatEncoding::onehot));
  mmoe::Optimizer other_adam(other, {});
  expect_error([&] { mmoe::restore_optimizer(other_adam, ck); }, mmoe::ErrorKind::usage);
}

TEST(Checkpoint, BadExtraNamesAreRefused) {
  TempDir tmp;
  mmoe::Model model(make_spec(mmoe::Arch::mmoe, mmoe::CatEncoding::onehot));
  mmoe::Optimizer opt(model, {});
  const std::vector<float> x = {1.0f};
  expect_error([&] { mmoe::save_checkpoint(tmp.path("a"), model, opt, {}, {}, {{"a", x}, {"a", x}}); },
               mmoe::ErrorKind::usage);
  expect_error([&] { mmoe::save_checkpoint(tmp.path("b"), model, opt, {}, {}, {{"", x}}); }, mmoe::ErrorKind::usage);
  EXPECT_FALSE(fs::exists(tmp.path("a")));
}

}  // namespace
