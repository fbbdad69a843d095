// The steady-state training step allocates nothing: Executor::forward_backward + Optimizer::step, the fused
// step (forward_backward with Optimizer::fused_update), the trainer's step (the same, its threads copying a
// shuffled batch in from a BatchStager), and predict after warm-up, counted by replacing the C allocator in
// this test binary.
//
// Every heap allocation in the process ends in malloc/calloc/realloc or an aligned variant: operator new
// (libstdc++), Eigen, oneDNN and libgomp all call them. This file defines those functions (forwarding to
// glibc's __libc_* entry points), so the dynamic linker binds every caller in the process to them, and counts
// calls while a test has counting switched on. free is not replaced: glibc's free takes __libc_* blocks.
// Sanitizer builds bring their own allocator, so there the tests are skipped.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "mmoe/dataset.h"
#include "mmoe/model.h"
#include "mmoe/optim.h"
#include "train/batch_stager.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MMOE_COUNT_ALLOCS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define MMOE_COUNT_ALLOCS 0
#endif
#endif
#ifndef MMOE_COUNT_ALLOCS
#define MMOE_COUNT_ALLOCS 1
#endif

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocs{0};
inline void note_alloc() {
  if (g_counting.load(std::memory_order_relaxed)) g_allocs.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

#if MMOE_COUNT_ALLOCS
extern "C" {
void* __libc_malloc(size_t n);
void* __libc_calloc(size_t n, size_t size);
void* __libc_realloc(void* p, size_t n);
void* __libc_memalign(size_t alignment, size_t n);

void* malloc(size_t n) {
  note_alloc();
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t size) {
  note_alloc();
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) {
  note_alloc();
  return __libc_realloc(p, n);
}
void* memalign(size_t alignment, size_t n) {
  note_alloc();
  return __libc_memalign(alignment, n);
}
void* aligned_alloc(size_t alignment, size_t n) {
  note_alloc();
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, size_t alignment, size_t n) {
  note_alloc();
  void* p = __libc_memalign(alignment, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
}
#endif

namespace {

// Counts the allocations made while it is alive (on any thread).
struct AllocCounter {
  AllocCounter() {
    g_allocs = 0;
    g_counting = true;
  }
  ~AllocCounter() { g_counting = false; }
  long count() const { return g_allocs.load(); }
};

// Rows [begin, begin + n) of d, read in place.
mmoe::BatchView batch_of(const mmoe::Dataset& d, size_t begin, size_t n) {
  return {n, d.n_dense ? d.dense.data() + begin * d.n_dense : nullptr, d.n_cat ? d.cat.data() + begin * d.n_cat : nullptr,
          d.labels.data() + begin * d.n_task, nullptr};
}

mmoe::Dataset make_data(const mmoe::ModelSpec& spec, size_t rows) {
  mmoe::Dataset d;
  d.rows = rows;
  d.n_dense = static_cast<size_t>(spec.n_dense);
  d.n_cat = spec.cat_cardinality.size();
  d.n_task = static_cast<size_t>(spec.n_task());
  std::mt19937 gen(3);
  std::normal_distribution<float> normal;
  d.dense.resize(rows * d.n_dense);
  for (float& v : d.dense) v = normal(gen);
  d.labels.resize(rows * d.n_task);
  for (float& v : d.labels) v = normal(gen) > 0.5f ? 1.0f : 0.0f;
  d.cat.resize(rows * d.n_cat);
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < d.n_cat; ++j)
      d.cat[i * d.n_cat + j] = static_cast<int32_t>(gen() % static_cast<uint32_t>(spec.cat_cardinality[j]));
  return d;
}

mmoe::ModelSpec spec_of(mmoe::Arch arch, int n_cat, mmoe::CatEncoding enc) {
  mmoe::ModelSpec s;
  s.arch = arch;
  s.n_expert = 8;
  s.expert_units = {16};
  s.tower_units = {8};
  s.tasks = {{"a", mmoe::TaskKind::binary, 1.0f}, {"b", mmoe::TaskKind::binary, 1.0f}};
  s.n_dense = 20;
  for (int j = 0; j < n_cat; ++j) s.cat_cardinality.push_back(5 + 3 * j);
  s.cat_encoding = enc;
  return s;
}

// Warm-up steps, then counted steps of forward_backward + Adam + predict, at two batch sizes.
long steady_state_allocs(const mmoe::ModelSpec& spec, int threads, bool lazy_sparse) {
  mmoe::Model model(spec);
  model.init(1);
  const mmoe::Dataset data = make_data(spec, 512);
  mmoe::Executor exec(model, 256, threads);
  mmoe::OptimConfig oc;
  oc.lazy_sparse = lazy_sparse;
  mmoe::Optimizer opt(model, oc);
  std::vector<float> out(256 * data.n_task);
  mmoe::detail::BatchStager stager(data, 256);
  std::vector<size_t> order(data.rows);
  std::iota(order.begin(), order.end(), size_t{0});
  std::shuffle(order.begin(), order.end(), std::mt19937(4));
  auto step = [&](size_t begin, size_t n) {
    exec.forward_backward(batch_of(data, begin, n));
    opt.step(model, 1e-3, exec.touched_rows());
    exec.forward_backward(batch_of(data, begin, n), opt.fused_update(model, 1e-3));
    const mmoe::BatchView staged = stager.prepare(order.data() + begin, n);  // the trainer's step
    exec.forward_backward(staged, opt.fused_update(model, 1e-3), stager.fill());
    exec.predict(batch_of(data, begin, n), out.data());
  };
  for (int i = 0; i < 3; ++i) {
    step(0, 256);
    step(256, 31);
    step(300, 1);
  }
  AllocCounter counter;
  for (int i = 0; i < 5; ++i) {
    step(0, 256);
    step(256, 31);
    step(300, 1);
  }
  return counter.count();
}

}  // namespace

TEST(NoAlloc, CounterSeesAllocations) {
#if !MMOE_COUNT_ALLOCS
  GTEST_SKIP() << "sanitizer build: the allocator is not replaced";
#endif
  long seen = 0;
  {
    AllocCounter counter;
    auto p = std::make_unique<std::vector<float>>(1000);  // operator new, twice
    void* q = std::aligned_alloc(64, 256);
    std::free(q);
    seen = counter.count();
    ASSERT_TRUE(p);
  }
  EXPECT_GE(seen, 3);
}

TEST(NoAlloc, TrainingStepDense) {
#if !MMOE_COUNT_ALLOCS
  GTEST_SKIP() << "sanitizer build: the allocator is not replaced";
#endif
  for (mmoe::Arch arch : {mmoe::Arch::mmoe, mmoe::Arch::omoe, mmoe::Arch::shared_bottom})
    for (int threads : {1, 2})
      EXPECT_EQ(steady_state_allocs(spec_of(arch, 0, mmoe::CatEncoding::onehot), threads, false), 0)
          << mmoe::to_string(arch) << " threads " << threads;
}

TEST(NoAlloc, TrainingStepSparse) {
#if !MMOE_COUNT_ALLOCS
  GTEST_SKIP() << "sanitizer build: the allocator is not replaced";
#endif
  for (mmoe::CatEncoding enc : {mmoe::CatEncoding::onehot, mmoe::CatEncoding::embedding})
    for (bool lazy : {false, true})
      for (int threads : {1, 2})
        EXPECT_EQ(steady_state_allocs(spec_of(mmoe::Arch::mmoe, 4, enc), threads, lazy), 0)
            << mmoe::to_string(enc) << " lazy " << lazy << " threads " << threads;
}

TEST(NoAlloc, DeeperExpertsAndTowers) {
#if !MMOE_COUNT_ALLOCS
  GTEST_SKIP() << "sanitizer build: the allocator is not replaced";
#endif
  mmoe::ModelSpec s = spec_of(mmoe::Arch::mmoe, 0, mmoe::CatEncoding::onehot);
  s.expert_units = {32, 16};
  s.tower_units = {16, 8};
  EXPECT_EQ(steady_state_allocs(s, 2, false), 0);
}

// Products large enough for the packed GEMM path (first layer 64 x 1040: B rows of 4 KB), whose panels are
// per-thread buffers allocated by a thread's first large product, before the counted steps.
TEST(NoAlloc, PackedProducts) {
#if !MMOE_COUNT_ALLOCS
  GTEST_SKIP() << "sanitizer build: the allocator is not replaced";
#endif
  mmoe::ModelSpec s = spec_of(mmoe::Arch::mmoe, 0, mmoe::CatEncoding::onehot);
  s.n_dense = 64;
  s.expert_units = {128};
  for (int threads : {1, 2}) EXPECT_EQ(steady_state_allocs(s, threads, false), 0) << "threads " << threads;
}
