// The executor's private parts, shared by its three translation units: a thread's workspace and
// Executor::Impl (shapes, parameter offsets, the worker pool, the sparse bookkeeping). executor.cpp runs the
// step and prediction (the split over threads, the reduction, the fused update), executor_passes.cpp the
// forward and backward of one thread's slice, executor_sparse.cpp the one-hot / embedding bookkeeping.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "core/worker_pool.h"
#include "kernels/elementwise.h"
#include "kernels/linear.h"
#include "mmoe/model.h"

namespace mmoe {

namespace detail {

struct Workspace {
  size_t cap = 0;                          // rows this workspace can hold
  size_t r0 = 0, rows = 0;                 // this thread's slice of the current batch
  AlignedBuffer<float> xin;                // (cap, Din) embedding encoding only: [x_dense, emb...]
  AlignedBuffer<float> z;                  // (cap, N): expert part after ReLU, gate part = logits
  std::vector<AlignedBuffer<float>> hid;   // hid[l] (cap, bank*units[l]), l >= 1
  AlignedBuffer<float> probs;              // (cap, G*bank)
  AlignedBuffer<float> mix;                // (cap, G*H)
  std::vector<AlignedBuffer<float>> tact;  // tact[l] (cap, T*tower_units[l])
  AlignedBuffer<float> out;                // (cap, T) logits / values
  AlignedBuffer<float> dout;               // (cap, T)
  std::vector<AlignedBuffer<float>> dtact; // like tact
  AlignedBuffer<float> dmix;               // (cap, G*H)
  std::vector<AlignedBuffer<float>> dhid;  // like hid
  AlignedBuffer<float> dz;                 // (cap, N)
  AlignedBuffer<float> dxemb;              // (cap, n_cat*dim) embedding encoding only
  AlignedBuffer<float> wt;                 // one weight matrix transposed, for an input-gradient GEMM
  AlignedBuffer<float> wcat, dwcat;        // (H, T*ow0) every task's first tower layer side by side (fused)
  AlignedBuffer<float> grads;              // (dense_floats) private gradients, when the executor has >1 thread
  // One-hot training steps (Impl::lists): this slice's codes that differ from their column's most frequent
  // one, as table rows; the table rows minus their column's most frequent row; and the sum of those rows.
  std::vector<int32_t> list_index;         // (cap * n_cat)
  std::vector<uint32_t> list_begin;        // (cap + 1)
  AlignedBuffer<float> delta;              // (categories, N), rows of the batch's listed codes only
  AlignedBuffer<float> base;               // (N)
  AlignedBuffer<float> table_sum;          // (N) the batch's sum of dz: the whole table gradient of a column
  std::vector<double> loss;                // (T) unnormalised loss sums of the slice
  std::vector<double> norm;                // (T) label mass of the whole batch (every thread computes it)
  size_t part_at = 0, part_n = 0;          // this thread's touched table rows: Impl::parts[part_at, +part_n)
  bool codes_valid = true;                 // every code of this thread's categorical columns is in range
  bool finite = true;                      // fused update: this thread's losses and gradients are finite
};

}  // namespace detail

using detail::Workspace;


struct Executor::Impl {
  const ModelSpec* spec = nullptr;
  int bank = 0, n_gate = 0, n_task = 0, h1 = 0, H = 0;
  size_t N = 0, din = 0, n_dense = 0, n_cat = 0, dim = 0;
  bool onehot = false, embedding = false;
  std::vector<int64_t> cat_offsets;
  std::vector<Workspace> ws;
  std::unique_ptr<detail::WorkerPool> pool;  // the batch split's threads, started once
  std::vector<int32_t> touched;        // rows of the sparse table touched by the last batch
  std::vector<int32_t> stale;          // the batch before's: their gradients are cleared during this step
  // The touched rows as the threads list them, each its own categorical columns' (Workspace::part_at), then
  // joined into `touched` after the step: sorted within a thread's part, and the parts in thread order.
  std::vector<int32_t> parts;
  std::vector<uint32_t> count;         // (categories) codes counted while the touched list is built; all 0 between
  std::vector<int32_t> mode_row;       // (n_cat) each column's most frequent table row in the batch
  std::vector<uint32_t> col_begin, col_end;  // (n_cat) each column's touched rows: parts[col_begin[j], col_end[j])
  // One-hot training steps add, per row, only the codes that differ from their column's most frequent one
  // (census: 65% of the codes are) to the sum of the most frequent rows, as differences to those rows; the
  // most frequent rows' gradients are the batch's sum of dz less the column's other rows'. A table too large
  // for a per-thread copy of the differences (kMaxDeltaBytes) keeps the plain gather.
  bool lists = false;
  static constexpr size_t kMaxDeltaBytes = size_t{32} << 20;
  bool update_applied = false;         // the last fused update was applied (everything was finite)
  size_t min_rows = 1;                 // the fewest rows a slice of a split batch gets (set by the constructor)
  size_t table_offset = 0, table_width = 0;

  // Parameter pointers (into model params / a gradient buffer) by offset.
  struct Offsets {
    size_t first_w, first_b, table;
    std::vector<size_t> expert_w, expert_b;  // index l (0 unused)
    std::vector<size_t> tower_w, tower_b;
  } off;

  // Thread t's share of the sparse bookkeeping: counts the batch's codes of its categorical columns (checking
  // them), lists the rows they touch into its part of `parts`, and finds each column's most frequent row.
  void count_columns(Workspace& w, size_t t, size_t nt, const BatchView& batch);
  // Threads for a batch of B rows. Below min_rows rows a slice, the fork (and in training the reduction and
  // the barriers) costs more than the split saves: such batches use fewer threads (a choice fixed by the
  // shapes, so still deterministic). Workspaces after the first hold ceil(max_batch / threads) rows.
  int threads_for(size_t B) const {
    size_t n = std::clamp<size_t>(B / min_rows, 1, ws.size());
    while (n > 1 && (B + n - 1) / n > ws.back().cap) ++n;
    return static_cast<int>(n);
  }
  // Thread t's categorical columns [begin, end).
  std::pair<size_t, size_t> cat_columns(size_t t, size_t nt) const { return {n_cat * t / nt, n_cat * (t + 1) / nt}; }
  // Table rows [begin, end) of thread t's categorical columns: the rows only it scatters into and updates
  // ({0, 0} without a table).
  std::pair<size_t, size_t> table_rows(size_t t, size_t nt) const {
    const auto [jb, je] = cat_columns(t, nt);
    const size_t rows = count.size();
    return {jb < n_cat ? static_cast<size_t>(cat_offsets[jb]) : rows, je < n_cat ? static_cast<size_t>(cat_offsets[je]) : rows};
  }
  // The entries of a sorted row list that fall in [rows.first, rows.second).
  static std::pair<const int32_t*, const int32_t*> in_range(const std::vector<int32_t>& list, std::pair<size_t, size_t> rows) {
    const int32_t* first = std::lower_bound(list.data(), list.data() + list.size(), static_cast<int32_t>(rows.first));
    return {first, std::lower_bound(first, list.data() + list.size(), static_cast<int32_t>(rows.second))};
  }
  // Thread-local part of a listed step: its rows' lists, the differences and their base.
  void prepare_lists(Workspace& w, const float* params, const BatchView& batch) const;
  // Table gradients of thread t's columns from every thread's lists, then of each column's most frequent row.
  void scatter_listed(size_t t, size_t nt, float* grads);
  void forward(Workspace& w, const float* params, const BatchView& batch, bool listed = false);
  // Writes (does not add to) every dense gradient in `grads`; the sparse table's are left to the scatter.
  void backward(Workspace& w, const float* params, float* grads, const BatchView& batch);

  MatrixView view(AlignedBuffer<float>& buf, size_t rows, size_t cols) const { return {buf.data(), rows, cols, cols}; }
  // Expert outputs (R, bank*H): the first layer's expert block, or the last deeper layer.
  MatrixView expert_out(Workspace& w) {
    if (spec->expert_units.size() == 1) return MatrixView{w.z.data(), w.rows, static_cast<size_t>(bank) * H, N};
    return view(w.hid.back(), w.rows, static_cast<size_t>(bank) * H);
  }
  MatrixView d_expert_out(Workspace& w) {
    if (spec->expert_units.size() == 1) return MatrixView{w.dz.data(), w.rows, static_cast<size_t>(bank) * H, N};
    return view(w.dhid.back(), w.rows, static_cast<size_t>(bank) * H);
  }
  // Task k's tower input (R, H): its gate's mixture, or its routed expert's output.
  MatrixView tower_in(Workspace& w, int k) {
    const size_t r = static_cast<size_t>(spec->route(k)) * H;
    if (n_gate > 0) return view(w.mix, w.rows, static_cast<size_t>(n_gate) * H).block_cols(r, H);
    return expert_out(w).block_cols(r, H);
  }
  MatrixView d_tower_in(Workspace& w, int k) {
    const size_t r = static_cast<size_t>(spec->route(k)) * H;
    if (n_gate > 0) return view(w.dmix, w.rows, static_cast<size_t>(n_gate) * H).block_cols(r, H);
    return d_expert_out(w).block_cols(r, H);
  }
  size_t tower_width(size_t l) const { return l < spec->tower_units.size() ? spec->tower_units[l] : 1; }

  // Shared-Bottom and OMoE feed every tower the same input, so the towers' first layers run as one GEMM
  // over all tasks (T*ow0 output columns instead of T GEMMs of ow0 = 8: a 16-float zmm half empty, measured at
  // 35% of a Shared-Bottom step), with the tasks' weights packed side by side once per step.
  bool fused_towers = false;
  // wcat (H, T*ow0) <- tower.0.w (T, H, ow0).
  void pack_first_tower(Workspace& w, const float* params) const {
    const size_t T = static_cast<size_t>(n_task), ow = tower_width(0), Hs = static_cast<size_t>(H);
    const MatrixView wcat{w.wcat.data(), Hs, T * ow, T * ow};
    for (size_t k = 0; k < T; ++k)
      kernels::copy(ConstMatrixView{params + off.tower_w[0] + k * Hs * ow, Hs, ow, ow}, wcat.block_cols(k * ow, ow));
  }
};

}  // namespace mmoe
