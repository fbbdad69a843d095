// Exact, tie-aware, weighted ROC AUC.
//
// AUC = P(score+ > score-) + 1/2 P(score+ == score-) over (positive, negative) pairs weighted by w+ w-,
// i.e. the weighted Mann-Whitney U statistic divided by W+ W-. After sorting by score, each group of tied
// scores contributes W+_group * (W- below the group + W-_group / 2): one pass, no pair loop.
//
// The sort is most of the running time, so scores are mapped to order-preserving uint32 keys and radix
// sorted (4 byte-passes, passes where every key shares the byte are skipped): 100k rows in about a
// millisecond, several times faster than std::sort with a comparator. The two scratch arrays are kept per
// thread between calls: on fresh memory, page faults cost more than the sort itself (measured 5-6 ms vs
// 0.9 ms at 100k rows), and evaluation calls auc once per task per epoch with the same sizes.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "metrics/metric_checks.h"
#include "mmoe/metrics.h"

namespace mmoe {

namespace {

// Monotone map float -> uint32: flip all bits of negatives, the sign bit of positives. -0 is folded into +0
// first so that the two zeros tie, as they compare equal.
inline uint32_t order_key(float s) {
  if (s == 0.0f) s = 0.0f;
  uint32_t bits;
  std::memcpy(&bits, &s, sizeof bits);
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

// Above this many rows the scratch is released after the call rather than held by the thread.
constexpr size_t kKeepScratchRows = size_t{1} << 22;

// LSD radix sort of packed (key << 32 | row) values by their high 32 bits; tmp is scratch.
void radix_sort_by_key(std::vector<uint64_t>& items, std::vector<uint64_t>& tmp) {
  const size_t n = items.size();
  if (n < 2) return;
  size_t counts[4][256] = {};
  for (uint64_t v : items)
    for (int b = 0; b < 4; ++b) ++counts[b][(v >> (32 + 8 * b)) & 0xff];
  tmp.resize(n);
  uint64_t* src = items.data();
  uint64_t* dst = tmp.data();
  for (int b = 0; b < 4; ++b) {
    const int shift = 32 + 8 * b;
    if (counts[b][(src[0] >> shift) & 0xff] == n) continue;  // every key has this byte: the pass is a no-op
    size_t offset[256];
    size_t total = 0;
    for (int k = 0; k < 256; ++k) {
      offset[k] = total;
      total += counts[b][k];
    }
    for (size_t i = 0; i < n; ++i) dst[offset[(src[i] >> shift) & 0xff]++] = src[i];
    std::swap(src, dst);
  }
  if (src != items.data()) std::memcpy(items.data(), src, n * sizeof(uint64_t));
}

}  // namespace

double auc(std::span<const float> scores, std::span<const float> labels, std::span<const float> weights) {
  detail::check_metric_spans("auc", scores, labels, weights);
  const size_t n = labels.size();
  if (n > std::numeric_limits<uint32_t>::max())
    throw Error(ErrorKind::usage, "more than 2^32 - 1 rows", "auc");

  thread_local std::vector<uint64_t> items;  // (labelled rows): key << 32 | row
  thread_local std::vector<uint64_t> scratch;
  items.clear();
  items.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(labels[i])) continue;
    const double w = detail::metric_weight("auc", weights, i);
    if (w == 0.0) continue;  // contributes to no pair
    if (std::isnan(scores[i]))
      throw Error(ErrorKind::input, "score is NaN on a labelled row", "auc row " + std::to_string(i));
    items.push_back(static_cast<uint64_t>(order_key(scores[i])) << 32 | static_cast<uint64_t>(i));
  }
  radix_sort_by_key(items, scratch);

  double area = 0.0;       // sum over groups of W+_g * (W-_below + W-_g / 2)
  double neg_below = 0.0;  // negative weight with a strictly lower score
  double pos_total = 0.0;
  for (size_t i = 0; i < items.size();) {
    const uint64_t key = items[i] >> 32;
    double pos = 0.0, neg = 0.0;
    for (; i < items.size() && (items[i] >> 32) == key; ++i) {
      const size_t row = static_cast<size_t>(items[i] & 0xffffffffu);
      const double w = weights.empty() ? 1.0 : weights[row];
      if (labels[row] > 0.5f)
        pos += w;
      else
        neg += w;
    }
    area += pos * (neg_below + 0.5 * neg);
    neg_below += neg;
    pos_total += pos;
  }
  if (items.capacity() > kKeepScratchRows) {
    std::vector<uint64_t>().swap(items);
    std::vector<uint64_t>().swap(scratch);
  }
  if (pos_total <= 0.0 || neg_below <= 0.0) return std::numeric_limits<double>::quiet_NaN();
  return area / (pos_total * neg_below);
}

}  // namespace mmoe
