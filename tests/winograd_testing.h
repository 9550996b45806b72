// winograd_testing.h — what the Winograd tests share: the error bound and small helpers.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace winograd_test {

inline constexpr double kUnitRoundoff = 0x1.0p-24;

// The accuracy bound of the F(6x6, 3x3) convolution, per output element:
//   |got - exact| <= kNormFactor * n * u * max|input| * max|kernel|  (+ the rounding of the bias)
// with n = 9 * (channels summed over) + 1. Each output mixes all 64 values of its 8x8 input
// tile through the transforms (B^T rows sum to up to 15 in absolute value, A^T entries reach
// 32), so the error follows the tile's operand norms, not the output's own 9 terms per
// channel. Measured on uniform [-1, 1] data (max |err| / (n u)): 54 for 1 channel, 23 for 3,
// 12 for 17, 10 for 65, about 5 for 256..4096 channels: the error grows like sqrt(channels)
// while the bound grows like channels. 128 is a 2.4x margin over the worst measured and 4x
// below the conditioning of the transforms (509 n u per channel in the worst case).
inline constexpr double kNormFactor = 128.0;

inline double WinogradBound(size_t channels, double max_input, double max_kernel, double max_bias = 0.0) {
  const double n = 9.0 * double(channels) + 1.0;
  return kNormFactor * n * kUnitRoundoff * max_input * max_kernel + kUnitRoundoff * max_bias + 1e-30;
}

inline double MaxAbs(const std::vector<float>& v) {
  double m = 0.0;
  for (float x : v) m = std::max(m, double(std::fabs(x)));
  return m;
}

inline std::vector<float> RandomVector(size_t n, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// Distance in units in the last place between two finite floats of the same sign region.
inline int64_t UlpDistance(float a, float b) {
  auto ordered = [](float x) {
    int32_t i;
    std::memcpy(&i, &x, sizeof i);
    return i < 0 ? int64_t(std::numeric_limits<int32_t>::min()) - i : int64_t(i);
  };
  const int64_t d = ordered(a) - ordered(b);
  return d < 0 ? -d : d;
}

}  // namespace winograd_test
