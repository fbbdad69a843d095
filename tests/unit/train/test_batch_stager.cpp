// BatchStager: a staged batch holds exactly the listed rows, in order, whether the rows are read from the
// stager's packed copy or in place; with and without weights, dense or categorical columns; copied in pieces
// from two threads (an Executor step's fill) it is the same batch.
#include <cmath>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "train/batch_stager.h"

namespace {

mmoe::Dataset dataset(size_t rows, size_t n_dense, size_t n_cat, bool weights) {
  mmoe::Dataset d;
  d.rows = rows;
  d.n_dense = n_dense;
  d.n_cat = n_cat;
  d.n_task = 2;
  std::mt19937 gen(3);
  std::normal_distribution<float> normal;
  for (size_t i = 0; i < rows * n_dense; ++i) d.dense.push_back(normal(gen));
  for (size_t i = 0; i < rows * n_cat; ++i) d.cat.push_back(static_cast<int32_t>(gen() % 1000));
  for (size_t i = 0; i < rows * 2; ++i) d.labels.push_back(i % 7 == 3 ? NAN : normal(gen));
  if (weights)
    for (size_t i = 0; i < rows; ++i) d.weights.push_back(0.5f + static_cast<float>(i % 5));
  return d;
}

// Bitwise: the labels hold NaNs.
template <typename T>
void expect_rows(const T* staged, const std::vector<T>& source, const std::vector<size_t>& rows, size_t width) {
  if (width == 0) return;
  for (size_t i = 0; i < rows.size(); ++i)
    ASSERT_EQ(std::memcmp(staged + i * width, source.data() + rows[i] * width, width * sizeof(T)), 0) << "row " << i;
}

TEST(BatchStager, StagesTheListedRowsPackedOrInPlace) {
  struct Shape { size_t n_dense, n_cat; bool weights; };
  for (const Shape s : {Shape{5, 3, false}, Shape{5, 3, true}, Shape{0, 4, true}, Shape{6, 0, false}}) {
    const mmoe::Dataset d = dataset(500, s.n_dense, s.n_cat, s.weights);
    for (size_t limit : {mmoe::detail::BatchStager::kMaxPackedBytes, size_t{0}}) {
      mmoe::detail::BatchStager stager(d, 64, limit);
      EXPECT_EQ(stager.packed(), limit > 0);
      std::mt19937 gen(5);
      for (size_t n : {size_t{64}, size_t{1}, size_t{37}}) {
        std::vector<size_t> rows(n);
        for (size_t& r : rows) r = gen() % d.rows;
        const mmoe::BatchView b = stager.stage(rows.data(), n);
        ASSERT_EQ(b.rows, n);
        expect_rows(b.dense, d.dense, rows, d.n_dense);
        expect_rows(b.cat, d.cat, rows, d.n_cat);
        expect_rows(b.labels, d.labels, rows, d.n_task);
        if (s.weights) expect_rows(b.weights, d.weights, rows, 1);
        else EXPECT_EQ(b.weights, nullptr);
      }
    }
  }
}

TEST(BatchStager, CopiesInPiecesFromSeveralThreadsWhatItStagesInOne) {
  const mmoe::Dataset d = dataset(500, 5, 3, true);
  for (size_t limit : {mmoe::detail::BatchStager::kMaxPackedBytes, size_t{0}}) {
    mmoe::detail::BatchStager whole(d, 64, limit), pieces(d, 64, limit);
    std::mt19937 gen(8);
    std::vector<size_t> rows(61);
    for (size_t& r : rows) r = gen() % d.rows;
    const mmoe::BatchView a = whole.stage(rows.data(), rows.size());
    const mmoe::BatchView b = pieces.prepare(rows.data(), rows.size());
    const mmoe::BatchFill fill = pieces.fill();
    std::thread other([&] { fill.fill(fill.ctx, 30, 61); });
    fill.fill(fill.ctx, 0, 30);
    other.join();
    ASSERT_EQ(b.rows, rows.size());
    EXPECT_EQ(std::memcmp(a.dense, b.dense, rows.size() * d.n_dense * sizeof(float)), 0);
    EXPECT_EQ(std::memcmp(a.cat, b.cat, rows.size() * d.n_cat * sizeof(int32_t)), 0);
    EXPECT_EQ(std::memcmp(a.labels, b.labels, rows.size() * d.n_task * sizeof(float)), 0);
    EXPECT_EQ(std::memcmp(a.weights, b.weights, rows.size() * sizeof(float)), 0);
    expect_rows(b.dense, d.dense, rows, d.n_dense);
  }
}

}  // namespace
