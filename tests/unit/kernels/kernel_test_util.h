// Shared helpers of the kernel tests: random buffers and a relative comparison.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "mmoe/tensor.h"

namespace mmoe::test {

inline AlignedBuffer<float> random_buffer(size_t n, uint32_t seed) {
  AlignedBuffer<float> b(n);
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  for (size_t i = 0; i < n; ++i) b[i] = normal(gen);
  return b;
}

// |a - b| <= tol * max(1, |b|) elementwise.
inline void expect_close(const float* a, const float* b, size_t n, float tol, const std::string& what) {
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i)
    if (!(std::fabs(a[i] - b[i]) <= tol * std::max(1.0f, std::fabs(b[i])))) {
      if (bad++ < 3) ADD_FAILURE() << what << ": element " << i << " is " << a[i] << ", expected " << b[i];
    }
  EXPECT_EQ(bad, 0u) << what;
}

}  // namespace mmoe::test
