#include "train/batch_stager.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "mmoe/error.h"

namespace mmoe::detail {

namespace {

constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kPrefetchAhead = 16;  // rows whose misses are in flight while one is copied

void prefetch(const void* p, size_t bytes) {
  const char* c = static_cast<const char*>(p);
  for (size_t at = 0; at < bytes; at += 64) __builtin_prefetch(c + at);
  if (bytes) __builtin_prefetch(c + bytes - 1);  // the last line, when the range straddles one more
}

// memcpy of n 4-byte words; none is a no-op even where an empty vector's data() is null.
void copy_words(void* dst, const void* src, size_t n) {
  if (n) std::memcpy(dst, src, n * sizeof(uint32_t));
}

}  // namespace

void BatchStager::FreeDeleter::operator()(void* p) const { std::free(p); }

BatchStager::BatchStager(const Dataset& data, size_t max_rows, size_t max_packed_bytes)
    : data_(data), max_rows_(max_rows) {
  const Dataset& d = data_;
  dense_.resize(max_rows * d.n_dense);
  cat_.resize(max_rows * d.n_cat);
  labels_.resize(max_rows * d.n_task);
  if (!d.weights.empty()) weights_.resize(max_rows);

  record_words_ = d.n_dense + d.n_cat + d.n_task + (d.weights.empty() ? 0 : 1);
  const size_t bytes = d.rows * record_words_ * sizeof(uint32_t);
  if (bytes == 0 || bytes > max_packed_bytes) return;
  const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* memory = std::aligned_alloc(kHugePage, rounded);
  if (!memory) return;  // read in place instead
  // Advice only: without transparent huge pages the records still save lines, if not the TLB misses.
  madvise(memory, rounded, MADV_HUGEPAGE);
  records_.reset(static_cast<uint32_t*>(memory));
  static_assert(sizeof(float) == sizeof(uint32_t) && sizeof(int32_t) == sizeof(uint32_t));
  for (size_t r = 0; r < d.rows; ++r) {
    uint32_t* rec = records_.get() + r * record_words_;
    copy_words(rec, d.dense.data() + r * d.n_dense, d.n_dense);
    rec += d.n_dense;
    copy_words(rec, d.cat.data() + r * d.n_cat, d.n_cat);
    rec += d.n_cat;
    copy_words(rec, d.labels.data() + r * d.n_task, d.n_task);
    rec += d.n_task;
    if (!d.weights.empty()) copy_words(rec, d.weights.data() + r, 1);
  }
}

void BatchStager::prefetch_row(size_t r) const {
  const Dataset& d = data_;
  if (records_) {
    prefetch(records_.get() + r * record_words_, record_words_ * sizeof(uint32_t));
    return;
  }
  prefetch(d.dense.data() + r * d.n_dense, d.n_dense * sizeof(float));
  prefetch(d.cat.data() + r * d.n_cat, d.n_cat * sizeof(int32_t));
  prefetch(d.labels.data() + r * d.n_task, d.n_task * sizeof(float));
  if (!d.weights.empty()) __builtin_prefetch(d.weights.data() + r);
}

void BatchStager::copy_row(size_t i, size_t r) {
  const Dataset& d = data_;
  const void* dense = d.dense.data() + r * d.n_dense;
  const void* cat = d.cat.data() + r * d.n_cat;
  const void* labels = d.labels.data() + r * d.n_task;
  const void* weight = d.weights.empty() ? nullptr : d.weights.data() + r;
  if (records_) {
    const uint32_t* rec = records_.get() + r * record_words_;
    dense = rec;
    cat = rec + d.n_dense;
    labels = rec + d.n_dense + d.n_cat;
    weight = rec + d.n_dense + d.n_cat + d.n_task;
  }
  copy_words(dense_.data() + i * d.n_dense, dense, d.n_dense);
  copy_words(cat_.data() + i * d.n_cat, cat, d.n_cat);
  copy_words(labels_.data() + i * d.n_task, labels, d.n_task);
  if (!weights_.empty()) copy_words(weights_.data() + i, weight, 1);
}

BatchView BatchStager::prepare(const size_t* rows, size_t n) {
  MMOE_CHECK(n <= max_rows_, "batch larger than the stager's buffers");
  rows_ = rows;
  n_ = n;
  return BatchView{n, dense_.data(), cat_.data(), labels_.data(), weights_.empty() ? nullptr : weights_.data()};
}

void BatchStager::copy(size_t begin, size_t end) {
  end = std::min(end, n_);
  for (size_t i = begin; i < std::min(end, begin + kPrefetchAhead); ++i) prefetch_row(rows_[i]);
  for (size_t i = begin; i < end; ++i) {
    if (i + kPrefetchAhead < end) prefetch_row(rows_[i + kPrefetchAhead]);
    copy_row(i, rows_[i]);
  }
}

BatchFill BatchStager::fill() {
  return BatchFill{this, [](void* ctx, size_t begin, size_t end) { static_cast<BatchStager*>(ctx)->copy(begin, end); }};
}

BatchView BatchStager::stage(const size_t* rows, size_t n) {
  const BatchView view = prepare(rows, n);
  copy(0, n);
  return view;
}

}  // namespace mmoe::detail
