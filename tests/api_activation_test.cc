// api_activation_test.cc — nnp_relu_output, nnp_relu_input_gradient and nnp_softmax_output.
//
// Semantics (recorded decisions):
//   relu:          output = signbit(x) ? x * negative_slope : x        (bit-exact: one float product)
//   relu gradient: grad_input = signbit(input) ? grad_output * negative_slope : grad_output
//   softmax:       per batch row over the channels, numerically stable; in place works.
// Every function is checked with the NULL pool and pools of 1, 2 and 4 threads (bit-identical).
#include <nnpack.h>

#include "tests/api_testing.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace {

const bool kInitialized = api_test::InitializeLibraryForAllTests();

using api_test::BitDifferences;
using api_test::kNaN;
using api_test::SharedPool;

constexpr float kInf = std::numeric_limits<float>::infinity();

// Inputs with both zeros, +infinity, tiny and huge normals, and random values. No NaN (its sign
// bit carries no meaning), no -infinity (times slope 0 it gives a NaN whose payload is not
// specified), and nothing whose product with a slope is subnormal (a pool may flush those).
std::vector<float> ReluInputs(size_t n, uint32_t seed) {
  api_test::Rng rng(seed);
  std::vector<float> v = rng.Vector(n, -4.0f, 4.0f);
  const float specials[] = {0.0f, -0.0f, 1.0f, -1.0f, kInf, 1e-30f, -1e-30f, 3e38f, -3e38f, 0.5f, -0.5f};
  for (size_t i = 0; i < n && i < std::size(specials); i++) v[i * 7 % n] = specials[i];
  return v;
}

float ExpectedRelu(float x, float slope) { return std::signbit(x) ? x * slope : x; }

struct Shape {
  size_t batch, channels;
};
const Shape kShapes[] = {{1, 1}, {1, 7}, {2, 3}, {5, 17}, {1, 1000}, {3, 257}, {16, 64}};
const float kSlopes[] = {0.0f, 0.01f, 0.25f, 1.0f, 2.0f, -0.5f};

std::string Name(const Shape& s, float slope) {
  return "batch " + std::to_string(s.batch) + " channels " + std::to_string(s.channels) + " slope " +
         std::to_string(slope);
}

TEST(Relu, OutputIsSignbitSelectedProductForAnyThreadCount) {
  uint32_t seed = 4000;
  for (const Shape& s : kShapes) {
    for (float slope : kSlopes) {
      api_test::PrintSeed("relu " + Name(s, slope), seed);
      SCOPED_TRACE(Name(s, slope) + ", seed " + std::to_string(seed));
      const std::vector<float> input = ReluInputs(s.batch * s.channels, seed++);
      std::vector<float> expected(input.size());
      for (size_t i = 0; i < input.size(); i++) expected[i] = ExpectedRelu(input[i], slope);
      for (size_t threads : api_test::kThreadCounts) {
        SCOPED_TRACE(api_test::PoolName(threads));
        std::vector<float> output(input.size(), kNaN);
        ASSERT_EQ(nnp_relu_output(s.batch, s.channels, input.data(), output.data(), slope, SharedPool(threads)),
                  nnp_status_success);
        EXPECT_EQ(BitDifferences(expected, output), "");
      }
    }
  }
}

TEST(Relu, InPlace) {
  uint32_t seed = 4100;
  for (const Shape& s : kShapes) {
    for (float slope : {0.0f, 0.1f}) {
      api_test::PrintSeed("relu in place " + Name(s, slope), seed);
      SCOPED_TRACE(Name(s, slope) + ", seed " + std::to_string(seed));
      const std::vector<float> input = ReluInputs(s.batch * s.channels, seed++);
      std::vector<float> expected(input.size());
      for (size_t i = 0; i < input.size(); i++) expected[i] = ExpectedRelu(input[i], slope);
      for (size_t threads : api_test::kThreadCounts) {
        SCOPED_TRACE(api_test::PoolName(threads));
        std::vector<float> data = input;
        ASSERT_EQ(nnp_relu_output(s.batch, s.channels, data.data(), data.data(), slope, SharedPool(threads)),
                  nnp_status_success);
        EXPECT_EQ(BitDifferences(expected, data), "");
      }
    }
  }
}

// Signed zeros: -0.0 has its sign bit set, so it is multiplied by the slope.
TEST(Relu, SignedZeroFollowsTheSignBit) {
  const float input[] = {-0.0f, 0.0f, -0.0f, 0.0f};
  float output[4] = {kNaN, kNaN, kNaN, kNaN};
  ASSERT_EQ(nnp_relu_output(1, 4, input, output, -1.0f, nullptr), nnp_status_success);
  EXPECT_EQ(api_test::Bits(output[0]), api_test::Bits(0.0f));   // -0 * -1 = +0
  EXPECT_EQ(api_test::Bits(output[1]), api_test::Bits(0.0f));   // +0 passes through
  ASSERT_EQ(nnp_relu_output(1, 4, input, output, 0.5f, nullptr), nnp_status_success);
  EXPECT_EQ(api_test::Bits(output[0]), api_test::Bits(-0.0f));  // -0 * 0.5 = -0
  EXPECT_EQ(api_test::Bits(output[1]), api_test::Bits(0.0f));
}

TEST(ReluGradient, IsSignbitSelectedProductForAnyThreadCount) {
  uint32_t seed = 4200;
  for (const Shape& s : kShapes) {
    for (float slope : kSlopes) {
      api_test::PrintSeed("relu gradient " + Name(s, slope), seed);
      SCOPED_TRACE(Name(s, slope) + ", seed " + std::to_string(seed));
      const std::vector<float> input = ReluInputs(s.batch * s.channels, seed);
      api_test::Rng rng(seed++ * 7 + 1);
      const std::vector<float> grad_output = rng.Vector(input.size(), -3.0f, 3.0f);
      std::vector<float> expected(input.size());
      for (size_t i = 0; i < input.size(); i++) {
        expected[i] = std::signbit(input[i]) ? grad_output[i] * slope : grad_output[i];
      }
      for (size_t threads : api_test::kThreadCounts) {
        SCOPED_TRACE(api_test::PoolName(threads));
        std::vector<float> grad_input(input.size(), kNaN);
        ASSERT_EQ(nnp_relu_input_gradient(s.batch, s.channels, grad_output.data(), input.data(), grad_input.data(),
                                          slope, SharedPool(threads)),
                  nnp_status_success);
        EXPECT_EQ(BitDifferences(expected, grad_input), "");
      }
    }
  }
}

// ---- softmax ----

std::vector<double> ExactSoftmax(size_t batch, size_t channels, const std::vector<float>& x) {
  std::vector<double> y(x.size());
  for (size_t b = 0; b < batch; b++) {
    double m = -std::numeric_limits<double>::infinity();
    for (size_t c = 0; c < channels; c++) m = std::max(m, double(x[b * channels + c]));
    double sum = 0.0;
    for (size_t c = 0; c < channels; c++) sum += std::exp(double(x[b * channels + c]) - m);
    for (size_t c = 0; c < channels; c++) y[b * channels + c] = std::exp(double(x[b * channels + c]) - m) / sum;
  }
  return y;
}

// Relative error allowed per element: a few ulps for exp and the division, plus the rounding of
// a float sum over the channels.
double SoftmaxRelativeTolerance(size_t channels) { return 1e-5 + double(channels) * 0x1.0p-22; }

// Checks values, finiteness and that each row sums to 1.
std::string CheckSoftmax(size_t batch, size_t channels, const std::vector<float>& got,
                         const std::vector<double>& exact) {
  const double tolerance = SoftmaxRelativeTolerance(channels);
  for (size_t i = 0; i < got.size(); i++) {
    if (!std::isfinite(got[i])) return "element " + std::to_string(i) + " is not finite";
    if (!(std::fabs(double(got[i]) - exact[i]) <= tolerance * exact[i] + 1e-38)) {
      return "element " + std::to_string(i) + ": got " + std::to_string(got[i]) + ", exact " + std::to_string(exact[i]);
    }
  }
  for (size_t b = 0; b < batch; b++) {
    double sum = 0.0;
    for (size_t c = 0; c < channels; c++) sum += got[b * channels + c];
    if (!(std::fabs(sum - 1.0) <= tolerance)) return "row " + std::to_string(b) + " sums to " + std::to_string(sum);
  }
  return std::string();
}

struct SoftmaxCase {
  const char* name;
  size_t batch, channels;
  float center, spread;  // inputs uniform in [center - spread, center + spread]
};

const SoftmaxCase kSoftmaxCases[] = {
    {"one_channel", 3, 1, 0.0f, 5.0f},          {"two_channels", 2, 2, 0.0f, 5.0f},
    {"small", 5, 17, 0.0f, 10.0f},              {"wide", 2, 1000, 0.0f, 8.0f},
    {"odd", 3, 257, 0.0f, 3.0f},                {"large_positive", 4, 33, 1e4f, 5.0f},
    {"large_negative", 4, 33, -1e4f, 5.0f},     {"near_float_max", 2, 9, 1e30f, 0.0f},
    {"equal_values", 3, 7, 2.5f, 0.0f},         {"equal_large", 2, 100, 8e4f, 0.0f},
};

class Softmax : public ::testing::TestWithParam<size_t> {};

TEST_P(Softmax, StableAndAccurateForAnyThreadCount) {
  const SoftmaxCase& c = kSoftmaxCases[GetParam()];
  const uint32_t seed = 4300 + uint32_t(GetParam());
  api_test::PrintSeed(c.name, seed);
  SCOPED_TRACE(std::string(c.name) + ", seed " + std::to_string(seed));
  api_test::Rng rng(seed);
  std::vector<float> input(c.batch * c.channels);
  for (float& x : input) x = c.spread == 0.0f ? c.center : c.center + rng.Uniform(-c.spread, c.spread);
  const std::vector<double> exact = ExactSoftmax(c.batch, c.channels, input);
  if (c.spread == 0.0f) {
    for (double y : exact) ASSERT_EQ(y, 1.0 / double(c.channels));  // the test's own reference
  }
  std::vector<float> reference;
  for (size_t threads : api_test::kThreadCounts) {
    SCOPED_TRACE(api_test::PoolName(threads));
    std::vector<float> output(input.size(), kNaN);
    ASSERT_EQ(nnp_softmax_output(c.batch, c.channels, input.data(), output.data(), SharedPool(threads)),
              nnp_status_success);
    if (threads == 0) {
      reference = output;
      const std::string error = CheckSoftmax(c.batch, c.channels, output, exact);
      EXPECT_TRUE(error.empty()) << error;
    } else {
      EXPECT_EQ(BitDifferences(reference, output), "");
    }
    // in place gives the same bits
    std::vector<float> data = input;
    ASSERT_EQ(nnp_softmax_output(c.batch, c.channels, data.data(), data.data(), SharedPool(threads)),
              nnp_status_success);
    EXPECT_EQ(BitDifferences(reference, data), "") << "in place";
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, Softmax, ::testing::Range(size_t(0), std::size(kSoftmaxCases)),
                         [](const ::testing::TestParamInfo<size_t>& info) { return kSoftmaxCases[info.param].name; });

// Rows are independent: changing one row does not change another.
TEST(SoftmaxRows, AreIndependent) {
  api_test::Rng rng(4400);
  std::vector<float> input = rng.Vector(3 * 11, -5.0f, 5.0f);
  std::vector<float> a(input.size(), kNaN), b(input.size(), kNaN);
  ASSERT_EQ(nnp_softmax_output(3, 11, input.data(), a.data(), nullptr), nnp_status_success);
  for (size_t c = 0; c < 11; c++) input[11 + c] = 1e4f;  // row 1 only
  ASSERT_EQ(nnp_softmax_output(3, 11, input.data(), b.data(), nullptr), nnp_status_success);
  for (size_t c = 0; c < 11; c++) {
    EXPECT_EQ(api_test::Bits(a[c]), api_test::Bits(b[c]));
    EXPECT_EQ(api_test::Bits(a[22 + c]), api_test::Bits(b[22 + c]));
    EXPECT_NEAR(b[11 + c], 1.0 / 11.0, 1e-6);
  }
}

}  // namespace
