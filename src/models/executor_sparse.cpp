// The sparse bookkeeping of a training step (one-hot or embedded categorical inputs): each thread counts the
// batch's codes of its own categorical columns, lists the table rows they touch and each column's most
// frequent row; a one-hot step's per-row lists of the other codes, and the table gradients scattered from them.
#include <algorithm>
#include <cstring>

#include "kernels/sparse.h"
#include "models/executor_impl.h"

namespace mmoe {

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

}  // namespace mmoe
