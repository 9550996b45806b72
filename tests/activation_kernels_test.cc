// Activation kernel family: the AVX2 kernels against the reference kernels.
//
// relu and relu_gradient must equal the reference bit for bit (the same single product,
// selected by the same sign bit), for every size (tails of 1..7, tiny, large), in place
// and aliased, on both store paths (cached and streaming), for any thread count.
// softmax is checked against the exact value computed in double: within kSoftmaxUlps ulp
// for results at least 2^-126, within 1e-38 absolutely below that; special values like
// the reference; and, for each loop variant (8 lanes, and 16 where the machine has
// AVX-512), bit-identical across thread counts, schedules, store paths and in place.
// Seeds are fixed and printed.
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

#include "kernels/activation/activation.h"
#include "kernels/reference/reference.h"
#include "runtime/dispatch.h"
#include "runtime/hardware.h"

#if defined(__x86_64__)

namespace nnjit::activation {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
// Softmax accuracy bound (see f32_softmax_avx2.cc): ulps of the exact result.
constexpr double kSoftmaxUlps = 8.0;
constexpr double kExpUlps = 1.5;

uint32_t bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

float from_bits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

using test_pools::pools;

std::string pool_name(pthreadpool_t pool) {
  return pool == nullptr ? "NULL pool" : std::to_string(pthreadpool_get_threads_count(pool)) + " threads";
}

class ActivationKernels : public ::testing::Test {
 protected:
  void SetUp() override {
    hardware_ = detect_hardware(nullptr);
    if (!hardware_.can_run(Isa::avx2)) GTEST_SKIP() << "no AVX2 on this machine";
  }
  // `streaming_after_bytes`: pretend the last-level cache is this small so that the
  // streaming-store path runs on modest sizes.
  ExecutionContext context(pthreadpool_t pool, const Hardware* hw = nullptr) {
    return ExecutionContext{nullptr, 0, pool, hw ? hw : &hardware_, &profile_};
  }
  Hardware hardware_;
  nnp_profile profile_{};
};

std::vector<float> relu_inputs(size_t n, uint32_t seed) {
  std::printf("[   seed   ] relu inputs n=%zu: %u\n", n, seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-4.0f, 4.0f);
  std::vector<float> v(n);
  for (float& x : v) x = uniform(rng);
  const float specials[] = {0.0f, -0.0f, kInf, -kInf, kNaN, -kNaN, 1e-40f, -1e-40f, 3e38f, -3e38f,
                            from_bits(0x7fc12345u), from_bits(0xffc54321u)};
  for (size_t i = 0; i < std::size(specials) && i < n; ++i) v[(i * 37) % n] = specials[i];
  return v;
}

const size_t kSizes[] = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 39, 40, 63, 64, 65, 1000, 16383, 16384,
                         16385, 65536 * 3 + 5, 1 << 20};
const float kSlopes[] = {0.0f, 0.01f, -0.5f, 1.0f, 2.0f};

TEST_F(ActivationKernels, ReluMatchesReferenceBitForBit) {
  Hardware small_cache = hardware_;
  small_cache.l3_bytes = 64 * 1024;  // large calls take the streaming path
  uint32_t seed = 600;
  for (size_t n : kSizes) {
    for (size_t offset : {0, 1, 3}) {  // misaligned outputs exercise the streaming head
      const std::vector<float> input = relu_inputs(n + offset, seed++);
      for (float slope : kSlopes) {
        std::vector<float> expected(n + offset, kNaN);
        reference::relu(n, input.data() + offset, expected.data() + offset, slope, nullptr);
        for (const Hardware* hw : {&hardware_, &small_cache}) {
          for (pthreadpool_t pool : pools()) {
            SCOPED_TRACE("n=" + std::to_string(n) + " offset=" + std::to_string(offset) + " slope=" +
                         std::to_string(slope) + " " + pool_name(pool) + (hw == &small_cache ? " streaming" : ""));
            std::vector<float> output(n + offset, kNaN);
            f32_relu__avx2(n, input.data() + offset, output.data() + offset, slope, context(pool, hw));
            ASSERT_EQ(0, std::memcmp(expected.data(), output.data(), (n + offset) * sizeof(float)));
          }
        }
        // in place (never streams)
        std::vector<float> data = input;
        f32_relu__avx2(n, data.data() + offset, data.data() + offset, slope, context(pools()[2], &small_cache));
        std::memcpy(expected.data(), input.data(), offset * sizeof(float));
        ASSERT_EQ(0, std::memcmp(expected.data(), data.data(), (n + offset) * sizeof(float))) << "in place, n=" << n;
      }
    }
  }
}

TEST_F(ActivationKernels, ReluGradientMatchesReferenceBitForBitWithAnyAliasing) {
  uint32_t seed = 700;
  for (size_t n : kSizes) {
    const std::vector<float> input = relu_inputs(n, seed++);
    const std::vector<float> grad_output = relu_inputs(n, seed++);
    for (float slope : kSlopes) {
      std::vector<float> expected(n, kNaN);
      reference::relu_gradient(n, grad_output.data(), input.data(), expected.data(), slope, nullptr);
      for (pthreadpool_t pool : pools()) {
        SCOPED_TRACE("n=" + std::to_string(n) + " slope=" + std::to_string(slope) + " " + pool_name(pool));
        std::vector<float> grad_input(n, kNaN);
        f32_relu_gradient__avx2(n, grad_output.data(), input.data(), grad_input.data(), slope, context(pool));
        ASSERT_EQ(0, std::memcmp(expected.data(), grad_input.data(), n * sizeof(float)));
        std::vector<float> aliased = grad_output;  // grad_input == grad_output
        f32_relu_gradient__avx2(n, aliased.data(), input.data(), aliased.data(), slope, context(pool));
        ASSERT_EQ(0, std::memcmp(expected.data(), aliased.data(), n * sizeof(float))) << "grad_input == grad_output";
        aliased = input;  // grad_input == input
        std::vector<float> expected_aliased(n);
        reference::relu_gradient(n, grad_output.data(), input.data(), expected_aliased.data(), slope, nullptr);
        f32_relu_gradient__avx2(n, grad_output.data(), aliased.data(), aliased.data(), slope, context(pool));
        ASSERT_EQ(0, std::memcmp(expected_aliased.data(), aliased.data(), n * sizeof(float))) << "grad_input == input";
      }
    }
  }
}

// ---- exponential ----

double ulp_of(double exact) {
  int exponent;
  std::frexp(exact, &exponent);  // exact = f * 2^exponent, f in [0.5, 1)
  return std::ldexp(1.0, std::max(exponent - 24, -149));
}

TEST_F(ActivationKernels, ExponentialIsWithinOneAndAHalfUlp) {
  std::mt19937 rng(800);
  std::printf("[   seed   ] exp sweep: 800\n");
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  double worst = 0.0;
  float worst_x = 0, worst_m = 0;
  // Maxima with fine mantissas (x - m inexact in float), large ones (|x| up to the limit of
  // the exact reduction, 4096) and beyond it (the two-sum reduction against m itself).
  const float maxima[] = {0.0f,   1.0f,    -1.0f, 3.5f,  100.5f,     -100.5f,   1e4f,    -1e4f,     0.1f,
                          0.01f, -0.001f, 1.2345678f, -3.3f, 77.77f, 4095.9f, -4095.9f, 4096.5f, -3e5f};
  for (float m : maxima) {
    for (int i = 0; i < 200000; ++i) {
      float x[8], out[8];
      for (float& v : x) {
        const float depth = i % 4 == 0 ? unit(rng) : i % 4 == 1 ? 5.0f * unit(rng) : 88.0f * unit(rng);
        v = m - depth;
      }
      const double reference = f32_exp_difference__avx2(x, m, out);
      ASSERT_LE(std::fabs(reference - m), std::fabs(m) <= 4096.0f ? 0.0434 : 0.0) << m;
      for (int l = 0; l < 8; ++l) {
        const double exact = std::exp(double(x[l]) - reference);
        if (exact < 0x1.0p-126) {
          ASSERT_LE(std::fabs(out[l] - exact), 1e-38) << x[l] << " " << m;
          continue;
        }
        const double error = std::fabs(out[l] - exact) / ulp_of(exact);
        if (error > worst) worst = error, worst_x = x[l], worst_m = m;
      }
    }
  }
  std::printf("exp: worst error %.3f ulp at x=%.9g m=%.9g\n", worst, worst_x, worst_m);
  EXPECT_LE(worst, kExpUlps);
}

TEST_F(ActivationKernels, ExponentialSpecialValues) {
  float out[8];
  const float x[8] = {0.0f, -0.0f, -kInf, kNaN, -88.0f, -87.0f, -1e30f, -3e38f};
  ASSERT_EQ(f32_exp_difference__avx2(x, 0.0f, out), 0.0);  // reference 0
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], 1.0f);
  EXPECT_EQ(bits(out[2]), 0u);
  EXPECT_TRUE(std::isnan(out[3]));
  EXPECT_EQ(bits(out[4]), 0u);  // below e^-87.6
  EXPECT_NEAR(out[5], std::exp(-87.0), 1e-44);
  EXPECT_EQ(bits(out[6]), 0u);
  EXPECT_EQ(bits(out[7]), 0u);
  // Exact reduction against a reference near 100.5.
  const float y[8] = {100.5f, -kInf, kNaN, 100.5f - 87.7f, -3e38f, 100.0f, 13.0f, 100.49999f};
  const double r = f32_exp_difference__avx2(y, 100.5f, out);
  EXPECT_NEAR(out[0], std::exp(100.5 - r), 2e-7);
  EXPECT_EQ(bits(out[1]), 0u);
  EXPECT_TRUE(std::isnan(out[2]));
  EXPECT_EQ(bits(out[3]), 0u);
  EXPECT_EQ(bits(out[4]), 0u);
  EXPECT_NEAR(out[5], std::exp(100.0 - r), 2e-7);
  // Two-sum reduction against the maximum itself.
  const float z[8] = {3e38f, -3e38f, 1e4f, 1e4f, 1e4f, 1e4f, 1e4f, 1e4f};
  ASSERT_EQ(f32_exp_difference__avx2(z, 3e38f, out), 3e38f);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(bits(out[1]), 0u);  // -3e38 - 3e38 overflows to -infinity: 0
  const float w[8] = {1e4f, 1e4f, 1e4f, 1e4f, 1e4f, 1e4f, 1e4f, 1e4f};
  ASSERT_EQ(f32_exp_difference__avx2(w, 1e4f, out), 1e4f);
  EXPECT_EQ(out[0], 1.0f);
}

// ---- softmax ----

std::vector<double> exact_softmax(size_t batch, size_t channels, const std::vector<float>& x) {
  std::vector<double> y(x.size());
  for (size_t b = 0; b < batch; ++b) {
    const float* row = x.data() + b * channels;
    double m = -INFINITY;
    for (size_t c = 0; c < channels; ++c) m = std::max(m, double(row[c]));
    long double sum = 0;
    for (size_t c = 0; c < channels; ++c) sum += std::exp((long double)row[c] - m);
    for (size_t c = 0; c < channels; ++c) y[b * channels + c] = double(std::exp((long double)row[c] - m) / sum);
  }
  return y;
}

// Largest error in ulps of the exact value (results >= 2^-126); fails on larger absolute
// errors below that.
double softmax_error_ulps(const std::vector<float>& got, const std::vector<double>& exact) {
  double worst = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    if (exact[i] < 0x1.0p-126) {
      if (std::fabs(got[i] - exact[i]) > 1e-38) return INFINITY;
      continue;
    }
    worst = std::max(worst, std::fabs(got[i] - exact[i]) / ulp_of(exact[i]));
  }
  return worst;
}

struct SoftmaxCase {
  size_t batch, channels;
  float center, spread;
};

const SoftmaxCase kSoftmaxCases[] = {
    {1, 1, 0, 1},      {3, 2, 0, 5},        {5, 7, 0, 10},      {4, 8, 0, 3},        {4, 9, 0, 3},
    {2, 17, 0, 40},    {16, 1000, 0, 8},    {3, 1000, 1e4f, 5}, {3, 1000, -1e4f, 5}, {2, 4095, 0, 30},
    {2, 4096, 0, 30},  {2, 4097, 0, 30},    {1, 10000, 0, 60},  {3, 70001, 0, 8},    {1, 300000, 0, 100},
    {64, 1000, 0, 100}, {2, 33, 1e30f, 0},  {3, 100, 2.5f, 0},  {5, 100, 0, 200},
};

// Runs softmax on every variant: 16 lanes (where the machine has AVX-512) and 8 lanes,
// each with cached and streaming stores (a pretended small last-level cache), the latter also
// on a misaligned output (a separate scaling pass), on every pool and in place. Within one
// variant every call must give the same bits; returns the worst error in ulps.
class SoftmaxVariants {
 public:
  explicit SoftmaxVariants(const Hardware& hardware) : wide_(hardware), narrow_(hardware) {
    if (narrow_.isa == Isa::avx512) narrow_.isa = Isa::avx2;
    wide_small_ = wide_;
    narrow_small_ = narrow_;
    wide_small_.l3_bytes = narrow_small_.l3_bytes = 16 * 1024;
  }

  double check(size_t batch, size_t channels, const std::vector<float>& input, nnp_profile* profile) const {
    const std::vector<double> exact = exact_softmax(batch, channels, input);
    const Hardware* variants[2][2] = {{&wide_, &wide_small_}, {&narrow_, &narrow_small_}};
    double worst = 0.0;
    for (const auto& variant : variants) {
      std::vector<float> first;
      for (const Hardware* hw : variant) {
        for (pthreadpool_t pool : pools()) {
          SCOPED_TRACE(std::to_string(batch) + "x" + std::to_string(channels) + " " + pool_name(pool) + " isa " +
                       isa_name(hw->isa) + (hw->l3_bytes == 16 * 1024 ? " streaming" : ""));
          const ExecutionContext context{nullptr, 0, pool, hw, profile};
          for (size_t offset : {0, 1}) {  // a misaligned output takes the unfused streaming path
            std::vector<float> buffer(input.size() + offset, kNaN);
            float* output = buffer.data() + offset;
            f32_softmax__avx2(batch, channels, input.data(), output, context);
            if (first.empty()) {
              first.assign(output, output + input.size());
              const double error = softmax_error_ulps(first, exact);
              EXPECT_LE(error, kSoftmaxUlps);
              worst = std::max(worst, error);
            } else {
              EXPECT_EQ(0, std::memcmp(first.data(), output, input.size() * sizeof(float))) << "offset " << offset;
            }
          }
          std::vector<float> data = input;
          f32_softmax__avx2(batch, channels, data.data(), data.data(), context);
          EXPECT_EQ(0, std::memcmp(first.data(), data.data(), data.size() * sizeof(float))) << "in place";
        }
      }
    }
    return worst;
  }

 private:
  Hardware wide_, narrow_, wide_small_, narrow_small_;
};

TEST_F(ActivationKernels, SoftmaxIsAccurateAndIndependentOfThreadsAndPlace) {
  const SoftmaxVariants variants(hardware_);
  double worst = 0.0;
  uint32_t seed = 900;
  for (const SoftmaxCase& c : kSoftmaxCases) {
    std::printf("[   seed   ] softmax %zux%zu: %u\n", c.batch, c.channels, seed);
    std::mt19937 rng(seed++);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    std::vector<float> input(c.batch * c.channels);
    for (float& x : input) x = c.center + c.spread * uniform(rng);
    worst = std::max(worst, variants.check(c.batch, c.channels, input, &profile_));
  }
  std::printf("softmax: worst error %.3f ulp\n", worst);
}

// Rows of up to 4096 channels guess their reference from their first 16 elements: rows
// where the guess is far too low (redone against their maximum), not a number or beyond the
// exact reduction, or low but good enough (large exponentials).
TEST_F(ActivationKernels, SoftmaxReferenceGuessesAndTheirFallbacks) {
  const SoftmaxVariants variants(hardware_);
  double worst = 0.0;
  for (size_t channels : {size_t(37), size_t(1000), size_t(4096)}) {
    const size_t batch = 7;
    std::mt19937 rng(970);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    std::vector<float> input(batch * channels);
    for (float& x : input) x = uniform(rng);
    auto row = [&](size_t r) { return input.data() + r * channels; };
    for (size_t c = 0; c < 16; ++c) row(0)[c] = -100.0f + uniform(rng);  // guess 100 too low: redone
    for (size_t c = 0; c < 16; ++c) row(1)[c] = -70.0f + uniform(rng);   // 70 too low: e up to e^70
    for (size_t c = 0; c < 16; ++c) row(2)[c] = -kInf;                    // no guess: a range pass
    for (size_t c = 0; c < 16; ++c) row(3)[c] = -5000.0f + uniform(rng);  // beyond the exact reduction
    row(3)[channels - 1] = 20.0f;                                          // ... but the maximum is not
    for (size_t c = 0; c < channels; ++c) row(4)[c] = 4000.0f + 30.0f * uniform(rng);  // near the limit
    for (size_t c = 0; c < channels; ++c) row(5)[c] = -4090.0f + 30.0f * uniform(rng);
    for (size_t c = 0; c < channels; ++c) row(6)[c] = 100.0f * uniform(rng);  // spread over the underflow
    SCOPED_TRACE("channels " + std::to_string(channels));
    worst = std::max(worst, variants.check(batch, channels, input, &profile_));
  }
  std::printf("softmax: worst error %.3f ulp\n", worst);
}

// A long row alone (split into block tasks on several threads) and the same row among many
// (whole-row tasks) give the same bits.
TEST_F(ActivationKernels, SoftmaxSchedulesAgree) {
  const size_t channels = 3 * 4096 + 11, batch = 16;
  std::mt19937 rng(950);
  std::uniform_real_distribution<float> uniform(-20.0f, 20.0f);
  std::vector<float> input(batch * channels);
  for (float& x : input) x = uniform(rng);
  std::vector<float> together(input.size(), kNaN);
  f32_softmax__avx2(batch, channels, input.data(), together.data(), context(pools()[2]));
  for (size_t row : {size_t(0), size_t(7), batch - 1}) {
    std::vector<float> alone(channels, kNaN);
    f32_softmax__avx2(1, channels, input.data() + row * channels, alone.data(), context(pools()[4]));
    ASSERT_EQ(0, std::memcmp(alone.data(), together.data() + row * channels, channels * sizeof(float))) << row;
  }
}

// Rows with NaN, +infinity, only -infinity, or some -infinity: the reference's outcome.
TEST_F(ActivationKernels, SoftmaxSpecialValuesFollowTheReference) {
  Hardware narrow = hardware_;
  if (narrow.isa == Isa::avx512) narrow.isa = Isa::avx2;
  for (size_t channels : {size_t(5), size_t(1000), size_t(4096 * 2 + 3)}) {
    for (pthreadpool_t pool : {pools()[0], pools()[2]}) {
      for (const Hardware* hw : {&hardware_, &narrow}) {
        SCOPED_TRACE("channels " + std::to_string(channels) + " " + pool_name(pool) + " isa " + isa_name(hw->isa));
        const size_t batch = 6;
        std::vector<float> input(batch * channels);
        std::mt19937 rng(960);
        std::uniform_real_distribution<float> uniform(-3.0f, 3.0f);
        for (float& x : input) x = uniform(rng);
        float* r = input.data();
        r[0 * channels + channels / 2] = kNaN;                                  // row 0: NaN
        r[1 * channels + 1] = kInf;                                             // row 1: +infinity
        for (size_t c = 0; c < channels; ++c) r[2 * channels + c] = -kInf;      // row 2: only -infinity
        r[3 * channels + 0] = -kInf;                                            // row 3: some -infinity
        r[3 * channels + channels - 1] = -kInf;
        if (channels > 4096) {
          for (size_t c = 0; c < 4096; ++c) r[4 * channels + c] = -kInf;       // row 4: a block of -inf,
          for (size_t c = 4096; c < channels; ++c) r[4 * channels + c] = -1000.0f + uniform(rng);  // low max
        }
        std::vector<float> expected(input.size()), got(input.size(), kNaN);
        reference::softmax(batch, channels, input.data(), expected.data(), nullptr);
        f32_softmax__avx2(batch, channels, input.data(), got.data(), context(pool, hw));
        for (size_t i = 0; i < input.size(); ++i) {
          ASSERT_EQ(std::isnan(expected[i]), std::isnan(got[i])) << i;
          if (expected[i] == 0.0f) ASSERT_EQ(got[i], 0.0f) << i;
          if (!std::isnan(expected[i])) ASSERT_NEAR(got[i], expected[i], 1e-6 * expected[i] + 1e-38) << i;
        }
      }
    }
  }
}

TEST_F(ActivationKernels, DispatchPicksTheAvx2Set) {
  EXPECT_EQ(&activation_kernels(hardware_), &kActivationKernelsAvx2);
}

}  // namespace
}  // namespace nnjit::activation

#endif  // __x86_64__
