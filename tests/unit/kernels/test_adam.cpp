// The vectorised Adam update is bit-identical to the plain loop (same operations, same order).
#include <gtest/gtest.h>

#include <cstring>

#include "kernels/adam.h"
#include "unit/kernels/kernel_test_util.h"

namespace {

using mmoe::AlignedBuffer;
using mmoe::test::random_buffer;

TEST(Adam, FastEqualsReferenceBitForBit) {
  for (size_t n : {1u, 15u, 16u, 17u, 1000u, 14834u})
    for (int variant = 0; variant < 3; ++variant) {
      mmoe::kernels::AdamStep s{0.9f, 0.999f, 1e-3f / 0.19f, 1.0f / 0.0447f, 1e-8f};
      if (variant == 1) s.weight_decay = 0.01f;
      if (variant == 2) {
        s.decoupled = true;
        s.decay = 1.0f - 1e-5f;
      }
      auto p = random_buffer(n, 1), g = random_buffer(n, 2), m = random_buffer(n, 3), v = random_buffer(n, 4);
      for (size_t i = 0; i < n; ++i) v[i] = v[i] * v[i];
      AlignedBuffer<float> p2 = p, m2 = m, v2 = v;
      for (int step = 0; step < 3; ++step) {
        mmoe::kernels::adam_update(s, p.data(), g.data(), m.data(), v.data(), n);
        mmoe::kernels::adam_update_ref(s, p2.data(), g.data(), m2.data(), v2.data(), n);
      }
      EXPECT_EQ(std::memcmp(p.data(), p2.data(), n * sizeof(float)), 0) << "n " << n << " variant " << variant;
      EXPECT_EQ(std::memcmp(m.data(), m2.data(), n * sizeof(float)), 0);
      EXPECT_EQ(std::memcmp(v.data(), v2.data(), n * sizeof(float)), 0);
    }
}

}  // namespace
