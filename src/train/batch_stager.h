// BatchStager: copies the rows of a shuffled batch into preallocated, contiguous batch buffers.
//
// An epoch visits the training rows in random order, so every row of a batch is a fresh miss to DRAM, and
// the copy ran on one thread before each step. Read in place from the Dataset's separate arrays, a
// census row is about five cache lines on three 4 KB pages (dense, codes, labels): 45-55 us per 256-row
// batch, a fifth of a 2-thread census step. The stager therefore keeps its own copy of the rows, one record per
// row ([dense | codes | labels | weight], 4 bytes a field) in memory advised for transparent huge pages,
// and prefetches a few rows ahead: 21-33 us per batch inside the training loop (7-9 us in a harness without the
// step's memory traffic). The copy costs the data set's size once more, so
// above kMaxPackedBytes the rows are read in place (still prefetched). The training loop hands the copy to the
// step's threads (fill()), each copying its own slice of the batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "mmoe/dataset.h"
#include "mmoe/model.h"

namespace mmoe::detail {

class BatchStager {
 public:
  static constexpr size_t kMaxPackedBytes = size_t{1} << 30;

  // max_packed_bytes: the largest copy made (tests force the in-place path with 0).
  BatchStager(const Dataset& data, size_t max_rows, size_t max_packed_bytes = kMaxPackedBytes);

  // The rows rows[0..n) of the data set, in that order; valid until the next call.
  BatchView stage(const size_t* rows, size_t n);
  // The same batch, not yet copied: copy(begin, end) writes its rows [begin, end), from any thread (disjoint
  // ranges), before the view is read. fill() hands those calls to an Executor step.
  BatchView prepare(const size_t* rows, size_t n);
  void copy(size_t begin, size_t end);
  BatchFill fill();

  bool packed() const { return records_ != nullptr; }

 private:
  struct FreeDeleter {
    void operator()(void* p) const;
  };
  void prefetch_row(size_t r) const;
  void copy_row(size_t i, size_t r);

  const Dataset& data_;
  size_t max_rows_ = 0;
  const size_t* rows_ = nullptr;  // the prepared batch's rows
  size_t n_ = 0;
  size_t record_words_ = 0;  // 4-byte words per record
  std::unique_ptr<uint32_t[], FreeDeleter> records_;
  std::vector<float> dense_, labels_, weights_;
  std::vector<int32_t> cat_;
};

}  // namespace mmoe::detail
