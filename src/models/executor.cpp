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

#include "kernels/elementwise.h"
#include "kernels/loss.h"
#include "kernels/sparse.h"
#include "mmoe/error.h"
#include "models/executor_impl.h"

namespace mmoe {

namespace {

// A batch is split only into slices worth a fork, a private-gradient reduction and two barriers (a few
// microseconds): at least kMinMacsPerThread multiply-adds of forward work, and never more than
// kMinRowsPerThread rows needed. The paper config's rows are 14.7k multiply-adds, so 32 rows as before;
// the wide config's 1.1M, so its batch of 32 runs on two threads (2 alternating runs: Shared-Bottom
// 2.5-3.2k -> 4.1-5.0k samples/s, MMoE 6.2-6.4k -> 8.8-9.5k); the census-sized config's 72k, 8 rows.
constexpr size_t kMinRowsPerThread = 32;
constexpr size_t kMinMacsPerThread = size_t{1} << 19;

}  // namespace

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
