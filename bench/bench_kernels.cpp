// Kernel micro-benchmarks (Google Benchmark), each fast kernel next to its naive twin and, for the GEMMs,
// the library backends it replaced. Shapes are the paper config's (d = 100, 8 experts x 16, 2 tasks,
// towers 8) at the rows one thread sees; "FLOP/s" counters use 2 M N K per GEMM.
//
//   build/bench/mmoe_kernels_bench --benchmark_min_time=0.1
//   build/bench/mmoe_kernels_bench --benchmark_filter=FirstLayer
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <random>
#include <vector>

#include "kernels/adam.h"
#include "kernels/elementwise.h"
#include "kernels/gate_mix.h"
#include "kernels/gemm.h"
#include "kernels/linear.h"
#include "kernels/sparse.h"
#include "mmoe/tensor.h"

namespace {

using namespace mmoe;
using namespace mmoe::kernels;

AlignedBuffer<float> random_buffer(size_t n, uint32_t seed) {
  AlignedBuffer<float> b(n);
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  for (size_t i = 0; i < n; ++i) b[i] = normal(gen);
  return b;
}

// Every kernel runs on one thread, as inside the executor; the libraries would otherwise thread themselves.
const int kOneThread = (omp_set_num_threads(1), 1);

constexpr size_t kD = 100, kBank = 8, kH = 16, kGates = 2, kTower = 8;
constexpr size_t kN = kBank * kH + kGates * kBank;  // fused first layer: 144 columns

void set_flops(benchmark::State& state, double flops_per_iter) {
  state.counters["FLOP/s"] =
      benchmark::Counter(flops_per_iter * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// ---- fused first layer (experts + gates): C (R, 144) = X (R, 100) W (100, 144) + b, ReLU on experts ----
enum class Impl { fast, ref, eigen, onednn };

template <Impl kImpl>
void BM_FirstLayerForward(benchmark::State& state) {
  const size_t R = static_cast<size_t>(state.range(0));
  auto x = random_buffer(R * kD, 1), w = random_buffer(kD * kN, 2), b = random_buffer(kN, 3);
  AlignedBuffer<float> z(R * kN);
  const ConstMatrixView xv{x.data(), R, kD, kD};
  const MatrixView zv{z.data(), R, kN, kN};
  for (auto _ : state) {
    if constexpr (kImpl == Impl::fast) {
      linear_forward(xv, w.data(), kN, b.data(), kBank * kH, zv);
    } else if constexpr (kImpl == Impl::ref) {
      linear_forward_ref(xv, w.data(), kN, b.data(), kBank * kH, zv);
    } else {  // the library GEMM alone (bias + ReLU would be one more pass)
      set_gemm_backend(kImpl == Impl::eigen ? GemmBackend::eigen : GemmBackend::onednn);
      gemm(false, false, R, kN, kD, 1.0f, x.data(), kD, w.data(), kN, 0.0f, z.data(), kN);
    }
    benchmark::DoNotOptimize(z.data());
  }
  set_gemm_backend(GemmBackend::eigen);
  set_flops(state, 2.0 * static_cast<double>(R * kN * kD));
}
BENCHMARK(BM_FirstLayerForward<Impl::fast>)->Arg(1)->Arg(16)->Arg(128)->Arg(2048);
BENCHMARK(BM_FirstLayerForward<Impl::ref>)->Arg(1)->Arg(16)->Arg(128);
BENCHMARK(BM_FirstLayerForward<Impl::eigen>)->Arg(1)->Arg(16)->Arg(128)->Arg(2048);
BENCHMARK(BM_FirstLayerForward<Impl::onednn>)->Arg(1)->Arg(16)->Arg(128)->Arg(2048);

// ---- its weight gradient: dW (100, 144) += X^T dZ, a reduction over the R rows ----
template <Impl kImpl>
void BM_FirstLayerWgrad(benchmark::State& state) {
  const size_t R = static_cast<size_t>(state.range(0));
  auto x = random_buffer(R * kD, 1), dz = random_buffer(R * kN, 2);
  AlignedBuffer<float> dw(kD * kN);
  const ConstMatrixView xv{x.data(), R, kD, kD}, dzv{dz.data(), R, kN, kN};
  for (auto _ : state) {
    if constexpr (kImpl == Impl::fast) {
      linear_wgrad(xv, dzv, dw.data(), kN);
    } else if constexpr (kImpl == Impl::ref) {
      linear_wgrad_ref(xv, dzv, dw.data(), kN);
    } else {
      set_gemm_backend(kImpl == Impl::eigen ? GemmBackend::eigen : GemmBackend::onednn);
      gemm(true, false, kD, kN, R, 1.0f, x.data(), kD, dz.data(), kN, 1.0f, dw.data(), kN);
    }
    benchmark::DoNotOptimize(dw.data());
  }
  set_gemm_backend(GemmBackend::eigen);
  set_flops(state, 2.0 * static_cast<double>(R * kN * kD));
}
BENCHMARK(BM_FirstLayerWgrad<Impl::fast>)->Arg(1)->Arg(16)->Arg(128)->Arg(2048);
BENCHMARK(BM_FirstLayerWgrad<Impl::ref>)->Arg(16)->Arg(128);
BENCHMARK(BM_FirstLayerWgrad<Impl::eigen>)->Arg(16)->Arg(128)->Arg(2048);
BENCHMARK(BM_FirstLayerWgrad<Impl::onednn>)->Arg(16)->Arg(128)->Arg(2048);

// ---- the wide config's first layer (d = 512, 8 experts x 256 + 2 gates x 8 = 2064 columns): the packed
// GEMM path (linear_packed.cpp), forward and weight gradient, against the libraries ----
constexpr size_t kWideD = 512, kWideN = 2064;

template <Impl kImpl, bool kWgrad>
void BM_WideFirstLayer(benchmark::State& state) {
  const size_t R = static_cast<size_t>(state.range(0));
  auto x = random_buffer(R * kWideD, 1), w = random_buffer(kWideD * kWideN, 2), dz = random_buffer(R * kWideN, 3);
  AlignedBuffer<float> out(std::max(R, kWideD) * kWideN);
  const ConstMatrixView xv{x.data(), R, kWideD, kWideD}, dzv{dz.data(), R, kWideN, kWideN};
  for (auto _ : state) {
    if constexpr (kImpl == Impl::fast) {
      if constexpr (kWgrad) linear_wgrad(xv, dzv, out.data(), kWideN, false);
      else linear_forward(xv, w.data(), kWideN, nullptr, 0, MatrixView{out.data(), R, kWideN, kWideN});
    } else {
      set_gemm_backend(kImpl == Impl::eigen ? GemmBackend::eigen : GemmBackend::onednn);
      if constexpr (kWgrad) gemm(true, false, kWideD, kWideN, R, 1.0f, x.data(), kWideD, dz.data(), kWideN, 0.0f, out.data(), kWideN);
      else gemm(false, false, R, kWideN, kWideD, 1.0f, x.data(), kWideD, w.data(), kWideN, 0.0f, out.data(), kWideN);
    }
    benchmark::DoNotOptimize(out.data());
  }
  set_gemm_backend(GemmBackend::eigen);
  set_flops(state, 2.0 * static_cast<double>(R * kWideN * kWideD));
}
BENCHMARK(BM_WideFirstLayer<Impl::fast, false>)->Arg(128)->Arg(512);
BENCHMARK(BM_WideFirstLayer<Impl::eigen, false>)->Arg(128)->Arg(512);
BENCHMARK(BM_WideFirstLayer<Impl::onednn, false>)->Arg(128)->Arg(512);
BENCHMARK(BM_WideFirstLayer<Impl::fast, true>)->Arg(128)->Arg(512);
BENCHMARK(BM_WideFirstLayer<Impl::eigen, true>)->Arg(128)->Arg(512);
BENCHMARK(BM_WideFirstLayer<Impl::onednn, true>)->Arg(128)->Arg(512);

// ---- a deeper expert layer (16 -> 16, per expert, on its column block) and a tower layer (16 -> 8) ----
template <bool kFast>
void BM_SmallLayer(benchmark::State& state) {
  const size_t R = static_cast<size_t>(state.range(0)), in = static_cast<size_t>(state.range(1)),
               out = static_cast<size_t>(state.range(2));
  auto x = random_buffer(R * in, 1), w = random_buffer(in * out, 2), b = random_buffer(out, 3);
  AlignedBuffer<float> y(R * out);
  const ConstMatrixView xv{x.data(), R, in, in};
  const MatrixView yv{y.data(), R, out, out};
  for (auto _ : state) {
    if constexpr (kFast) linear_forward(xv, w.data(), out, b.data(), out, yv);
    else linear_forward_ref(xv, w.data(), out, b.data(), out, yv);
    benchmark::DoNotOptimize(y.data());
  }
  set_flops(state, 2.0 * static_cast<double>(R * in * out));
}
BENCHMARK(BM_SmallLayer<true>)->Args({128, 16, 16})->Args({128, 16, 8})->Args({128, 8, 1})->Args({2048, 16, 8});
BENCHMARK(BM_SmallLayer<false>)->Args({128, 16, 16})->Args({128, 16, 8})->Args({128, 8, 1});

// ---- gate softmax + mixture, forward and backward ----
template <bool kFast>
void BM_GateMixForward(benchmark::State& state) {
  const size_t R = static_cast<size_t>(state.range(0));
  auto logits = random_buffer(R * kGates * kBank, 1), ex = random_buffer(R * kBank * kH, 2);
  AlignedBuffer<float> probs(R * kGates * kBank), mix(R * kGates * kH);
  const ConstMatrixView lv{logits.data(), R, kGates * kBank, kGates * kBank}, ev{ex.data(), R, kBank * kH, kBank * kH};
  const MatrixView pv{probs.data(), R, kGates * kBank, kGates * kBank}, mv{mix.data(), R, kGates * kH, kGates * kH};
  for (auto _ : state) {
    if constexpr (kFast) gate_mix_forward(lv, ev, kGates, kBank, kH, pv, mv);
    else gate_mix_forward_ref(lv, ev, kGates, kBank, kH, pv, mv);
    benchmark::DoNotOptimize(mix.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(R));
}
BENCHMARK(BM_GateMixForward<true>)->Arg(1)->Arg(128)->Arg(2048);
BENCHMARK(BM_GateMixForward<false>)->Arg(1)->Arg(128);

template <bool kFast>
void BM_GateMixBackward(benchmark::State& state) {
  const size_t R = static_cast<size_t>(state.range(0));
  auto dmix = random_buffer(R * kGates * kH, 1), probs = random_buffer(R * kGates * kBank, 2),
       ex = random_buffer(R * kBank * kH, 3);
  AlignedBuffer<float> dlogits(R * kGates * kBank), dex(R * kBank * kH);
  const ConstMatrixView dmv{dmix.data(), R, kGates * kH, kGates * kH}, pv{probs.data(), R, kGates * kBank, kGates * kBank},
      ev{ex.data(), R, kBank * kH, kBank * kH};
  const MatrixView dlv{dlogits.data(), R, kGates * kBank, kGates * kBank}, dev{dex.data(), R, kBank * kH, kBank * kH};
  for (auto _ : state) {
    if constexpr (kFast) gate_mix_backward(dmv, pv, ev, kGates, kBank, kH, dlv, dev);
    else gate_mix_backward_ref(dmv, pv, ev, kGates, kBank, kH, dlv, dev);
    benchmark::DoNotOptimize(dex.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(R));
}
BENCHMARK(BM_GateMixBackward<true>)->Arg(1)->Arg(128)->Arg(2048);
BENCHMARK(BM_GateMixBackward<false>)->Arg(1)->Arg(128);

// ---- census-like one-hot input: 29 categorical columns, 488 categories, into the 144 first-layer columns.
// The sparse path gathers 29 weight rows per row; its naive twin multiplies the dense one-hot matrix. ----
struct Census {
  static constexpr size_t kCols = 29;
  std::vector<int64_t> offsets;
  std::vector<int32_t> codes;
  size_t categories = 0;
  explicit Census(size_t rows) {
    std::mt19937 gen(5);
    for (size_t j = 0; j < kCols; ++j) {
      offsets.push_back(static_cast<int64_t>(categories));
      categories += 4 + (j * 7) % 30;
    }
    codes.resize(rows * kCols);
    for (size_t i = 0; i < rows; ++i)
      for (size_t j = 0; j < kCols; ++j) {
        const size_t card = static_cast<size_t>((j + 1 < kCols ? offsets[j + 1] : static_cast<int64_t>(categories)) - offsets[j]);
        codes[i * kCols + j] = static_cast<int32_t>(gen() % card);
      }
  }
  size_t rows() const { return codes.size() / kCols; }
  CatBatch batch() const { return {codes.data(), rows(), kCols, offsets.data()}; }
  AlignedBuffer<float> dense_onehot() const {  // (rows, categories): what the naive twins multiply
    AlignedBuffer<float> x(rows() * categories);
    for (size_t i = 0; i < rows(); ++i)
      for (size_t j = 0; j < kCols; ++j) x[i * categories + static_cast<size_t>(offsets[j] + codes[i * kCols + j])] = 1.0f;
    return x;
  }
};

template <bool kSparse>
void BM_OneHotForward(benchmark::State& state) {
  const size_t R = static_cast<size_t>(state.range(0));
  const Census c(R);
  auto table = random_buffer(c.categories * kN, 1);
  AlignedBuffer<float> z(R * kN);
  const AlignedBuffer<float> onehot = c.dense_onehot();
  const CatBatch cat = c.batch();
  for (auto _ : state) {
    if constexpr (kSparse) {
      zero(MatrixView{z.data(), R, kN, kN});
      onehot_gather_add(cat, table.data(), MatrixView{z.data(), R, kN, kN});
    } else {
      linear_forward(ConstMatrixView{onehot.data(), R, c.categories, c.categories}, table.data(), kN, nullptr, 0,
                     MatrixView{z.data(), R, kN, kN});
    }
    benchmark::DoNotOptimize(z.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(R));
}
BENCHMARK(BM_OneHotForward<true>)->Arg(128)->Arg(2048);
BENCHMARK(BM_OneHotForward<false>)->Arg(128)->Arg(2048);

template <bool kSparse>
void BM_OneHotBackward(benchmark::State& state) {
  const size_t R = static_cast<size_t>(state.range(0));
  const Census c(R);
  auto dz = random_buffer(R * kN, 1);
  AlignedBuffer<float> dtable(c.categories * kN);
  const AlignedBuffer<float> onehot = c.dense_onehot();
  const CatBatch cat = c.batch();
  for (auto _ : state) {
    if constexpr (kSparse) {
      onehot_scatter_add(cat, ConstMatrixView{dz.data(), R, kN, kN}, dtable.data(), 0, cat.n_cat);
    } else {
      linear_wgrad(ConstMatrixView{onehot.data(), R, c.categories, c.categories}, ConstMatrixView{dz.data(), R, kN, kN},
                   dtable.data(), kN);
    }
    benchmark::DoNotOptimize(dtable.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(R));
}
BENCHMARK(BM_OneHotBackward<true>)->Arg(128)->Arg(2048);
BENCHMARK(BM_OneHotBackward<false>)->Arg(128)->Arg(2048);

// Training steps list only the codes that differ from their column's most frequent one: 35% of the census
// codes. These lists keep 35% of the codes above, in no pattern.
struct CensusLists {
  std::vector<int32_t> index;
  std::vector<uint32_t> begin = {0};
  explicit CensusLists(const Census& c) {
    std::mt19937 gen(6);
    for (size_t i = 0; i < c.rows(); ++i) {
      for (size_t j = 0; j < Census::kCols; ++j)
        if (gen() % 100 < 35) index.push_back(static_cast<int32_t>(c.offsets[j] + c.codes[i * Census::kCols + j]));
      begin.push_back(static_cast<uint32_t>(index.size()));
    }
  }
  RowLists view() const { return {index.data(), begin.data(), begin.size() - 1}; }
};

void BM_OneHotListsForward(benchmark::State& state) {
  const size_t R = static_cast<size_t>(state.range(0));
  const Census c(R);
  const CensusLists l(c);
  auto table = random_buffer(c.categories * kN, 1), base = random_buffer(kN, 2);
  AlignedBuffer<float> z(R * kN);
  for (auto _ : state) {
    gather_lists(l.view(), table.data(), base.data(), MatrixView{z.data(), R, kN, kN});
    benchmark::DoNotOptimize(z.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(R));
}
BENCHMARK(BM_OneHotListsForward)->Arg(128)->Arg(2048);

void BM_OneHotListsBackward(benchmark::State& state) {
  const size_t R = static_cast<size_t>(state.range(0));
  const Census c(R);
  const CensusLists l(c);
  auto dz = random_buffer(R * kN, 1);
  AlignedBuffer<float> dtable(c.categories * kN);
  for (auto _ : state) {
    scatter_lists(l.view(), ConstMatrixView{dz.data(), R, kN, kN}, dtable.data(), 0,
                  static_cast<int32_t>(c.categories));
    benchmark::DoNotOptimize(dtable.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(R));
}
BENCHMARK(BM_OneHotListsBackward)->Arg(128)->Arg(2048);

// ---- Adam over the paper config's 14,834 parameters and the wide config's 1.09 M ----
template <bool kFast>
void BM_Adam(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  auto p = random_buffer(n, 1), g = random_buffer(n, 2);
  AlignedBuffer<float> m(n), v(n);
  const AdamStep s{0.9f, 0.999f, 1e-3f, 1.0f, 1e-8f};
  for (auto _ : state) {
    if constexpr (kFast) adam_update(s, p.data(), g.data(), m.data(), v.data(), n);
    else adam_update_ref(s, p.data(), g.data(), m.data(), v.data(), n);
    benchmark::DoNotOptimize(p.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
}
BENCHMARK(BM_Adam<true>)->Arg(14834)->Arg(1091858);
BENCHMARK(BM_Adam<false>)->Arg(14834)->Arg(1091858);

}  // namespace

BENCHMARK_MAIN();
