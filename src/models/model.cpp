// Model: the parameter layout of every architecture (see the table in include/mmoe/model.h) and its
// initialisation. The forward/backward lives in executor_passes.cpp, the batch split across threads in executor.cpp.
#include "mmoe/model.h"

#include <cmath>

#include "mmoe/error.h"
#include "mmoe/rng.h"

namespace mmoe {

namespace {

size_t aligned_floats(size_t n) {
  const size_t per_line = kAlignment / sizeof(float);
  return (n + per_line - 1) / per_line * per_line;
}

struct LayoutBuilder {
  std::vector<ParamTensor> tensors;
  size_t next = 0;

  void add(std::string name, std::vector<int64_t> shape, int64_t fan_in, bool row_sparse = false) {
    ParamTensor t;
    t.name = std::move(name);
    t.size = 1;
    for (int64_t dim : shape) t.size *= static_cast<size_t>(dim);
    t.shape = std::move(shape);
    t.offset = next;
    t.row_sparse = row_sparse;
    t.fan_in = fan_in;
    next += aligned_floats(t.size);
    tensors.push_back(std::move(t));
  }
};

}  // namespace

Model::Model(const ModelSpec& spec) : spec_(spec) {
  spec_.validate();
  const int64_t bank = spec_.bank_size();
  const int64_t n_gate = spec_.n_gate();
  const int64_t n_task = spec_.n_task();
  const int64_t h1 = spec_.expert_units[0];
  const int64_t n_first = bank * h1 + n_gate * bank;
  const int64_t din = spec_.gemm_input_width();
  const int64_t n_cat_total = spec_.total_categories();
  // A one-hot column behaves like n_categories extra inputs of a dense Linear, so it counts in fan_in.
  const int64_t first_fan_in = din + (spec_.cat_encoding == CatEncoding::onehot ? n_cat_total : 0);

  LayoutBuilder b;
  b.add("first.w", {din, n_first}, first_fan_in);
  b.add("first.b", {n_first}, first_fan_in);
  for (size_t l = 1; l < spec_.expert_units.size(); ++l) {
    const int64_t in = spec_.expert_units[l - 1], out = spec_.expert_units[l];
    b.add("expert." + std::to_string(l) + ".w", {bank, in, out}, in);
    b.add("expert." + std::to_string(l) + ".b", {bank, out}, in);
  }
  int64_t in = spec_.expert_units.back();
  for (size_t l = 0; l <= spec_.tower_units.size(); ++l) {
    const int64_t out = l < spec_.tower_units.size() ? spec_.tower_units[l] : 1;
    b.add("tower." + std::to_string(l) + ".w", {n_task, in, out}, in);
    b.add("tower." + std::to_string(l) + ".b", {n_task, out}, in);
    in = out;
  }
  // Row-sparse tables go last, so the dense region [0, dense_floats_) is one contiguous block: per-thread
  // gradient copies need only that much, however many categories the tables hold.
  dense_floats_ = b.next;
  if (n_cat_total > 0) {
    if (spec_.cat_encoding == CatEncoding::onehot)
      b.add("first.onehot", {n_cat_total, n_first}, first_fan_in, true);
    else
      b.add("embed.table", {n_cat_total, spec_.embedding_dim}, 0, true);
  }
  tensors_ = std::move(b.tensors);
  params_.resize(b.next);
  grads_.resize(b.next);
}

const ParamTensor& Model::tensor(const std::string& name) const {
  for (const ParamTensor& t : tensors_)
    if (t.name == name) return t;
  throw Error(ErrorKind::internal, "the model has no parameter tensor '" + name + "'");
}

bool Model::has_tensor(const std::string& name) const {
  for (const ParamTensor& t : tensors_)
    if (t.name == name) return true;
  return false;
}

std::span<float> Model::param(const std::string& name) {
  const ParamTensor& t = tensor(name);
  return {params_.data() + t.offset, t.size};
}
std::span<const float> Model::param(const std::string& name) const {
  const ParamTensor& t = tensor(name);
  return {params_.data() + t.offset, t.size};
}
std::span<float> Model::grad(const std::string& name) {
  const ParamTensor& t = tensor(name);
  return {grads_.data() + t.offset, t.size};
}

size_t Model::n_params() const {
  size_t n = 0;
  for (const ParamTensor& t : tensors_) n += t.size;
  return n;
}

std::vector<int64_t> Model::cat_offsets() const {
  std::vector<int64_t> offsets(spec_.cat_cardinality.size());
  int64_t next = 0;
  for (size_t j = 0; j < offsets.size(); ++j) {
    offsets[j] = next;
    next += spec_.cat_cardinality[j];
  }
  return offsets;
}

void Model::init(uint64_t seed) {
  Rng rng(seed);
  params_.zero();
  for (const ParamTensor& t : tensors_) {
    float* p = params_.data() + t.offset;
    const bool is_bias = t.shape.size() >= 1 && t.name.size() > 2 && t.name.compare(t.name.size() - 2, 2, ".b") == 0;
    if (t.name == "embed.table") {  // nn.Embedding default: N(0, 1)
      for (size_t i = 0; i < t.size; ++i) p[i] = static_cast<float>(rng.normal());
      continue;
    }
    const double fan_in = static_cast<double>(t.fan_in);
    const double fan_out = static_cast<double>(t.shape.back());
    double bound = 0.0;
    switch (spec_.init) {
      case Init::torch_default:  // nn.Linear: kaiming_uniform(a = sqrt(5)) == U(+-1/sqrt(fan_in)), bias too
        bound = 1.0 / std::sqrt(fan_in);
        break;
      case Init::xavier_uniform:
        bound = is_bias ? 0.0 : std::sqrt(6.0 / (fan_in + fan_out));
        break;
      case Init::he_uniform:
        bound = is_bias ? 0.0 : std::sqrt(6.0 / fan_in);
        break;
    }
    for (size_t i = 0; i < t.size; ++i) p[i] = static_cast<float>(rng.uniform(-bound, bound));
  }
}

}  // namespace mmoe
