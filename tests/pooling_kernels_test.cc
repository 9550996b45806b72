// Pooling kernel family: the AVX2 2x2/2 kernel against the reference, bit for bit.
//
// Every input size from 1x1 to 19x19, rows of 150 to 180 (both sides of the switch to
// row-by-row reading), and a few large shapes, with each of the 16 padding
// combinations (0 or 1 per side), inputs holding NaNs, signed zeros and infinities, for
// NULL and 1..4-thread pools. Windows cut by padding or by the overhang of the ceil rule,
// and windows over padding only (-infinity), all occur. Seeds are fixed and printed.
#include <gtest/gtest.h>

#include "tests/thread_pools.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <pthreadpool.h>

#include "kernels/pooling/pooling.h"
#include "kernels/reference/kernel_sets.h"
#include "kernels/reference/reference.h"
#include "runtime/dispatch.h"
#include "runtime/hardware.h"

#if defined(__x86_64__)

namespace nnjit::pooling {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

using test_pools::pools;

class MaxPoolingKernel : public ::testing::Test {
 protected:
  void SetUp() override {
    hardware_ = detect_hardware(nullptr);
    if (!hardware_.can_run(Isa::avx2)) GTEST_SKIP() << "no AVX2 on this machine";
  }

  // Runs the kernel and the reference on one shape; true if equal bit for bit.
  ::testing::AssertionResult matches(const PoolingShape& s, const std::vector<float>& input, pthreadpool_t pool) {
    const nnp_size out = reference::max_pooling_output_size(s.input_size, s.padding, s.pooling_size, s.pooling_stride);
    const size_t count = s.batch_size * s.channels * out.height * out.width;
    std::vector<float> expected(count + 1, kNaN), got(count + 1, kNaN);  // +1: must stay untouched
    reference::max_pooling(s.batch_size, s.channels, s.input_size, s.padding, s.pooling_size, s.pooling_stride,
                           input.data(), expected.data(), nullptr);
    nnp_profile profile{};
    const ExecutionContext context{nullptr, 0, pool, &hardware_, &profile};
    f32_maxpool_2x2s2__avx2(s, input.data(), got.data(), context);
    if (std::memcmp(expected.data(), got.data(), expected.size() * sizeof(float)) == 0)
      return ::testing::AssertionSuccess();
    for (size_t i = 0; i < expected.size(); ++i) {
      if (std::memcmp(&expected[i], &got[i], sizeof(float)) != 0)
        return ::testing::AssertionFailure() << "output " << i << " of " << count << ": expected " << expected[i]
                                             << ", got " << got[i];
    }
    return ::testing::AssertionFailure();
  }

  Hardware hardware_;
};

std::vector<float> pooling_inputs(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> uniform(-2.0f, 1.0f);  // mostly negative: padding is not 0
  std::vector<float> v(n);
  for (float& x : v) x = uniform(rng);
  const float specials[] = {kNaN, 0.0f, -0.0f, -kInf, kInf, -kNaN};
  for (size_t i = 0; i < n / 11; ++i) v[(i * 13 + 5) % n] = specials[i % std::size(specials)];
  return v;
}

PoolingShape shape_2x2s2(size_t batch, size_t channels, size_t height, size_t width, nnp_padding padding) {
  return PoolingShape{batch, channels, nnp_size{width, height}, padding, nnp_size{2, 2}, nnp_size{2, 2}};
}

std::string describe(const PoolingShape& s) {
  return std::to_string(s.batch_size) + "x" + std::to_string(s.channels) + "x" + std::to_string(s.input_size.height) +
         "x" + std::to_string(s.input_size.width) + " padding " + std::to_string(s.padding.top) +
         std::to_string(s.padding.right) + std::to_string(s.padding.bottom) + std::to_string(s.padding.left);
}

TEST_F(MaxPoolingKernel, EverySmallSizeAndPaddingMatchesReferenceBitForBit) {
  const uint32_t seed = 500;
  std::printf("[   seed   ] small sizes: %u\n", seed);
  std::mt19937 rng(seed);
  for (size_t height = 1; height <= 19; ++height) {
    for (size_t width = 1; width <= 19; ++width) {
      const std::vector<float> input = pooling_inputs(2 * 3 * height * width, rng);
      for (unsigned p = 0; p < 16; ++p) {
        const PoolingShape s = shape_2x2s2(2, 3, height, width, nnp_padding{p & 1, (p >> 1) & 1, (p >> 2) & 1, (p >> 3) & 1});
        ASSERT_TRUE(matches(s, input, nullptr)) << describe(s);
      }
    }
  }
}

// Rows from 160 columns on are read one after the other (a second code path).
TEST_F(MaxPoolingKernel, LongRowsWithEveryPaddingMatchReferenceBitForBit) {
  const uint32_t seed = 505;
  std::printf("[   seed   ] long rows: %u\n", seed);
  std::mt19937 rng(seed);
  for (size_t height : {1, 2, 3, 6}) {
    for (size_t width = 150; width <= 180; ++width) {
      const std::vector<float> input = pooling_inputs(2 * height * width, rng);
      for (unsigned p = 0; p < 16; ++p) {
        const PoolingShape s = shape_2x2s2(1, 2, height, width, nnp_padding{p & 1, (p >> 1) & 1, (p >> 2) & 1, (p >> 3) & 1});
        ASSERT_TRUE(matches(s, input, nullptr)) << describe(s);
      }
    }
  }
}

TEST_F(MaxPoolingKernel, LargeShapesMatchForAnyThreadCount) {
  const uint32_t seed = 510;
  std::printf("[   seed   ] large shapes: %u\n", seed);
  std::mt19937 rng(seed);
  struct Case {
    size_t batch, channels, height, width;
  };
  // vgg.pool1-like planes, odd sizes with overhang, one big plane (row tasks), many small planes.
  const Case cases[] = {{1, 8, 224, 224}, {2, 5, 57, 113}, {1, 1, 515, 333}, {3, 64, 14, 14}, {1, 3, 1, 4097}};
  for (const Case& c : cases) {
    const std::vector<float> input = pooling_inputs(c.batch * c.channels * c.height * c.width, rng);
    for (nnp_padding padding : {nnp_padding{0, 0, 0, 0}, nnp_padding{1, 1, 1, 1}, nnp_padding{1, 0, 0, 1}}) {
      const PoolingShape s = shape_2x2s2(c.batch, c.channels, c.height, c.width, padding);
      for (pthreadpool_t pool : pools()) {
        ASSERT_TRUE(matches(s, input, pool))
            << describe(s) << " with " << (pool ? pthreadpool_get_threads_count(pool) : 0) << " threads";
      }
    }
  }
}

// Windows over padding only give -infinity, and a NaN never wins over a number.
TEST_F(MaxPoolingKernel, EmptyWindowsAndNaNs) {
  // 1x1 image, padding 1 everywhere: output 2x2 (ceil((1+1+1-2)/2)+1); only the top-left
  // window holds the image cell.
  const std::vector<float> one = {-5.0f};
  const PoolingShape s = shape_2x2s2(1, 1, 1, 1, nnp_padding{1, 1, 1, 1});
  std::vector<float> out(4, kNaN);
  nnp_profile profile{};
  f32_maxpool_2x2s2__avx2(s, one.data(), out.data(), ExecutionContext{nullptr, 0, nullptr, &hardware_, &profile});
  EXPECT_EQ(out[0], -5.0f);
  EXPECT_EQ(out[1], -kInf);
  EXPECT_EQ(out[2], -kInf);
  EXPECT_EQ(out[3], -kInf);
  // 2 rows x 32 columns: NaN pairs next to numbers.
  std::vector<float> input(64, kNaN);
  for (size_t i = 0; i < 64; i += 3) input[i] = float(i);
  ASSERT_TRUE(matches(shape_2x2s2(1, 1, 2, 32, nnp_padding{0, 0, 0, 0}), input, nullptr));
  std::fill(input.begin(), input.end(), kNaN);
  ASSERT_TRUE(matches(shape_2x2s2(1, 1, 2, 32, nnp_padding{0, 0, 0, 0}), input, nullptr));  // all -infinity
}

TEST_F(MaxPoolingKernel, AppliesToTwoByTwoStrideTwoOnly) {
  const nnp_padding none{0, 0, 0, 0};
  EXPECT_TRUE(is_2x2_stride_2(shape_2x2s2(1, 1, 8, 8, none), hardware_));
  EXPECT_TRUE(is_2x2_stride_2(shape_2x2s2(1, 1, 7, 9, nnp_padding{1, 1, 1, 1}), hardware_));
  const PoolingShape others[] = {
      {1, 1, {8, 8}, none, {3, 3}, {2, 2}}, {1, 1, {8, 8}, none, {2, 2}, {1, 1}}, {1, 1, {8, 8}, none, {2, 3}, {2, 2}},
      {1, 1, {8, 8}, none, {2, 2}, {2, 1}}, {1, 1, {8, 8}, none, {1, 1}, {1, 1}},
  };
  for (const PoolingShape& s : others) {
    EXPECT_FALSE(is_2x2_stride_2(s, hardware_));
    EXPECT_EQ(&max_pooling_kernels(s, hardware_), &reference::kMaxPoolingKernels);
  }
  EXPECT_EQ(&max_pooling_kernels(shape_2x2s2(1, 1, 8, 8, none), hardware_), &kMaxPooling2x2s2Avx2);
}

}  // namespace
}  // namespace nnjit::pooling

#endif  // __x86_64__
