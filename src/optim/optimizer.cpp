// Optimizer: Adam / AdamW / SGD as single flat loops over the parameter arena (torch.optim semantics).
#include <cmath>

#include "kernels/adam.h"
#include "mmoe/error.h"
#include "mmoe/optim.h"

namespace mmoe {

const char* to_string(OptimKind kind) { return kind == OptimKind::adam ? "adam" : "sgd"; }

OptimKind parse_optim_kind(const std::string& text) {
  if (text == "adam") return OptimKind::adam;
  if (text == "sgd") return OptimKind::sgd;
  throw Error(ErrorKind::usage, "unknown optimizer '" + text + "' (expected adam or sgd)", "optimizer");
}

Optimizer::Optimizer(const Model& model, const OptimConfig& config) : config_(config) {
  if (!(config.lr > 0.0) || !std::isfinite(config.lr))
    throw Error(ErrorKind::usage, "the learning rate must be > 0", "train.lr");
  if (config.beta1 < 0.0 || config.beta1 >= 1.0) throw Error(ErrorKind::usage, "beta1 must be in [0, 1)", "train.beta1");
  if (config.beta2 < 0.0 || config.beta2 >= 1.0) throw Error(ErrorKind::usage, "beta2 must be in [0, 1)", "train.beta2");
  if (!(config.eps > 0.0)) throw Error(ErrorKind::usage, "eps must be > 0", "train.eps");
  if (config.weight_decay < 0.0) throw Error(ErrorKind::usage, "weight_decay must be >= 0", "train.weight_decay");
  if (config.momentum < 0.0 || config.momentum >= 1.0)
    throw Error(ErrorKind::usage, "momentum must be in [0, 1)", "train.momentum");
  m_.resize(model.arena_size());
  if (config.kind == OptimKind::adam) v_.resize(model.arena_size());
}

void Optimizer::update_range(Model& model, size_t begin, size_t end, double lr) {
  float* p = model.params().data() + begin;
  const float* g = model.grads().data() + begin;
  float* m = m_.data() + begin;
  float* v = config_.kind == OptimKind::adam ? v_.data() + begin : nullptr;
  const size_t n = end - begin;
  const float wd = static_cast<float>(config_.weight_decay);
  if (config_.kind == OptimKind::adam) {
    kernels::AdamStep st{static_cast<float>(config_.beta1), static_cast<float>(config_.beta2),
                         static_cast<float>(lr / bias1_), static_cast<float>(1.0 / std::sqrt(bias2_)),
                         static_cast<float>(config_.eps)};
    st.weight_decay = wd;
    st.decoupled = config_.decoupled;
    st.decay = static_cast<float>(1.0 - lr * config_.weight_decay);
    kernels::adam_update(st, p, g, m, v, n);
  } else {
    const float mu = static_cast<float>(config_.momentum);
    const float rate = static_cast<float>(lr);
    const bool first = t_ == 1;
    for (size_t i = 0; i < n; ++i) {
      float d = g[i] + wd * p[i];
      if (mu != 0.0f) {
        m[i] = first ? d : mu * m[i] + d;
        d = config_.nesterov ? d + mu * m[i] : m[i];
      }
      p[i] -= rate * d;
    }
  }
}

void Optimizer::begin_step() {
  ++t_;
  bias1_ = 1.0 - std::pow(config_.beta1, static_cast<double>(t_));
  bias2_ = 1.0 - std::pow(config_.beta2, static_cast<double>(t_));
}

void Optimizer::step(Model& model, double lr, std::span<const int32_t> touched) {
  begin_step();
  // Dense region (padding between tensors has zero gradient and zero parameter: a no-op), and the tables: all
  // of them, or in lazy mode only the rows the batch touched.
  update_range(model, 0, config_.lazy_sparse ? model.dense_floats() : model.arena_size(), lr);
  if (!config_.lazy_sparse) return;
  for (const ParamTensor& t : model.tensors()) {
    if (!t.row_sparse) continue;
    const size_t width = static_cast<size_t>(t.shape[1]);
    for (int32_t r : touched) {
      const size_t at = t.offset + static_cast<size_t>(r) * width;
      update_range(model, at, at + width, lr);
    }
  }
}

StepUpdate Optimizer::fused_update(Model& model, double lr) {
  begin_step();
  fused_ = Fused{this, &model, lr};
  StepUpdate u;
  u.ctx = &fused_;
  u.lazy_sparse = config_.lazy_sparse;
  u.update = [](void* ctx, size_t begin, size_t end) {
    const Fused& f = *static_cast<const Fused*>(ctx);
    f.self->update_range(*f.model, begin, end, f.lr);
  };
  return u;
}

}  // namespace mmoe
