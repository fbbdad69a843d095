// mmoe/optim.h: optimizers over a Model's flat parameter arena.
//
// Adam follows torch.optim.Adam exactly: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
// p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps). weight_decay adds wd * p to g (L2, torch Adam);
// with decoupled = true it is AdamW: p -= lr * wd * p before the update. SGD follows torch.optim.SGD
// (momentum buf = mu buf + g, dampening 0, optional nesterov).
//
// Row-sparse tensors (one-hot and embedding tables) are updated only in the rows a batch touched when
// `lazy_sparse` is on (like LazyAdam / torch SparseAdam); otherwise they get the dense update too.
//
//   mmoe::Optimizer opt(model, mmoe::OptimConfig{.kind = mmoe::OptimKind::adam, .lr = 1e-3});
//   exec.forward_backward(batch);
//   opt.step(model, exec.touched_rows());
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "mmoe/model.h"
#include "mmoe/tensor.h"

namespace mmoe {

enum class OptimKind { adam, sgd };

struct OptimConfig {
  OptimKind kind = OptimKind::adam;
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double momentum = 0.0;   // sgd
  bool nesterov = false;   // sgd
  double weight_decay = 0.0;
  bool decoupled = false;  // AdamW-style decay
  bool lazy_sparse = false;
};

const char* to_string(OptimKind kind);
OptimKind parse_optim_kind(const std::string& text);

class Optimizer {
 public:
  Optimizer(const Model& model, const OptimConfig& config);

  // One update with the gradients in model.grads() at learning rate `lr` (the schedule's current value).
  // touched: rows of the row-sparse tensor used by the batch (only read when lazy_sparse).
  void step(Model& model, double lr, std::span<const int32_t> touched = {});
  void step(Model& model) { step(model, config_.lr); }
  // The same update, to be applied by Executor::forward_backward(batch, update) as the step's gradients are
  // summed (results are bit-identical to step(): the update is elementwise). Counts the step now.
  StepUpdate fused_update(Model& model, double lr);

  const OptimConfig& config() const { return config_; }
  int64_t steps() const { return t_; }

  // State for checkpoints: step count and both moment arenas (m is the momentum buffer for sgd).
  std::span<float> m() { return m_.span(); }
  std::span<float> v() { return v_.span(); }
  std::span<const float> m() const { return m_.span(); }
  std::span<const float> v() const { return v_.span(); }
  void set_steps(int64_t t) { t_ = t; }

 private:
  // The update of the arena floats [begin, end) (parameters, gradients and moments share the arena's layout).
  void update_range(Model& model, size_t begin, size_t end, double lr);
  void begin_step();  // counts the step and its bias corrections
  OptimConfig config_;
  AlignedBuffer<float> m_;
  AlignedBuffer<float> v_;
  int64_t t_ = 0;
  struct Fused {
    Optimizer* self = nullptr;
    Model* model = nullptr;
    double lr = 0.0;
  } fused_;
  double bias1_ = 1.0, bias2_ = 1.0;
};

}  // namespace mmoe
