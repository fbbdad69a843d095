// The fused gate softmax + mixture (vectorised exp, kLanes-wide chunks) against the unfused double reference.
// The backward overwrites d experts (the dex0 garbage it starts from must not survive) and applies the ReLU's
// backward; random experts are half negative, so both sides of the mask are covered.
#include <gtest/gtest.h>

#include "kernels/gate_mix.h"
#include "unit/kernels/kernel_test_util.h"

namespace {

using mmoe::AlignedBuffer;
using mmoe::ConstMatrixView;
using mmoe::MatrixView;
using mmoe::test::expect_close;
using mmoe::test::random_buffer;

struct Case {
  size_t rows;
  int gates, bank, h;
};
// Banks and widths below, at and above one 16-lane vector.
const Case kCases[] = {{1, 2, 8, 16}, {13, 2, 8, 16}, {5, 1, 3, 5},   {4, 3, 20, 33}, {7, 8, 64, 16},
                        {3, 2, 16, 32}, {2, 1, 1, 7},  {6, 2, 4, 8},  {3, 3, 12, 24}, {2, 2, 8, 40}};

TEST(GateMix, ForwardMatchesReference) {
  for (const Case& c : kCases) {
    const size_t gl = static_cast<size_t>(c.gates * c.bank), eh = static_cast<size_t>(c.bank * c.h),
                 gh = static_cast<size_t>(c.gates * c.h);
    auto logits = random_buffer(c.rows * gl, 1), ex = random_buffer(c.rows * eh, 2);
    for (size_t i = 0; i < logits.size(); ++i) logits[i] *= 4.0f;  // a wide range of exponents
    AlignedBuffer<float> p(c.rows * gl), mix(c.rows * gh), p_ref(c.rows * gl), mix_ref(c.rows * gh);
    const ConstMatrixView lv{logits.data(), c.rows, gl, gl}, ev{ex.data(), c.rows, eh, eh};
    mmoe::kernels::gate_mix_forward(lv, ev, c.gates, c.bank, c.h, MatrixView{p.data(), c.rows, gl, gl},
                                    MatrixView{mix.data(), c.rows, gh, gh});
    mmoe::kernels::gate_mix_forward_ref(lv, ev, c.gates, c.bank, c.h, MatrixView{p_ref.data(), c.rows, gl, gl},
                                        MatrixView{mix_ref.data(), c.rows, gh, gh});
    const std::string what = "bank " + std::to_string(c.bank) + " h " + std::to_string(c.h);
    expect_close(p.data(), p_ref.data(), p.size(), 1e-6f, "probs " + what);
    expect_close(mix.data(), mix_ref.data(), mix.size(), 1e-5f, "mix " + what);
  }
}

TEST(GateMix, BackwardMatchesReference) {
  for (const Case& c : kCases) {
    const size_t gl = static_cast<size_t>(c.gates * c.bank), eh = static_cast<size_t>(c.bank * c.h),
                 gh = static_cast<size_t>(c.gates * c.h);
    auto dmix = random_buffer(c.rows * gh, 3), ex = random_buffer(c.rows * eh, 4), dex0 = random_buffer(c.rows * eh, 5);
    auto logits = random_buffer(c.rows * gl, 6);
    AlignedBuffer<float> p(c.rows * gl), mix(c.rows * gh);
    mmoe::kernels::gate_mix_forward_ref(ConstMatrixView{logits.data(), c.rows, gl, gl}, ConstMatrixView{ex.data(), c.rows, eh, eh},
                                        c.gates, c.bank, c.h, MatrixView{p.data(), c.rows, gl, gl},
                                        MatrixView{mix.data(), c.rows, gh, gh});
    AlignedBuffer<float> ds(c.rows * gl), ds_ref(c.rows * gl), dex = dex0, dex_ref = dex0;
    const ConstMatrixView dmv{dmix.data(), c.rows, gh, gh}, pv{p.data(), c.rows, gl, gl}, ev{ex.data(), c.rows, eh, eh};
    mmoe::kernels::gate_mix_backward(dmv, pv, ev, c.gates, c.bank, c.h, MatrixView{ds.data(), c.rows, gl, gl},
                                     MatrixView{dex.data(), c.rows, eh, eh});
    mmoe::kernels::gate_mix_backward_ref(dmv, pv, ev, c.gates, c.bank, c.h, MatrixView{ds_ref.data(), c.rows, gl, gl},
                                         MatrixView{dex_ref.data(), c.rows, eh, eh});
    const std::string what = "bank " + std::to_string(c.bank) + " h " + std::to_string(c.h);
    expect_close(ds.data(), ds_ref.data(), ds.size(), 2e-5f, "dlogits " + what);
    expect_close(dex.data(), dex_ref.data(), dex.size(), 1e-5f, "dexperts " + what);
  }
}

TEST(GateMix, ExtremeLogitsStayFinite) {
  const size_t gl = 8, eh = 8 * 16, gh = 16;
  AlignedBuffer<float> logits(gl), ex(eh), p(gl), mix(gh);
  const float values[] = {-1e30f, 1e30f, 0.0f, -200.0f, 90.0f, 89.0f, -88.0f, 1e-30f};
  for (size_t e = 0; e < gl; ++e) logits[e] = values[e];
  for (size_t i = 0; i < eh; ++i) ex[i] = 1.0f;
  mmoe::kernels::gate_mix_forward(ConstMatrixView{logits.data(), 1, gl, gl}, ConstMatrixView{ex.data(), 1, eh, eh}, 1, 8,
                                  16, MatrixView{p.data(), 1, gl, gl}, MatrixView{mix.data(), 1, gh, gh});
  float sum = 0.0f;
  for (size_t e = 0; e < gl; ++e) {
    EXPECT_TRUE(std::isfinite(p[e]));
    sum += p[e];
  }
  EXPECT_NEAR(sum, 1.0f, 1e-6f);
  EXPECT_NEAR(p[1], 1.0f, 1e-6f);
}

}  // namespace
