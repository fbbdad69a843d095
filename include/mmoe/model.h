// mmoe/model.h: a model's parameters and the batched forward/backward that trains and runs it.
//
// A Model owns one flat parameter arena and one gradient arena of the same layout; every named tensor is
// a view into them (llm.c style), so the optimizer is one loop, saving is one copy and nothing allocates
// during training. An Executor owns the per-thread activation workspaces and splits each batch across
// threads with a fixed reduction order: the same seed and thread count give bit-identical results.
//
//   mmoe::Model model(spec);
//   model.init(seed);
//   mmoe::Executor exec(model, /*max_batch=*/256, /*n_threads=*/2);
//   double loss = exec.forward_backward(batch);   // fills model.grads()
//   optimizer.step(model);                         // see mmoe/optim.h
//   exec.predict(batch, out);                      // (rows, n_task): probability or value
//
// Parameter tensors, all row-major (N = bank * expert_units[0] + n_gate * bank is the fused first layer):
//   first.w       (gemm_input_width, N)   columns [e*h1, (e+1)*h1) = expert e's first layer,
//                                         columns [bank*h1 + g*bank, ...) = gate g's logits
//   first.b       (N)
//   first.onehot  (total_categories, N)   onehot encoding: row (offset_j + code) is column j's weight row
//   embed.table   (total_categories, embedding_dim)    embedding encoding
//   expert.L.w    (bank, expert_units[L-1], expert_units[L])   L = 1 .. size-1
//   expert.L.b    (bank, expert_units[L])
//   tower.L.w     (n_task, in, out)       L = 0 .. tower_units.size(); in of L=0 is expert_units.back(),
//   tower.L.b     (n_task, out)           out of the last is 1
// The dense input of first.w is [x_dense, emb(col 0), emb(col 1), ...] for the embedding encoding.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "mmoe/spec.h"
#include "mmoe/tensor.h"

namespace mmoe {

struct ParamTensor {
  std::string name;
  std::vector<int64_t> shape;
  size_t offset = 0;  // into the arena, in floats (64-byte aligned)
  size_t size = 0;    // product of shape
  // Row-sparse tensors (first.onehot, embed.table): a batch touches only the rows of its codes; the
  // optimizer may update just those rows.
  bool row_sparse = false;
  int64_t fan_in = 0;  // for initialisation
};

class Model {
 public:
  explicit Model(const ModelSpec& spec);

  const ModelSpec& spec() const { return spec_; }
  const std::vector<ParamTensor>& tensors() const { return tensors_; }
  const ParamTensor& tensor(const std::string& name) const;  // throws internal if absent
  bool has_tensor(const std::string& name) const;

  std::span<float> params() { return params_.span(); }
  std::span<const float> params() const { return params_.span(); }
  std::span<float> grads() { return grads_.span(); }
  std::span<const float> grads() const { return grads_.span(); }
  std::span<float> param(const std::string& name);
  std::span<const float> param(const std::string& name) const;
  std::span<float> grad(const std::string& name);

  size_t n_params() const;          // trainable parameters (without alignment padding)
  size_t arena_size() const { return params_.size(); }
  // The dense (non-row-sparse) tensors occupy arena floats [0, dense_floats()); row-sparse tables follow.
  size_t dense_floats() const { return dense_floats_; }
  std::vector<int64_t> cat_offsets() const;  // start row of each categorical column in the tables

  // Draws all parameters from `seed` according to spec().init.
  void init(uint64_t seed);
  void zero_grads() { grads_.zero(); }

 private:
  ModelSpec spec_;
  std::vector<ParamTensor> tensors_;
  AlignedBuffer<float> params_;
  AlignedBuffer<float> grads_;
  size_t dense_floats_ = 0;
};

// One batch of rows, in Dataset layout (see mmoe/dataset.h). labels/weights may be null for inference.
struct BatchView {
  size_t rows = 0;
  const float* dense = nullptr;    // (rows, n_dense)
  const int32_t* cat = nullptr;    // (rows, n_cat)
  const float* labels = nullptr;   // (rows, n_task), NaN = missing
  const float* weights = nullptr;  // (rows) or null = 1
};

// Per-task loss of the last forward_backward.
struct LossReport {
  double total = 0.0;            // sum_k loss_weight_k * task_loss_k
  std::vector<double> per_task;  // weighted mean over the labelled rows; 0 when a task has none
};

struct GateStats;  // mmoe/metrics.h

// An optimizer update fused into Executor::forward_backward: right after a thread has summed the gradients of
// its share of the parameters, it applies `update` to them while they are still in its cache (a separate,
// serial update after the step was measured at 16 us against 4 us on one thread, paper config, batch 256: the
// other core's half of the gradients and parameters had to come across first). Optimizer::fused_update makes
// one.
struct StepUpdate {
  void* ctx = nullptr;
  void (*update)(void* ctx, size_t begin, size_t end) = nullptr;  // arena floats [begin, end)
  bool lazy_sparse = false;  // row-sparse tables: only the rows the batch touched (else every row)
};

// A batch that the step's own threads copy into place before they read it: fill(ctx, begin, end) writes rows
// [begin, end) of the BatchView passed with it, each thread its own slice. Staging a shuffled batch is a cache
// miss per row, serial before the step it was a fifth of a 2-thread census step. The trainer's stager makes one.
struct BatchFill {
  void* ctx = nullptr;
  void (*fill)(void* ctx, size_t begin, size_t end) = nullptr;
};

class Executor {
 public:
  Executor(Model& model, size_t max_batch, int n_threads);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Forward, loss and backward over the batch; overwrites model.grads(). The loss of task k is the
  // weighted mean over rows with a label for k (PyTorch's BCEWithLogitsLoss / MSELoss with reduction mean).
  const LossReport& forward_backward(const BatchView& batch);
  // The same, then the update applied to every parameter, split across the threads: only when every loss and
  // every gradient of the batch is finite (else nothing is updated: see last_update_applied()). Gradients are
  // left in model.grads() either way.
  const LossReport& forward_backward(const BatchView& batch, const StepUpdate& update);
  // Either of the above on a batch that `fill` writes first (the view's rows are read only after it).
  const LossReport& forward_backward(const BatchView& batch, const BatchFill& fill);
  const LossReport& forward_backward(const BatchView& batch, const StepUpdate& update, const BatchFill& fill);
  bool last_update_applied() const;
  // out: (rows, n_task), sigmoid probabilities for binary tasks, values for regression tasks.
  void predict(const BatchView& batch, float* out);
  // Raw outputs of the last forward_backward or predict: (rows, n_task) logits / values.
  void last_outputs(float* out) const;
  // Gate probabilities of the last predict/forward: (rows, n_gate * bank). Empty for gate-less models.
  void last_gates(float* out) const;

  int n_threads() const { return n_threads_; }
  size_t max_batch() const { return max_batch_; }
  // Rows of the row-sparse table (first.onehot or embed.table; a model has at most one) that the last
  // forward_backward touched: sorted, unique.
  const std::vector<int32_t>& touched_rows() const;

  struct Impl;

 private:
  const LossReport& step(const BatchView& batch, const StepUpdate* update, const BatchFill* fill);
  void fused_update(Impl& m, const StepUpdate& update, size_t t, size_t nt, size_t dense_floats);
  Model& model_;
  size_t max_batch_;
  int n_threads_;
  std::unique_ptr<Impl> impl_;
  LossReport loss_;
};

}  // namespace mmoe
