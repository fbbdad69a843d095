// Executor: the batched forward and backward of every architecture, split across threads.
//
// Each thread takes a contiguous slice of the batch and runs the whole network on it with its own
// workspace; its dense-parameter gradients go to a private buffer (with one thread: the model's own), summed
// in thread order afterwards, so results do not depend on timing. Row-sparse tables are not copied per thread:
// after a barrier every thread scatter-adds all rows' gradients for a fixed range of categorical columns, and
// at the start of the step it counts the batch's codes of those columns. A trainer's shuffled batch is copied
// in by the threads too, each its own slice (BatchFill): only the joining of the touched-row lists and of
// the losses runs on one thread.
// A one-hot training step handles only the codes that differ from their column's most frequent one in the
// batch (Impl::lists); the most frequent rows come from sums.
//
// Shapes below: R = rows of this thread's slice, N = bank*h1 + n_gate*bank (fused first layer),
// H = expert_units.back(), T = tasks, G = gates.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/worker_pool.h"
#include "kernels/elementwise.h"
#include "kernels/gate_mix.h"
#include "kernels/linear.h"
#include "kernels/loss.h"
#include "kernels/sparse.h"
#include "mmoe/error.h"
#include "mmoe/model.h"

namespace mmoe {

namespace {

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

// A batch is split only into slices worth a fork, a private-gradient reduction and two barriers (a few
// microseconds): at least kMinMacsPerThread multiply-adds of forward work, and never more than
// kMinRowsPerThread rows needed. The paper config's rows are 14.7k multiply-adds, so 32 rows as before;
// the wide config's 1.1M, so its batch of 32 runs on two threads (2 alternating runs: Shared-Bottom
// 2.5-3.2k -> 4.1-5.0k samples/s, MMoE 6.2-6.4k -> 8.8-9.5k); the census-sized config's 72k, 8 rows.
constexpr size_t kMinRowsPerThread = 32;
constexpr size_t kMinMacsPerThread = size_t{1} << 19;

}  // namespace

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
  size_t min_rows = kMinRowsPerThread; // the fewest rows a slice of a split batch gets
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

Executor::Executor(Model& model, size_t max_batch, int n_threads)
    : model_(model),
      max_batch_(max_batch),
      n_threads_(std::min(n_threads, detail::WorkerPool::kMaxThreads)),
      impl_(std::make_unique<Impl>()) {
  if (n_threads < 1) throw Error(ErrorKind::usage, "the thread count must be >= 1", "threads");
  if (max_batch < 1) throw Error(ErrorKind::usage, "the batch size must be >= 1", "batch_size");
  Impl& m = *impl_;
  const ModelSpec& spec = model.spec();
  m.spec = &model.spec();
  m.bank = spec.bank_size();
  m.n_gate = spec.n_gate();
  m.n_task = spec.n_task();
  m.h1 = spec.expert_units.front();
  m.H = spec.expert_units.back();
  m.N = static_cast<size_t>(m.bank) * m.h1 + static_cast<size_t>(m.n_gate) * m.bank;
  m.din = static_cast<size_t>(spec.gemm_input_width());
  m.n_dense = static_cast<size_t>(spec.n_dense);
  m.n_cat = spec.cat_cardinality.size();
  m.onehot = m.n_cat > 0 && spec.cat_encoding == CatEncoding::onehot;
  m.embedding = m.n_cat > 0 && spec.cat_encoding == CatEncoding::embedding;
  m.dim = m.embedding ? static_cast<size_t>(spec.embedding_dim) : 0;
  m.cat_offsets = model.cat_offsets();
  m.pool = std::make_unique<detail::WorkerPool>(n_threads_);

  m.off.first_w = model.tensor("first.w").offset;
  m.off.first_b = model.tensor("first.b").offset;
  m.off.table = 0;
  if (m.onehot || m.embedding) {
    const ParamTensor& t = model.tensor(m.onehot ? "first.onehot" : "embed.table");
    m.off.table = t.offset;
    m.table_offset = t.offset;
    m.table_width = static_cast<size_t>(t.shape[1]);
    m.count.assign(static_cast<size_t>(spec.total_categories()), 0);
    m.mode_row.assign(m.n_cat, 0);
    m.col_begin.assign(m.n_cat, 0);
    m.col_end.assign(m.n_cat, 0);
    // A thread lists at most min(its table rows, rows x its columns), and those bounds sum to at most this.
    m.parts.resize(std::min<size_t>(m.count.size(), max_batch * m.n_cat));
    m.touched.reserve(m.parts.size());
    m.lists = m.onehot && m.count.size() * m.N * sizeof(float) <= Impl::kMaxDeltaBytes;
    m.stale.reserve(m.touched.capacity());
  }
  const size_t L = spec.expert_units.size();
  m.off.expert_w.assign(L, 0);
  m.off.expert_b.assign(L, 0);
  for (size_t l = 1; l < L; ++l) {
    m.off.expert_w[l] = model.tensor("expert." + std::to_string(l) + ".w").offset;
    m.off.expert_b[l] = model.tensor("expert." + std::to_string(l) + ".b").offset;
  }
  const size_t n_tower = spec.tower_units.size() + 1;
  for (size_t l = 0; l < n_tower; ++l) {
    m.off.tower_w.push_back(model.tensor("tower." + std::to_string(l) + ".w").offset);
    m.off.tower_b.push_back(model.tensor("tower." + std::to_string(l) + ".b").offset);
  }

  // Table gradients are cleared lazily (only the rows the previous batch touched), so start from zero:
  // another Executor may have left rows of its own behind.
  model.zero_grads();

  // Forward multiply-adds of one row: the fused first layer, the deeper expert layers, the towers.
  size_t row_macs = m.din * m.N;
  for (size_t l = 1; l < L; ++l) row_macs += static_cast<size_t>(m.bank) * spec.expert_units[l - 1] * spec.expert_units[l];
  for (size_t l = 0, in = static_cast<size_t>(m.H); l < n_tower; ++l) {
    row_macs += static_cast<size_t>(m.n_task) * in * m.tower_width(l);
    in = m.tower_width(l);
  }
  m.min_rows = std::clamp<size_t>((kMinMacsPerThread + row_macs - 1) / std::max<size_t>(row_macs, 1), 1, kMinRowsPerThread);

  // Workspaces: allocated once, for the largest slice a thread can get.
  // Thread 0's workspace also holds a whole batch too small to split (fewer than 2 x min_rows rows),
  // which then runs on one thread instead of being cut in slices to fit the others' workspaces.
  const size_t small_cap = (max_batch + static_cast<size_t>(n_threads_) - 1) / static_cast<size_t>(n_threads_);
  const size_t cap0 = std::max(small_cap, std::min(max_batch, 2 * m.min_rows - 1));
  // The largest weight matrix that backward transposes: a tower or deeper expert layer, or the embedding rows.
  size_t wt_floats = m.embedding ? m.N * m.n_cat * m.dim : 0;
  for (size_t l = 1; l < L; ++l)
    wt_floats = std::max(wt_floats, static_cast<size_t>(spec.expert_units[l - 1]) * spec.expert_units[l]);
  for (size_t l = 0, in = static_cast<size_t>(m.H); l < n_tower; ++l) {
    const size_t out = m.tower_width(l);
    wt_floats = std::max(wt_floats, in * out);
    in = out;
  }
  m.fused_towers = spec.n_task() > 1;
  for (int k = 1; k < spec.n_task(); ++k) m.fused_towers = m.fused_towers && spec.route(k) == spec.route(0);
  if (m.fused_towers) wt_floats = std::max(wt_floats, static_cast<size_t>(m.H) * m.n_task * m.tower_width(0));
  m.ws.resize(static_cast<size_t>(n_threads_));
  const size_t T = static_cast<size_t>(m.n_task);
  for (size_t t = 0; t < m.ws.size(); ++t) {
    Workspace& w = m.ws[t];
    const size_t cap = t == 0 ? cap0 : small_cap;
    w.cap = cap;
    if (m.embedding) {
      w.xin.resize(cap * m.din);
      w.dxemb.resize(cap * m.n_cat * m.dim);
    }
    w.z.resize(cap * m.N);
    w.dz.resize(cap * m.N);
    w.hid.resize(L);
    w.dhid.resize(L);
    for (size_t l = 1; l < L; ++l) {
      w.hid[l].resize(cap * static_cast<size_t>(m.bank) * spec.expert_units[l]);
      w.dhid[l].resize(cap * static_cast<size_t>(m.bank) * spec.expert_units[l]);
    }
    if (m.n_gate > 0) {
      w.probs.resize(cap * static_cast<size_t>(m.n_gate) * m.bank);
      w.mix.resize(cap * static_cast<size_t>(m.n_gate) * m.H);
      w.dmix.resize(cap * static_cast<size_t>(m.n_gate) * m.H);
    }
    w.tact.resize(spec.tower_units.size());
    w.dtact.resize(spec.tower_units.size());
    for (size_t l = 0; l < spec.tower_units.size(); ++l) {
      w.tact[l].resize(cap * T * spec.tower_units[l]);
      w.dtact[l].resize(cap * T * spec.tower_units[l]);
    }
    w.out.resize(cap * T);
    w.dout.resize(cap * T);
    w.wt.resize(wt_floats);
    if (m.fused_towers) {
      w.wcat.resize(static_cast<size_t>(m.H) * T * m.tower_width(0));
      w.dwcat.resize(w.wcat.size());
    }
    if (m.ws.size() > 1) w.grads.resize(model.dense_floats());
    if (m.lists) {
      w.list_index.resize(cap * m.n_cat);
      w.list_begin.resize(cap + 1);
      w.delta.resize(m.count.size() * m.N);
      w.base.resize(m.N);
      w.table_sum.resize(m.N);
    }
    w.loss.assign(T, 0.0);
    w.norm.assign(T, 0.0);
  }
}

Executor::~Executor() = default;

void Executor::Impl::forward(Workspace& w, const float* params, const BatchView& batch, bool listed) {
  const size_t R = w.rows;
  if (R == 0) return;
  const ModelSpec& s = *spec;
  const float* dense = batch.dense ? batch.dense + w.r0 * n_dense : nullptr;
  const kernels::CatBatch cat{batch.cat ? batch.cat + w.r0 * n_cat : nullptr, R, n_cat, cat_offsets.data()};

  // 1. Fused first layer: all experts' first layers and all gates in one GEMM.
  const float* a = dense;
  size_t lda = n_dense;
  if (embedding) {
    MatrixView xin = view(w.xin, R, din);
    kernels::copy(ConstMatrixView{dense, R, n_dense, n_dense}, xin.block_cols(0, n_dense));
    kernels::embedding_gather(cat, params + off.table, dim, xin.block_cols(n_dense, n_cat * dim));
    a = w.xin.data();
    lda = din;
  }
  // Bias and the experts' ReLU are fused into the GEMM's store; a one-hot input is gathered into z first.
  MatrixView z = view(w.z, R, N);
  const size_t n_expert_cols = static_cast<size_t>(bank) * h1;
  if (onehot && listed) {
    kernels::gather_lists({w.list_index.data(), w.list_begin.data(), R}, w.delta.data(), w.base.data(), z);
  } else if (onehot) {
    kernels::zero(z);
    kernels::onehot_gather_add(cat, params + off.table, z);
  }
  kernels::linear_forward(ConstMatrixView{a, R, din, lda}, params + off.first_w, N, params + off.first_b, n_expert_cols,
                          z, onehot);

  // 2. Deeper expert layers: one small GEMM per expert on its column block.
  for (size_t l = 1; l < s.expert_units.size(); ++l) {
    const size_t in = s.expert_units[l - 1], out = s.expert_units[l];
    const MatrixView prev = l == 1 ? z.block_cols(0, n_expert_cols) : view(w.hid[l - 1], R, bank * in);
    MatrixView cur = view(w.hid[l], R, bank * out);
    for (size_t e = 0; e < static_cast<size_t>(bank); ++e)
      kernels::linear_forward(prev.block_cols(e * in, in), params + off.expert_w[l] + e * in * out, out,
                              params + off.expert_b[l] + e * out, out, cur.block_cols(e * out, out));
  }

  // 3. Gates: softmax and mixture, fused.
  if (n_gate > 0)
    kernels::gate_mix_forward(z.block_cols(n_expert_cols, N - n_expert_cols), expert_out(w), n_gate, bank, H,
                              view(w.probs, R, static_cast<size_t>(n_gate) * bank),
                              view(w.mix, R, static_cast<size_t>(n_gate) * H));

  // 4. Towers.
  const size_t T = static_cast<size_t>(n_task);
  MatrixView out = view(w.out, R, T);
  if (fused_towers) {
    const size_t ow = tower_width(0);
    const bool last = s.tower_units.empty();
    pack_first_tower(w, params);
    kernels::linear_forward(tower_in(w, 0), w.wcat.data(), T * ow, params + off.tower_b[0], last ? 0 : T * ow,
                            last ? out : view(w.tact[0], R, T * ow));
  }
  for (int k = 0; k < n_task; ++k) {
    MatrixView in = tower_in(w, k);
    size_t in_w = static_cast<size_t>(H);
    for (size_t l = 0; l <= s.tower_units.size(); ++l) {
      const size_t ow = tower_width(l);
      const bool last = l == s.tower_units.size();
      MatrixView dst = last ? out.block_cols(static_cast<size_t>(k), 1)
                            : view(w.tact[l], R, T * ow).block_cols(static_cast<size_t>(k) * ow, ow);
      if (l == 0 && fused_towers) {  // done above for every task at once
        in = dst;
        in_w = ow;
        continue;
      }
      kernels::linear_forward(in, params + off.tower_w[l] + k * in_w * ow, ow, params + off.tower_b[l] + k * ow,
                              last ? 0 : ow, dst);
      in = dst;
      in_w = ow;
    }
  }
}

void Executor::Impl::backward(Workspace& w, const float* params, float* grads, const BatchView& batch) {
  const size_t R = w.rows;
  if (R == 0) return;
  const ModelSpec& s = *spec;
  const size_t T = static_cast<size_t>(n_task);
  const size_t n_expert_cols = static_cast<size_t>(bank) * h1;
  MatrixView dz = view(w.dz, R, N);

  // Gradient accumulators for the tower inputs (several tasks may share one). With gates, the towers read
  // the mixtures and gate_mix_backward overwrites the experts' gradient, their last layer's ReLU backward
  // included: that layer's relu_backward below is skipped then.
  if (n_gate > 0) kernels::zero(view(w.dmix, R, static_cast<size_t>(n_gate) * H));
  else kernels::zero(d_expert_out(w));
  const size_t last_expert_layer = s.expert_units.size() - 1;
  auto expert_relu_backward = [&](size_t l, MatrixView d, ConstMatrixView y) {
    if (n_gate == 0 || l != last_expert_layer) kernels::relu_backward(d, y);
  };

  // 1. Towers, last layer first.
  MatrixView dout = view(w.dout, R, T);
  for (int k = 0; k < n_task; ++k) {
    MatrixView d = dout.block_cols(static_cast<size_t>(k), 1);
    for (size_t l = s.tower_units.size() + 1; l-- > (fused_towers ? 1 : 0);) {
      const size_t ow = tower_width(l);
      const size_t iw = l == 0 ? static_cast<size_t>(H) : s.tower_units[l - 1];
      const MatrixView in = l == 0 ? tower_in(w, k)
                                   : view(w.tact[l - 1], R, T * iw).block_cols(static_cast<size_t>(k) * iw, iw);
      kernels::linear_wgrad(in, d, grads + off.tower_w[l] + k * iw * ow, ow, false);
      kernels::col_sum(d, grads + off.tower_b[l] + k * ow, false);
      // Input gradient d W^T, as d (R, ow) times W^T (ow, iw).
      MatrixView wt = view(w.wt, ow, iw);
      kernels::transpose(ConstMatrixView{params + off.tower_w[l] + k * iw * ow, iw, ow, ow}, wt);
      if (l == 0) {
        kernels::linear_nn(d, wt.data, iw, true, d_tower_in(w, k));
      } else {
        MatrixView dprev = view(w.dtact[l - 1], R, T * iw).block_cols(static_cast<size_t>(k) * iw, iw);
        kernels::linear_nn(d, wt.data, iw, false, dprev);
        kernels::relu_backward(dprev, in);
        d = dprev;
      }
    }
  }

  // The fused first tower layer: one weight gradient, bias gradient and input gradient for all tasks.
  if (fused_towers) {
    const size_t ow = tower_width(0), cols = T * ow, Hs = static_cast<size_t>(H);
    const MatrixView d = s.tower_units.empty() ? dout : view(w.dtact[0], R, cols);
    const MatrixView in = tower_in(w, 0);
    MatrixView dwcat = view(w.dwcat, Hs, cols);
    kernels::linear_wgrad(in, d, dwcat.data, cols, false);
    float* gw = grads + off.tower_w[0];
    for (size_t k = 0; k < T; ++k)
      for (size_t i = 0; i < Hs; ++i)
        for (size_t j = 0; j < ow; ++j) gw[(k * Hs + i) * ow + j] = dwcat.data[i * cols + k * ow + j];
    kernels::col_sum(d, grads + off.tower_b[0], false);
    MatrixView wt = view(w.wt, cols, Hs);
    kernels::transpose(ConstMatrixView{w.wcat.data(), Hs, cols, cols}, wt);
    kernels::linear_nn(d, wt.data, Hs, true, d_tower_in(w, 0));
  }

  // 2. Gates and mixture.
  if (n_gate > 0)
    kernels::gate_mix_backward(view(w.dmix, R, static_cast<size_t>(n_gate) * H),
                               view(w.probs, R, static_cast<size_t>(n_gate) * bank), expert_out(w), n_gate, bank, H,
                               dz.block_cols(n_expert_cols, N - n_expert_cols), d_expert_out(w));

  // 3. Deeper expert layers, last first.
  const MatrixView z = view(w.z, R, N);
  for (size_t l = s.expert_units.size(); l-- > 1;) {
    const size_t in = s.expert_units[l - 1], out = s.expert_units[l];
    MatrixView d = view(w.dhid[l], R, bank * out);
    expert_relu_backward(l, d, view(w.hid[l], R, bank * out));
    const MatrixView prev = l == 1 ? z.block_cols(0, n_expert_cols) : view(w.hid[l - 1], R, bank * in);
    MatrixView dprev = l == 1 ? dz.block_cols(0, n_expert_cols) : view(w.dhid[l - 1], R, bank * in);
    MatrixView wt = view(w.wt, out, in);
    for (size_t e = 0; e < static_cast<size_t>(bank); ++e) {
      kernels::linear_wgrad(prev.block_cols(e * in, in), d.block_cols(e * out, out),
                            grads + off.expert_w[l] + e * in * out, out, false);
      kernels::transpose(ConstMatrixView{params + off.expert_w[l] + e * in * out, in, out, out}, wt);
      kernels::linear_nn(d.block_cols(e * out, out), wt.data, in, false, dprev.block_cols(e * in, in));
    }
    kernels::col_sum(d, grads + off.expert_b[l], false);
  }

  // 4. First layer: ReLU mask on the expert block, then the weight gradient of the fused GEMM.
  expert_relu_backward(0, dz.block_cols(0, n_expert_cols), z.block_cols(0, n_expert_cols));
  const float* a = embedding ? w.xin.data() : (batch.dense ? batch.dense + w.r0 * n_dense : nullptr);
  const size_t lda = embedding ? din : n_dense;
  kernels::linear_wgrad(ConstMatrixView{a, R, din, lda}, dz, grads + off.first_w, N, false);
  kernels::col_sum(dz, grads + off.first_b, false);
  if (embedding) {  // gradient w.r.t. the embedded inputs: dz (R, N) x first.w[n_dense:, :]^T
    MatrixView wt = view(w.wt, N, n_cat * dim);
    kernels::transpose(ConstMatrixView{params + off.first_w + n_dense * N, n_cat * dim, N, N}, wt);
    kernels::linear_nn(dz, wt.data, n_cat * dim, false, view(w.dxemb, R, n_cat * dim));
  }
}

// Counts every code of thread t's columns in the batch, checking the codes on the way, and lists the counted
// rows in order into the thread's part of `parts`: a small range of table rows by a scan (cheaper than sorting
// the list: the sort and the per-entry bookkeeping took 30 us of a census step), a large one by a sort. Then
// each column's most frequent row (ties: the lowest). The columns' table rows are disjoint, so the threads
// count without sharing a counter.
void Executor::Impl::count_columns(Workspace& w, size_t t, size_t nt, const BatchView& batch) {
  const size_t B = batch.rows;
  const auto [jb, je] = cat_columns(t, nt);
  const auto [row_begin, row_end] = table_rows(t, nt);
  auto bound = [&](size_t u) {  // the most rows thread u can list
    const auto [cb, ce] = cat_columns(u, nt);
    const auto [rb, re] = table_rows(u, nt);
    return std::min(re - rb, B * (ce - cb));
  };
  w.part_at = 0;
  for (size_t u = 0; u < t; ++u) w.part_at += bound(u);
  w.part_n = 0;
  // Restrict: without it every count reloads the loop's operands.
  const int64_t* __restrict card = spec->cat_cardinality.data();
  const int64_t* __restrict offsets = cat_offsets.data();
  uint32_t* __restrict counts = count.data();
  bool valid = true;
  for (size_t i = 0; i < B && valid; ++i) {
    const int32_t* __restrict codes = batch.cat + i * n_cat;
    for (size_t j = jb; j < je; ++j) {
      const auto code = static_cast<uint64_t>(static_cast<int64_t>(codes[j]));  // negative: huge
      valid = valid && code < static_cast<uint64_t>(card[j]);
      ++counts[valid ? static_cast<size_t>(offsets[j]) + code : row_begin];  // this thread's first row stands in
    }
  }
  w.codes_valid = valid;
  if (!valid) {  // as it was: the executor stays usable
    std::fill(count.begin() + static_cast<ptrdiff_t>(row_begin), count.begin() + static_cast<ptrdiff_t>(row_end), 0u);
    return;
  }
  int32_t* const part = parts.data() + w.part_at;
  size_t n = 0;
  if (row_end - row_begin <= 4 * B * (je - jb)) {
    for (size_t r = row_begin; r < row_end; ++r)
      if (count[r]) part[n++] = static_cast<int32_t>(r);
  } else {
    constexpr uint32_t kListed = 1u << 31;  // above any count (a batch has fewer rows)
    for (size_t i = 0; i < B; ++i)
      for (size_t j = jb; j < je; ++j) {
        const size_t r = static_cast<size_t>(cat_offsets[j] + batch.cat[i * n_cat + j]);
        if (!(count[r] & kListed)) {
          count[r] |= kListed;
          part[n++] = static_cast<int32_t>(r);
        }
      }
    std::sort(part, part + n);
    for (size_t k = 0; k < n; ++k) count[static_cast<size_t>(part[k])] &= ~kListed;
  }
  w.part_n = n;
  size_t k = 0;
  for (size_t j = jb; j < je; ++j) {
    col_begin[j] = static_cast<uint32_t>(w.part_at + k);
    const auto end = j + 1 < n_cat ? cat_offsets[j + 1] : static_cast<int64_t>(count.size());
    uint32_t best = 0;
    for (; k < n && part[k] < end; ++k) {
      const auto r = static_cast<size_t>(part[k]);
      if (count[r] > best) {
        best = count[r];
        mode_row[j] = part[k];
      }
      count[r] = 0;
    }
    col_end[j] = static_cast<uint32_t>(w.part_at + k);
  }
}

void Executor::Impl::prepare_lists(Workspace& w, const float* params, const BatchView& batch) const {
  const float* table = params + off.table;
  float* __restrict base = w.base.data();
  std::fill(base, base + N, 0.0f);
  for (size_t j = 0; j < n_cat; ++j) {
    const float* __restrict mode = table + static_cast<size_t>(mode_row[j]) * N;
    for (size_t c = 0; c < N; ++c) base[c] += mode[c];
    for (uint32_t k = col_begin[j]; k < col_end[j]; ++k) {
      if (parts[k] == mode_row[j]) continue;
      const float* __restrict row = table + static_cast<size_t>(parts[k]) * N;
      float* __restrict d = w.delta.data() + static_cast<size_t>(parts[k]) * N;
      for (size_t c = 0; c < N; ++c) d[c] = row[c] - mode[c];
    }
  }
  int32_t* __restrict index = w.list_index.data();
  uint32_t n = 0;
  for (size_t i = 0; i < w.rows; ++i) {
    w.list_begin[i] = n;
    const int32_t* codes = batch.cat + (w.r0 + i) * n_cat;
    for (size_t j = 0; j < n_cat; ++j) {
      const auto r = static_cast<int32_t>(cat_offsets[j] + codes[j]);
      index[n] = r;
      n += r != mode_row[j];  // branch-free: 35-65% of the codes are listed, in no pattern
    }
  }
  w.list_begin[w.rows] = n;
}

void Executor::Impl::scatter_listed(size_t t, size_t nt, float* grads) {
  float* table_grad = grads + off.table;
  const auto [row_begin, row_end] = table_rows(t, nt);
  for (size_t u = 0; u < nt; ++u) {
    const Workspace& src = ws[u];
    if (src.rows == 0) continue;
    kernels::scatter_lists({src.list_index.data(), src.list_begin.data(), src.rows},
                           ConstMatrixView{src.dz.data(), src.rows, N, N}, table_grad, static_cast<int32_t>(row_begin),
                           static_cast<int32_t>(row_end));
  }
  // Every row has one code per column, so a column's table gradient sums to the batch's sum of dz (the fused
  // first layer's bias gradient: the threads' parts added in thread order, as the reduction adds them).
  float* __restrict total = ws[t].table_sum.data();
  const float* own = nt == 1 ? grads + off.first_b : ws[0].grads.data() + off.first_b;
  std::copy(own, own + N, total);
  for (size_t u = 1; u < nt; ++u) {
    const float* __restrict part = ws[u].grads.data() + off.first_b;
    for (size_t c = 0; c < N; ++c) total[c] += part[c];
  }
  const auto [jb, je] = cat_columns(t, nt);
  for (size_t j = jb; j < je; ++j) {
    float* __restrict mode = table_grad + static_cast<size_t>(mode_row[j]) * N;
    std::copy(total, total + N, mode);
    for (uint32_t k = col_begin[j]; k < col_end[j]; ++k) {
      if (parts[k] == mode_row[j]) continue;
      const float* __restrict g = table_grad + static_cast<size_t>(parts[k]) * N;
      for (size_t c = 0; c < N; ++c) mode[c] -= g[c];
    }
  }
}

// Thread t's share of a fused update: the dense floats whose gradients it summed, and the table rows of its
// categorical columns (whose gradients it scattered). Applied only when every thread's losses and gradients
// are finite, which needs one more barrier.
void Executor::fused_update(Impl& m, const StepUpdate& update, size_t t, size_t nt, size_t dense_floats) {
  const float* grads = model_.grads().data();
  Workspace& w = m.ws[t];
  const size_t dbegin = dense_floats * t / nt, dend = dense_floats * (t + 1) / nt;
  const auto [row_begin, row_end] = m.table_rows(t, nt);
  const int32_t* const first_touched = m.parts.data() + w.part_at;  // this thread's rows (count_columns)
  const int32_t* const last_touched = first_touched + w.part_n;
  // Untouched table rows have zero gradients (cleared when last touched), so the touched ones are all to check.
  w.finite = kernels::all_finite(grads + dbegin, dend - dbegin);
  for (auto r = first_touched; w.finite && r != last_touched; ++r)
    w.finite = kernels::all_finite(grads + m.table_offset + static_cast<size_t>(*r) * m.table_width, m.table_width);
  for (double l : w.loss) w.finite = w.finite && std::isfinite(l);
  if (nt > 1) m.pool->barrier();
  bool all = true;
  for (size_t u = 0; u < nt; ++u) all = all && m.ws[u].finite;
  if (t == 0) m.update_applied = all;
  if (!all) return;
  update.update(update.ctx, dbegin, dend);
  if (row_end == row_begin) return;
  if (!update.lazy_sparse) {
    update.update(update.ctx, m.table_offset + row_begin * m.table_width, m.table_offset + row_end * m.table_width);
    return;
  }
  for (auto r = first_touched; r != last_touched; ++r) {
    const size_t at = m.table_offset + static_cast<size_t>(*r) * m.table_width;
    update.update(update.ctx, at, at + m.table_width);
  }
}

const LossReport& Executor::forward_backward(const BatchView& batch) { return step(batch, nullptr, nullptr); }

const LossReport& Executor::forward_backward(const BatchView& batch, const StepUpdate& update) {
  return step(batch, &update, nullptr);
}

const LossReport& Executor::forward_backward(const BatchView& batch, const BatchFill& fill) {
  return step(batch, nullptr, &fill);
}

const LossReport& Executor::forward_backward(const BatchView& batch, const StepUpdate& update, const BatchFill& fill) {
  return step(batch, &update, &fill);
}

bool Executor::last_update_applied() const { return impl_->update_applied; }

const LossReport& Executor::step(const BatchView& batch, const StepUpdate* update, const BatchFill* fill) {
  Impl& m = *impl_;
  m.update_applied = false;
  MMOE_CHECK(batch.rows <= max_batch_, "batch larger than the executor's max_batch");
  MMOE_CHECK(batch.labels != nullptr, "forward_backward needs labels");
  const size_t T = static_cast<size_t>(m.n_task);
  const size_t B = batch.rows;
  const ModelSpec& s = *m.spec;

  // Rows of the sparse table this batch touches: the optimizer may update only them. The rows the batch
  // before touched (now `stale`) are cleared inside the step, each by the thread that owns it.
  const bool sparse = m.onehot || m.embedding;
  if (sparse) std::swap(m.touched, m.stale);

  float* params = model_.params().data();
  float* grads = model_.grads().data();
  const size_t dense_floats = model_.dense_floats();
  const int nt = m.threads_for(B);
  for (size_t t = static_cast<size_t>(nt); t < m.ws.size(); ++t) {
    m.ws[t].rows = 0;
    std::fill(m.ws[t].loss.begin(), m.ws[t].loss.end(), 0.0);
  }
  auto slice = [&](size_t t) {
    Workspace& w = m.ws[t];
    w.r0 = B * t / static_cast<size_t>(nt);
    w.rows = B * (t + 1) / static_cast<size_t>(nt) - w.r0;
    // Each thread copies its own slice of a shuffled batch in (its rows' cache misses overlap the other's);
    // the label mass and the code counts below read every row.
    if (fill) {
      fill->fill(fill->ctx, w.r0, w.r0 + w.rows);
      if (nt > 1) m.pool->barrier();
    }
    for (size_t k = 0; k < T; ++k) w.norm[k] = kernels::label_mass(batch.labels + k, batch.weights, B, T);
    if (sparse) {
      m.count_columns(w, t, static_cast<size_t>(nt), batch);
      if (nt > 1) m.pool->barrier();
      for (size_t u = 0; u < static_cast<size_t>(nt); ++u)
        if (!m.ws[u].codes_valid) return;  // every thread sees the same flags: none goes on to a barrier
    }
    // With several threads every thread, thread 0 too, backpropagates into its own buffer: the model's
    // gradients are written only by the reduction below, each half by one thread, so no thread's backward
    // writes cache lines the other core wrote last (thread 0 writing into the model's arena directly kept
    // the 2-thread step 10-20% slower on Zen 3). The sum g0 + g1 + ... is the same as before.
    float* g = nt == 1 ? grads : w.grads.data();
    // The backward writes every dense gradient once (its GEMMs and column sums overwrite), so the buffer needs
    // no clearing first (the memset was 2% of a 2-thread batch-256 step); an empty batch writes nothing.
    if (w.rows == 0) std::memset(g, 0, dense_floats * sizeof(float));
    if (m.lists) m.prepare_lists(w, params, batch);
    m.forward(w, params, batch, m.lists);
    // Loss and its gradient, normalised by the whole batch's label mass.
    for (size_t k = 0; k < T; ++k) {
      kernels::TaskColumn col{w.out.data() + k, batch.labels + w.r0 * T + k, batch.weights ? batch.weights + w.r0 : nullptr,
                              w.dout.data() + k, w.rows, T, T};
      const float scale = w.norm[k] > 0.0 ? static_cast<float>(s.tasks[k].loss_weight / w.norm[k]) : 0.0f;
      w.loss[k] = s.tasks[k].kind == TaskKind::binary ? kernels::bce_logits_loss(col, scale)
                                                      : kernels::squared_error_loss(col, scale);
    }
    m.backward(w, params, g, batch);
    if (nt > 1) m.pool->barrier();
    // Sum private gradients into the model's, in thread order; each thread owns a range of the arena.
    if (nt > 1) {
      const size_t begin = dense_floats * t / static_cast<size_t>(nt), end = dense_floats * (t + 1) / static_cast<size_t>(nt);
      std::memcpy(grads + begin, m.ws[0].grads.data() + begin, (end - begin) * sizeof(float));
      for (size_t u = 1; u < static_cast<size_t>(nt); ++u) {
        const float* src = m.ws[u].grads.data();
        for (size_t i = begin; i < end; ++i) grads[i] += src[i];
      }
    }
    // Sparse table gradients: every thread walks all rows (in order) for its own range of categorical columns
    // (different columns select different table rows, so the ranges never touch the same element).
    if (sparse) {
      float* table_grad = grads + m.table_offset;
      const auto [first_stale, last_stale] = Impl::in_range(m.stale, m.table_rows(t, static_cast<size_t>(nt)));
      for (const int32_t* r = first_stale; r != last_stale; ++r)
        std::memset(table_grad + static_cast<size_t>(*r) * m.table_width, 0, m.table_width * sizeof(float));
      if (m.lists) {
        m.scatter_listed(t, static_cast<size_t>(nt), grads);
      } else {
        const auto [begin, end] = m.cat_columns(t, static_cast<size_t>(nt));
        for (size_t u = 0; u < static_cast<size_t>(nt); ++u) {
          const Workspace& src = m.ws[u];
          if (src.rows == 0) continue;
          const kernels::CatBatch cat{batch.cat + src.r0 * m.n_cat, src.rows, m.n_cat, m.cat_offsets.data()};
          if (m.onehot) {
            kernels::onehot_scatter_add(cat, ConstMatrixView{src.dz.data(), src.rows, m.N, m.N}, table_grad, begin, end);
          } else {
            kernels::embedding_scatter_add(cat, ConstMatrixView{src.dxemb.data(), src.rows, m.n_cat * m.dim, m.n_cat * m.dim},
                                           table_grad, m.dim, begin, end);
          }
        }
      }
    }
    if (update) fused_update(m, *update, t, static_cast<size_t>(nt), dense_floats);
  };
  m.pool->run(nt, slice);

  if (sparse) {
    bool valid = true;
    for (size_t t = 0; t < static_cast<size_t>(nt); ++t) {
      valid = valid && m.ws[t].codes_valid;
      m.ws[t].codes_valid = true;
    }
    if (!valid) std::swap(m.touched, m.stale);  // nothing was cleared or written
    MMOE_CHECK(valid, "categorical code out of range");
    m.touched.clear();  // capacity reserved for every part: no allocation
    for (size_t t = 0; t < static_cast<size_t>(nt); ++t) {
      const int32_t* part = m.parts.data() + m.ws[t].part_at;
      m.touched.insert(m.touched.end(), part, part + m.ws[t].part_n);
    }
  }

  const std::vector<double>& norm = m.ws[0].norm;
  loss_.per_task.assign(T, 0.0);
  loss_.total = 0.0;
  for (size_t k = 0; k < T; ++k) {
    double sum = 0.0;
    for (const Workspace& w : m.ws) sum += w.loss[k];
    loss_.per_task[k] = norm[k] > 0.0 ? sum / norm[k] : 0.0;
    loss_.total += s.tasks[k].loss_weight * loss_.per_task[k];
  }
  return loss_;
}

void Executor::predict(const BatchView& batch, float* out) {
  Impl& m = *impl_;
  MMOE_CHECK(batch.rows <= max_batch_, "batch larger than the executor's max_batch");
  const size_t B = batch.rows;
  const size_t T = static_cast<size_t>(m.n_task);
  const float* params = model_.params().data();
  // The training step's rule: a wide model splits even a few rows, the paper's model below 64 rows stays on one
  // thread (a hand-off costs more than the work: the latency of batch-1 inference).
  const int nt = m.threads_for(B);
  for (size_t t = static_cast<size_t>(nt); t < m.ws.size(); ++t) m.ws[t].rows = 0;
  auto slice = [&](size_t t) {
    Workspace& w = m.ws[t];
    w.r0 = B * t / static_cast<size_t>(nt);
    w.rows = B * (t + 1) / static_cast<size_t>(nt) - w.r0;
    m.forward(w, params, batch);
    for (size_t i = 0; i < w.rows; ++i)
      for (size_t k = 0; k < T; ++k) {
        const float o = w.out[i * T + k];
        out[(w.r0 + i) * T + k] = m.spec->tasks[k].kind == TaskKind::binary ? 1.0f / (1.0f + std::exp(-o)) : o;
      }
  };
  m.pool->run(nt, slice);
}

void Executor::last_outputs(float* out) const {
  const size_t T = static_cast<size_t>(impl_->n_task);
  for (const Workspace& w : impl_->ws)
    if (w.rows) std::memcpy(out + w.r0 * T, w.out.data(), w.rows * T * sizeof(float));
}

void Executor::last_gates(float* out) const {
  const size_t width = static_cast<size_t>(impl_->n_gate) * impl_->bank;
  if (width == 0) return;
  for (const Workspace& w : impl_->ws)
    if (w.rows) std::memcpy(out + w.r0 * width, w.probs.data(), w.rows * width * sizeof(float));
}

const std::vector<int32_t>& Executor::touched_rows() const { return impl_->touched; }

}  // namespace mmoe
