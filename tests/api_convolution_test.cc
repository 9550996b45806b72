// api_convolution_test.cc — numeric tests of the four convolution entry points through the
// public API, against this file's own double-precision convolution (tests/api_testing.h).
//
// Every case runs through auto and every explicit algorithm the API.md table allows for it,
// with the NULL pool and pools of 1, 2 and 4 threads (results must be identical bit for bit).
// Also: the workspace protocol, precompute/reuse, profiles, fused ReLU, all-zero data.
#include <nnpack.h>
#include <nnjit.h>

#include "tests/api_testing.h"

#include <atomic>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace {

const bool kInitialized = api_test::InitializeLibraryForAllTests();

using api_test::AlignedBytes;
using api_test::BitDifferences;
using api_test::ConvOp;
using api_test::ConvOpName;
using api_test::ConvShape;
using api_test::Exact;
using api_test::kNaN;
using api_test::ResultElements;
using api_test::SharedPool;
using Algorithm = nnp_convolution_algorithm;

// ============================================================================================
// The tolerance table — the ONE place that says how accurate each algorithm must be.
//
// Bound per element: |got - exact| <= factor * n * 2^-24 * (sum of |terms| of that element) + 1e-30,
// n = accumulated products + 1. For now every algorithm runs the float reference kernel, so
// every entry is the float accumulation bound with a 4x margin. When the Winograd and FFT
// kernels land they get a norm-based bound (error relative to the norms of the operands over
// the whole tile, not to each element's own terms); AllowedError() takes the algorithm and the
// problem so that such a bound can be written here without touching the tests.
// ============================================================================================

struct Tolerance {
  Algorithm algorithm;
  double factor;  // multiplies n * 2^-24 * sum of |terms|, or n * 2^-24 * operand norms (below)
  const char* reason;
  // Norm-based: |got - exact| <= factor * n * 2^-24 * max|input| * max|kernel|, with n as above;
  // this file's data are uniform in [-1, 1] (input, kernel, bias, grad_output), so both norms are 1.
  bool operand_norms = false;
};

// Winograd F(6x6, 3x3) (wt8x8): every output of a tile mixes all 64 inputs of its 8x8 input tile
// through B^T (row sums up to 15), G and A^T (entries up to 32), so its rounding error scales with
// the norms of the tile's operands, not with the output's own 9 terms per channel. Measured on
// random [-1, 1] data: max |err| / (n u) = 54 with 1 input channel, 23 with 3, 12 with 17, 10 with
// 65, about 5 with 256..4096 (the error grows like sqrt(channels); relative to max |output| it stays
// near 1e-5). 128 leaves a 2.4x margin over the worst case measured and is 4x below the transforms'
// conditioning (sum over the 64 positions of |A^T| |G| |B^T| row products: 4579 per channel = 509 n);
// a wrong interpolation point or matrix entry gives errors of the order of the output itself.
constexpr double kWinogradNormFactor = 128.0;

constexpr Tolerance kTolerances[] = {
    {nnp_convolution_algorithm_ft8x8, 4.0,
     "FFT 8x8: error spread over the tile; max measured 1.0 here (tests/fft_convolution_test.cc: tile bound)", true},
    {nnp_convolution_algorithm_ft16x16, 8.0,
     "FFT 16x16: error spread over the tile; max measured 2.0 here (kernel gradient, 16x16 kernel, 3 terms)", true},
    {nnp_convolution_algorithm_wt8x8, kWinogradNormFactor, "Winograd F(6x6,3x3): tile-norm-based, see above", true},
    {nnp_convolution_algorithm_wt8x8_fp16, kWinogradNormFactor, "runs the fp32 wt8x8 code on x86", true},
    {nnp_convolution_algorithm_implicit_gemm, 4.0, "float accumulation, any summation order"},
    {nnp_convolution_algorithm_direct, 4.0, "float accumulation, any summation order"},
};

// `algorithm` is the one that actually ran (auto resolved through nnp_ext_convolution_algorithm).
double AllowedError(Algorithm algorithm, ConvOp /*op*/, const ConvShape& /*problem*/, double abs_sum, size_t terms) {
  for (const Tolerance& t : kTolerances) {
    if (t.algorithm != algorithm) continue;
    if (t.operand_norms) return t.factor * double(terms) * api_test::kUnitRoundoff * 1.0 /* max|input| max|kernel| */;
    return api_test::FloatAccumulationBound(abs_sum, terms, t.factor);
  }
  ADD_FAILURE() << "no tolerance for algorithm " << int(algorithm);
  return 0.0;
}

// ============================================================================================
// Calling the library
// ============================================================================================

nnp_ext_convolution_operation ExtOp(ConvOp op) {
  switch (op) {
    case ConvOp::output: return nnp_ext_convolution_output;
    case ConvOp::input_gradient: return nnp_ext_convolution_input_gradient;
    case ConvOp::kernel_gradient: return nnp_ext_convolution_kernel_gradient;
    case ConvOp::inference: return nnp_ext_convolution_inference;
  }
  return nnp_ext_convolution_output;
}

// The algorithm a call would run (auto resolved); asserts that the extension accepts the call.
Algorithm Resolve(ConvOp op, Algorithm algorithm, const ConvShape& s,
                  nnp_convolution_transform_strategy strategy = nnp_convolution_transform_strategy_compute) {
  Algorithm chosen = static_cast<Algorithm>(7);
  const nnp_status status = nnp_ext_convolution_algorithm(ExtOp(op), algorithm, strategy, s.batch, s.input_channels,
                                                          s.output_channels, s.input, s.padding, s.kernel, s.stride,
                                                          &chosen);
  EXPECT_EQ(status, nnp_status_success) << "nnp_ext_convolution_algorithm";
  return chosen;
}

using api_test::ConvData;

struct CallOptions {
  bool relu = false;
  bool bias = true;
  nnp_convolution_transform_strategy strategy = nnp_convolution_transform_strategy_compute;
  const float* kernel = nullptr;  // overrides d.kernel (reuse: the transformed kernel)
  void* workspace = nullptr;
  size_t* workspace_size = nullptr;
  pthreadpool_t pool = nullptr;
  nnp_profile* profile = nullptr;
};

nnp_status Call(ConvOp op, Algorithm algorithm, const ConvShape& s, const ConvData& d, const CallOptions& o,
                float* result) {
  const float* kernel = o.kernel ? o.kernel : d.kernel.data();
  const float* bias = o.bias ? d.bias.data() : nullptr;
  const nnp_activation activation = o.relu ? nnp_activation_relu : nnp_activation_identity;
  switch (op) {
    case ConvOp::output:
      return nnp_convolution_output(algorithm, s.batch, s.input_channels, s.output_channels, s.input, s.padding,
                                    s.kernel, d.input.data(), kernel, bias, result, o.workspace, o.workspace_size,
                                    activation, nullptr, o.pool, o.profile);
    case ConvOp::input_gradient:
      return nnp_convolution_input_gradient(algorithm, s.batch, s.input_channels, s.output_channels, s.input,
                                            s.padding, s.kernel, d.grad_output.data(), kernel, result, o.workspace,
                                            o.workspace_size, nnp_activation_identity, nullptr, o.pool, o.profile);
    case ConvOp::kernel_gradient:
      return nnp_convolution_kernel_gradient(algorithm, s.batch, s.input_channels, s.output_channels, s.input,
                                             s.padding, s.kernel, d.input.data(), d.grad_output.data(), result,
                                             o.workspace, o.workspace_size, nnp_activation_identity, nullptr, o.pool,
                                             o.profile);
    case ConvOp::inference:
      return nnp_convolution_inference(algorithm, o.strategy, s.input_channels, s.output_channels, s.input, s.padding,
                                       s.kernel, s.stride, d.input.data(), kernel, bias, result, o.workspace,
                                       o.workspace_size, activation, nullptr, o.pool, o.profile);
  }
  return nnp_status_success;
}

// Runs a call into a fresh NaN-filled result.
std::vector<float> RunInto(ConvOp op, Algorithm algorithm, const ConvShape& s, const ConvData& d, const CallOptions& o,
                           nnp_status* status) {
  std::vector<float> result(ResultElements(op, s), kNaN);
  *status = Call(op, algorithm, s, d, o, result.data());
  return result;
}

Exact ExactResult(ConvOp op, const ConvShape& s, const ConvData& d, bool relu, bool bias) {
  switch (op) {
    case ConvOp::output:
    case ConvOp::inference: return api_test::ExactForward(s, d.input, d.kernel, bias ? d.bias.data() : nullptr, relu);
    case ConvOp::input_gradient: return api_test::ExactInputGradient(s, d.grad_output, d.kernel);
    case ConvOp::kernel_gradient: return api_test::ExactKernelGradient(s, d.input, d.grad_output);
  }
  return Exact{};
}

std::vector<Algorithm> ServingAlgorithms(ConvOp op, const ConvShape& s) {
  std::vector<Algorithm> algorithms;
  for (Algorithm a : api_test::kAllAlgorithms) {
    if (api_test::AlgorithmServes(op, a, s.kernel.height, s.kernel.width, s.stride.height, s.stride.width)) {
      algorithms.push_back(a);
    }
  }
  return algorithms;
}

std::string AlgorithmName(Algorithm a) {
  const char* name = nnp_ext_algorithm_name(a);
  return name ? name : "algorithm " + std::to_string(int(a));
}

// ============================================================================================
// The cases
// ============================================================================================

struct ConvCase {
  const char* name;
  ConvShape shape;  // batch: for output and the gradients; inference runs batch 1
  bool relu;
  bool bias;
};

void PrintTo(const ConvCase& c, std::ostream* out) { *out << c.name; }

ConvShape Shape(size_t batch, size_t cin, size_t cout, size_t h, size_t w, nnp_padding pad, size_t kh, size_t kw,
                size_t stride_h = 1, size_t stride_w = 1) {
  ConvShape s;
  s.batch = batch;
  s.input_channels = cin;
  s.output_channels = cout;
  s.input = {w, h};
  s.padding = pad;
  s.kernel = {kw, kh};
  s.stride = {stride_w, stride_h};
  return s;
}

const nnp_padding kNoPad{0, 0, 0, 0};
const nnp_padding kPad1{1, 1, 1, 1};

// Cases with stride 1 run through all four entry points; strided ones through inference only.
const ConvCase kCases[] = {
    {"image1x1_kernel1x1", Shape(1, 1, 1, 1, 1, kNoPad, 1, 1), false, true},
    {"image1x1_kernel3x3_pad1", Shape(2, 3, 3, 1, 1, kPad1, 3, 3), true, true},
    {"image1x11_kernel1x7", Shape(2, 3, 2, 1, 11, {0, 1, 0, 2}, 1, 7), false, false},
    {"image11x1_kernel7x1", Shape(1, 2, 3, 11, 1, {3, 0, 0, 0}, 7, 1), true, true},
    {"image1x9_kernel3x3_pad1", Shape(2, 3, 4, 1, 9, kPad1, 3, 3), false, true},
    {"image9x1_kernel3x3_pad1", Shape(1, 4, 3, 9, 1, kPad1, 3, 3), true, false},
    {"odd7x9_pad_top_only", Shape(2, 3, 17, 7, 9, {1, 0, 0, 0}, 3, 3), true, true},
    {"odd9x7_pad_right_only", Shape(1, 17, 3, 9, 7, {0, 2, 0, 0}, 3, 3), false, false},
    {"odd11x9_pad_bottom_only", Shape(2, 1, 1, 11, 9, {0, 0, 2, 0}, 3, 3), false, true},
    {"odd9x11_pad_left_only", Shape(5, 3, 5, 9, 11, {0, 0, 0, 1}, 3, 3), true, true},
    {"kernel2x2", Shape(2, 3, 4, 10, 9, {1, 0, 0, 1}, 2, 2), false, true},
    {"kernel5x5_17_channels", Shape(1, 17, 3, 13, 12, {2, 2, 2, 2}, 5, 5), true, true},
    {"kernel5x5_32x32", Shape(1, 3, 3, 32, 32, {2, 2, 2, 2}, 5, 5), false, false},
    {"kernel8x8", Shape(2, 3, 2, 15, 13, {3, 4, 4, 3}, 8, 8), false, true},
    {"kernel9x9", Shape(1, 3, 3, 17, 19, {4, 4, 4, 4}, 9, 9), true, false},
    {"kernel16x16", Shape(1, 2, 3, 20, 18, {0, 1, 2, 3}, 16, 16), false, true},
    {"kernel16x16_exact_fit", Shape(2, 3, 2, 16, 16, kNoPad, 16, 16), true, true},
    {"image2x2_smaller_than_kernel3x3", Shape(1, 3, 2, 2, 2, kPad1, 3, 3), false, true},
    {"batch5_12x12", Shape(5, 3, 5, 12, 12, kPad1, 3, 3), true, true},
    {"channels17_32x32", Shape(1, 17, 17, 32, 32, kPad1, 3, 3), false, true},
    {"kernel9x9_17_channels_32x32", Shape(1, 17, 5, 32, 32, {4, 4, 4, 4}, 9, 9), true, true},
    {"kernel16x16_17_channels_24x24", Shape(1, 17, 3, 24, 24, {7, 8, 8, 7}, 16, 16), false, true},
    {"kernel5x5_batch5_17_channels", Shape(5, 17, 4, 11, 13, {2, 0, 1, 2}, 5, 5), true, false},
    {"kernel1x1_17_channels", Shape(2, 17, 3, 7, 5, kNoPad, 1, 1), true, true},
    {"kernel1x1_2x2_image", Shape(2, 1, 3, 2, 2, kNoPad, 1, 1), false, false},
    // inference only: strides (height x width)
    {"stride2x2_kernel3x3", Shape(1, 3, 4, 13, 12, kPad1, 3, 3, 2, 2), true, true},
    {"stride2x2_kernel3x3_even", Shape(1, 5, 3, 16, 16, kPad1, 3, 3, 2, 2), false, false},
    {"stride3x3_kernel5x5", Shape(1, 3, 2, 17, 16, {2, 2, 2, 2}, 5, 5, 3, 3), false, true},
    {"stride2x1_kernel3x3", Shape(1, 3, 3, 11, 10, {1, 0, 1, 0}, 3, 3, 2, 1), true, true},
    {"stride1x2_kernel3x3", Shape(1, 3, 3, 11, 10, {0, 1, 0, 1}, 3, 3, 1, 2), false, true},
    {"stride2x2_kernel1x1", Shape(1, 17, 3, 9, 9, kNoPad, 1, 1, 2, 2), true, false},
    {"stride2x2_kernel9x9", Shape(1, 2, 3, 19, 17, {4, 4, 4, 4}, 9, 9, 2, 2), false, true},
    {"stride3x3_kernel1x7", Shape(1, 3, 2, 7, 20, {0, 3, 0, 3}, 1, 7, 3, 3), true, true},
    {"stride2x2_kernel17x17_gemm", Shape(1, 2, 2, 18, 18, {1, 1, 1, 1}, 17, 17, 2, 2), false, true},
    {"stride1_kernel17x17_gemm", Shape(1, 2, 2, 18, 17, {0, 0, 0, 1}, 17, 17), false, true},
};

bool Strided(const ConvShape& s) { return s.stride.height != 1 || s.stride.width != 1; }
bool KernelOver16(const ConvShape& s) { return s.kernel.height > 16 || s.kernel.width > 16; }

std::vector<ConvOp> OpsFor(const ConvShape& s) {
  if (Strided(s) || KernelOver16(s)) return {ConvOp::inference};
  return {ConvOp::output, ConvOp::input_gradient, ConvOp::kernel_gradient, ConvOp::inference};
}

// The shape an entry point sees: inference has no batch.
ConvShape ShapeFor(ConvOp op, ConvShape s) {
  if (op == ConvOp::inference) s.batch = 1;
  return s;
}

uint32_t SeedFor(size_t case_index, ConvOp op) { return 1000u + 10u * uint32_t(case_index) + uint32_t(op); }

class ConvolutionNumerics : public ::testing::TestWithParam<size_t> {};

TEST_P(ConvolutionNumerics, EveryAlgorithmMatchesTheExactConvolutionAndIsThreadCountIndependent) {
  const ConvCase& c = kCases[GetParam()];
  for (ConvOp op : OpsFor(c.shape)) {
    const ConvShape s = ShapeFor(op, c.shape);
    const uint32_t seed = SeedFor(GetParam(), op);
    api_test::PrintSeed(std::string(c.name) + " " + ConvOpName(op), seed);
    SCOPED_TRACE(std::string(ConvOpName(op)) + ": " + s.ToString() + (c.relu ? ", relu" : "") +
                 (c.bias ? ", bias" : ", bias NULL") + ", seed " + std::to_string(seed));
    const ConvData d = api_test::RandomConvData(s, seed);
    const bool forward = op == ConvOp::output || op == ConvOp::inference;
    const bool relu = forward && c.relu;
    const bool bias = forward && c.bias;
    const Exact exact = ExactResult(op, s, d, relu, bias);

    const std::vector<Algorithm> algorithms = ServingAlgorithms(op, s);
    ASSERT_FALSE(algorithms.empty());
    for (Algorithm algorithm : algorithms) {
      const Algorithm ran = Resolve(op, algorithm, s);
      SCOPED_TRACE("algorithm " + AlgorithmName(algorithm) + " (runs " + AlgorithmName(ran) + ")");
      CallOptions options;
      options.relu = relu;
      options.bias = bias;
      nnp_status status;
      const std::vector<float> reference = RunInto(op, algorithm, s, d, options, &status);
      ASSERT_EQ(status, nnp_status_success);
      const std::string error = api_test::CompareWithBound(reference, exact, [&](double abs_sum, size_t terms) {
        return AllowedError(ran, op, s, abs_sum, terms);
      });
      EXPECT_TRUE(error.empty()) << error;

      for (size_t threads : {size_t(1), size_t(2), size_t(4)}) {
        options.pool = SharedPool(threads);
        ASSERT_NE(options.pool, nullptr);
        const std::vector<float> got = RunInto(op, algorithm, s, d, options, &status);
        ASSERT_EQ(status, nnp_status_success) << api_test::PoolName(threads);
        const std::string diff = BitDifferences(reference, got);
        EXPECT_TRUE(diff.empty()) << api_test::PoolName(threads) << " vs NULL pool: " << diff;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, ConvolutionNumerics, ::testing::Range(size_t(0), std::size(kCases)),
                         [](const ::testing::TestParamInfo<size_t>& info) { return kCases[info.param].name; });

// A kernel of all zeros but one tap gives a shifted (and scaled) copy of the image: this pins
// down the layouts (kernel[out][in][kh][kw], NCHW, nnp_size width-first, padding clockwise from
// the top) independently of the test's reference loops. The tolerance leaves room for the
// rounding of transform-based algorithms on values up to 40.
TEST(ConvolutionLayout, SingleTapKernelShiftsTheImage) {
  // 1 input channel, 2 output channels, 5x4 image (h x w), 3x3 kernel, padding 1.
  // Output channel 0 has its single 1 at (ky=0, kx=2): out[y][x] = in[y-1][x+1] (0 outside).
  // Output channel 1 has 2 at (ky=2, kx=0):             out[y][x] = 2 * in[y+1][x-1].
  const ConvShape s = Shape(1, 1, 2, 5, 4, kPad1, 3, 3);
  ConvData d;
  d.input.resize(20);
  for (size_t i = 0; i < 20; i++) d.input[i] = float(i + 1);
  d.kernel.assign(18, 0.0f);
  d.kernel[0 * 9 + 0 * 3 + 2] = 1.0f;
  d.kernel[1 * 9 + 2 * 3 + 0] = 2.0f;
  d.bias = {0.0f, 0.0f};
  auto in = [&](long y, long x) -> float {
    if (y < 0 || y >= 5 || x < 0 || x >= 4) return 0.0f;
    return d.input[size_t(y * 4 + x)];
  };
  for (ConvOp op : {ConvOp::output, ConvOp::inference}) {
    for (Algorithm algorithm : ServingAlgorithms(op, s)) {
      SCOPED_TRACE(std::string(ConvOpName(op)) + " " + AlgorithmName(algorithm));
      nnp_status status;
      const std::vector<float> got = RunInto(op, algorithm, s, d, CallOptions{}, &status);
      ASSERT_EQ(status, nnp_status_success);
      for (long y = 0; y < 5; y++) {
        for (long x = 0; x < 4; x++) {
          EXPECT_NEAR(got[size_t(y * 4 + x)], in(y - 1, x + 1), 1e-3) << "channel 0 at " << y << "," << x;
          EXPECT_NEAR(got[size_t(20 + y * 4 + x)], 2.0f * in(y + 1, x - 1), 1e-3) << "channel 1 at " << y << "," << x;
        }
      }
    }
  }
}

// ============================================================================================
// Fused ReLU, bias, zeros
// ============================================================================================

TEST(ConvolutionActivation, FusedReluIsMaxOfConvolutionPlusBiasAndZero) {
  const ConvShape s = Shape(2, 3, 4, 7, 6, kPad1, 3, 3);
  const uint32_t seed = 77;
  api_test::PrintSeed("fused relu", seed);
  ConvData d = api_test::RandomConvData(s, seed);
  for (ConvOp op : {ConvOp::output, ConvOp::inference}) {
    const ConvShape shape = ShapeFor(op, s);
    for (Algorithm algorithm : ServingAlgorithms(op, shape)) {
      SCOPED_TRACE(std::string(ConvOpName(op)) + " " + AlgorithmName(algorithm));
      CallOptions plain, fused;
      fused.relu = true;
      nnp_status status;
      const std::vector<float> identity = RunInto(op, algorithm, shape, d, plain, &status);
      ASSERT_EQ(status, nnp_status_success);
      const std::vector<float> relu = RunInto(op, algorithm, shape, d, fused, &status);
      ASSERT_EQ(status, nnp_status_success);
      size_t negatives = 0;
      for (size_t i = 0; i < identity.size(); i++) {
        if (identity[i] < 0.0f) negatives++;
        // same algorithm and pool: the fused ReLU is applied to the same sum
        EXPECT_EQ(relu[i], std::max(identity[i], 0.0f)) << "element " << i;
      }
      EXPECT_GT(negatives, 0u) << "the data must exercise the ReLU";
    }
  }
}

TEST(ConvolutionActivation, AllZeroDataGivesExactZeros) {
  const ConvShape base = Shape(2, 3, 4, 9, 8, kPad1, 3, 3);
  const ConvShape big = Shape(1, 2, 2, 12, 12, {4, 4, 4, 4}, 9, 9);
  for (const ConvShape& shape : {base, big}) {
    for (ConvOp op : {ConvOp::output, ConvOp::input_gradient, ConvOp::kernel_gradient, ConvOp::inference}) {
      const ConvShape s = ShapeFor(op, shape);
      ConvData d;
      d.input.assign(s.input_elements(), 0.0f);
      d.kernel.assign(s.kernel_elements(), 0.0f);
      d.grad_output.assign(s.output_elements(), 0.0f);
      for (Algorithm algorithm : ServingAlgorithms(op, s)) {
        for (bool relu : {false, true}) {
          if (relu && (op == ConvOp::input_gradient || op == ConvOp::kernel_gradient)) continue;
          SCOPED_TRACE(std::string(ConvOpName(op)) + " " + AlgorithmName(algorithm) + (relu ? " relu" : "") + " " +
                       s.ToString());
          CallOptions o;
          o.relu = relu;
          o.bias = false;  // bias NULL = zeros
          nnp_status status;
          const std::vector<float> got = RunInto(op, algorithm, s, d, o, &status);
          ASSERT_EQ(status, nnp_status_success);
          for (size_t i = 0; i < got.size(); i++) {
            ASSERT_EQ(got[i], 0.0f) << "element " << i;
          }
        }
      }
    }
  }
}

TEST(ConvolutionActivation, NullBiasEqualsZeroBias) {
  const ConvShape s = Shape(2, 3, 4, 7, 6, kPad1, 3, 3);
  const uint32_t seed = 78;
  api_test::PrintSeed("null bias", seed);
  ConvData d = api_test::RandomConvData(s, seed);
  ConvData zero_bias = d;
  zero_bias.bias.assign(s.output_channels, 0.0f);
  for (ConvOp op : {ConvOp::output, ConvOp::inference}) {
    const ConvShape shape = ShapeFor(op, s);
    for (Algorithm algorithm : ServingAlgorithms(op, shape)) {
      SCOPED_TRACE(std::string(ConvOpName(op)) + " " + AlgorithmName(algorithm));
      CallOptions null_bias;
      null_bias.bias = false;
      nnp_status status;
      const std::vector<float> a = RunInto(op, algorithm, shape, d, null_bias, &status);
      ASSERT_EQ(status, nnp_status_success);
      const std::vector<float> b = RunInto(op, algorithm, shape, zero_bias, CallOptions{}, &status);
      ASSERT_EQ(status, nnp_status_success);
      for (size_t i = 0; i < a.size(); i++) {
        EXPECT_EQ(a[i], b[i]) << "element " << i;  // +0 == -0: adding a zero bias may change the sign of 0
      }
    }
  }
}

// ============================================================================================
// Workspace protocol
// ============================================================================================

struct WorkspaceCase {
  ConvOp op;
  Algorithm algorithm;
};

TEST(ConvolutionWorkspace, QueryExactInsufficientMisaligned) {
  const ConvShape base = Shape(2, 3, 4, 9, 7, kPad1, 3, 3);
  for (ConvOp op : {ConvOp::output, ConvOp::input_gradient, ConvOp::kernel_gradient, ConvOp::inference}) {
    const ConvShape s = ShapeFor(op, base);
    const uint32_t seed = 300 + uint32_t(op);
    api_test::PrintSeed(std::string("workspace ") + ConvOpName(op), seed);
    const ConvData d = api_test::RandomConvData(s, seed);
    for (Algorithm algorithm : ServingAlgorithms(op, s)) {
      for (size_t threads : {size_t(0), size_t(2)}) {
        SCOPED_TRACE(std::string(ConvOpName(op)) + " " + AlgorithmName(algorithm) + ", " + api_test::PoolName(threads));
        CallOptions o;
        o.relu = op == ConvOp::output || op == ConvOp::inference;
        o.pool = SharedPool(threads);

        // 1. A size query with every data pointer NULL.
        size_t size_without_data = 0xDEADBEEF;
        {
          const nnp_activation activation = o.relu ? nnp_activation_relu : nnp_activation_identity;
          nnp_status status = nnp_status_success;
          switch (op) {
            case ConvOp::output:
              status = nnp_convolution_output(algorithm, s.batch, s.input_channels, s.output_channels, s.input,
                                              s.padding, s.kernel, nullptr, nullptr, nullptr, nullptr, nullptr,
                                              &size_without_data, activation, nullptr, o.pool, nullptr);
              break;
            case ConvOp::input_gradient:
              status = nnp_convolution_input_gradient(algorithm, s.batch, s.input_channels, s.output_channels, s.input,
                                                      s.padding, s.kernel, nullptr, nullptr, nullptr, nullptr,
                                                      &size_without_data, activation, nullptr, o.pool, nullptr);
              break;
            case ConvOp::kernel_gradient:
              status = nnp_convolution_kernel_gradient(algorithm, s.batch, s.input_channels, s.output_channels, s.input,
                                                       s.padding, s.kernel, nullptr, nullptr, nullptr, nullptr,
                                                       &size_without_data, activation, nullptr, o.pool, nullptr);
              break;
            case ConvOp::inference:
              status = nnp_convolution_inference(algorithm, nnp_convolution_transform_strategy_compute,
                                                 s.input_channels, s.output_channels, s.input, s.padding, s.kernel,
                                                 s.stride, nullptr, nullptr, nullptr, nullptr, nullptr,
                                                 &size_without_data, activation, nullptr, o.pool, nullptr);
              break;
          }
          ASSERT_EQ(status, nnp_status_success) << "size query with NULL data pointers";
          EXPECT_GT(size_without_data, 0u);
          EXPECT_NE(size_without_data, size_t(0xDEADBEEF));
          EXPECT_EQ(size_without_data % 64, 0u) << "size " << size_without_data;
        }

        // 2. A size query with data computes nothing.
        size_t size = 0xDEADBEEF;
        {
          CallOptions query = o;
          query.workspace_size = &size;
          nnp_status status;
          const std::vector<float> untouched = RunInto(op, algorithm, s, d, query, &status);
          ASSERT_EQ(status, nnp_status_success);
          EXPECT_EQ(size, size_without_data);
          const std::vector<float> nan(untouched.size(), kNaN);
          EXPECT_EQ(BitDifferences(untouched, nan), "") << "a size query wrote the result";
        }

        // 3. Internal allocation vs a caller's buffer of exactly that size.
        nnp_status status;
        const std::vector<float> internal = RunInto(op, algorithm, s, d, o, &status);
        ASSERT_EQ(status, nnp_status_success);
        {
          AlignedBytes buffer(size);
          CallOptions exact = o;
          size_t exact_size = size;
          exact.workspace = buffer.data();
          exact.workspace_size = &exact_size;
          const std::vector<float> got = RunInto(op, algorithm, s, d, exact, &status);
          ASSERT_EQ(status, nnp_status_success);
          EXPECT_EQ(BitDifferences(internal, got), "") << "caller's workspace vs internal allocation";
          // and again, reusing the (now dirty) workspace
          const std::vector<float> again = RunInto(op, algorithm, s, d, exact, &status);
          ASSERT_EQ(status, nnp_status_success);
          EXPECT_EQ(BitDifferences(internal, again), "") << "second call on the same workspace";
        }

        // 4. One byte short: 53. The same buffer 4 bytes past alignment: 54.
        {
          AlignedBytes buffer(size);
          CallOptions short_by_one = o;
          size_t short_size = size - 1;
          short_by_one.workspace = buffer.data();
          short_by_one.workspace_size = &short_size;
          RunInto(op, algorithm, s, d, short_by_one, &status);
          EXPECT_EQ(status, nnp_status_insufficient_buffer);

          CallOptions misaligned = o;
          size_t misaligned_size = size;
          misaligned.workspace = buffer.data() + 4;
          misaligned.workspace_size = &misaligned_size;
          const std::vector<float> untouched = RunInto(op, algorithm, s, d, misaligned, &status);
          EXPECT_EQ(status, nnp_status_misaligned_buffer);
          EXPECT_TRUE(api_test::AllNaN(untouched)) << "a misaligned-buffer failure wrote the result";
        }
      }
    }
  }
}

// The library keeps its internal workspace per calling thread and grows it: calls of a
// small, a large and again the small problem without a workspace give the same bits as
// with a caller's buffer, and so do calls from another thread (its own workspace).
TEST(ConvolutionWorkspace, InternalWorkspaceIsKeptGrownAndPerThread) {
  const ConvShape small = Shape(1, 3, 5, 9, 7, kPad1, 3, 3);
  const ConvShape large = Shape(2, 33, 20, 30, 26, kPad1, 3, 3);
  auto with_buffer = [](Algorithm algorithm, const ConvShape& s, const ConvData& d) {
    size_t size = 0;
    CallOptions query;
    query.workspace_size = &size;
    nnp_status status;
    RunInto(ConvOp::output, algorithm, s, d, query, &status);
    EXPECT_EQ(status, nnp_status_success);
    AlignedBytes buffer(size);
    CallOptions o;
    o.workspace = buffer.data();
    o.workspace_size = &size;
    std::vector<float> result = RunInto(ConvOp::output, algorithm, s, d, o, &status);
    EXPECT_EQ(status, nnp_status_success);
    return result;
  };
  const ConvData small_data = api_test::RandomConvData(small, 910), large_data = api_test::RandomConvData(large, 911);
  for (Algorithm algorithm : {nnp_convolution_algorithm_wt8x8, nnp_convolution_algorithm_ft8x8,
                              nnp_convolution_algorithm_ft16x16}) {
    SCOPED_TRACE(AlgorithmName(algorithm));
    const std::vector<float> small_expected = with_buffer(algorithm, small, small_data);
    const std::vector<float> large_expected = with_buffer(algorithm, large, large_data);
    auto internal = [&](const ConvShape& s, const ConvData& d) {
      nnp_status status;
      std::vector<float> result = RunInto(ConvOp::output, algorithm, s, d, CallOptions{}, &status);
      EXPECT_EQ(status, nnp_status_success);
      return result;
    };
    EXPECT_EQ(BitDifferences(internal(small, small_data), small_expected), "") << "small, first";
    EXPECT_EQ(BitDifferences(internal(large, large_data), large_expected), "") << "large: the workspace grows";
    EXPECT_EQ(BitDifferences(internal(small, small_data), small_expected), "") << "small again, dirty workspace";
    std::vector<float> from_thread;
    std::thread([&] { from_thread = internal(large, large_data); }).join();
    EXPECT_EQ(BitDifferences(from_thread, large_expected), "") << "another calling thread";
  }
}

// ============================================================================================
// Precompute and reuse (inference)
// ============================================================================================

struct PrecomputeCase {
  Algorithm algorithm;
  size_t kernel;    // square
  size_t stride;    // square
  size_t bound_tile;  // the transformed kernel is at most Cout*Cin*tile*tile floats; 0: no bound asserted
};

nnp_status Precompute(Algorithm algorithm, const ConvShape& s, const float* input, const float* kernel,
                      const float* bias, float* output, void* buffer, size_t* size, pthreadpool_t pool) {
  return nnp_convolution_inference(algorithm, nnp_convolution_transform_strategy_precompute, s.input_channels,
                                   s.output_channels, s.input, s.padding, s.kernel, s.stride, input, kernel, bias,
                                   output, buffer, size, nnp_activation_identity, nullptr, pool, nullptr);
}

const PrecomputeCase kPrecomputeCases[] = {
    {nnp_convolution_algorithm_wt8x8, 3, 1, 8},
    {nnp_convolution_algorithm_wt8x8, 3, 2, 8},
    {nnp_convolution_algorithm_wt8x8_fp16, 3, 1, 0},
    {nnp_convolution_algorithm_ft8x8, 3, 1, 8},
    {nnp_convolution_algorithm_ft8x8, 5, 1, 8},
    {nnp_convolution_algorithm_ft16x16, 3, 1, 16},
    {nnp_convolution_algorithm_ft16x16, 9, 1, 16},
    {nnp_convolution_algorithm_implicit_gemm, 3, 1, 0},
    {nnp_convolution_algorithm_implicit_gemm, 3, 2, 0},
    {nnp_convolution_algorithm_implicit_gemm, 1, 1, 0},
};

class ConvolutionPrecompute : public ::testing::TestWithParam<size_t> {};

TEST_P(ConvolutionPrecompute, SizeIsInputIndependentAndReuseEqualsCompute) {
  const PrecomputeCase& pc = kPrecomputeCases[GetParam()];
  const size_t k = pc.kernel, pad = k / 2;
  const ConvShape s = Shape(1, 3, 5, 11, 10, {pad, pad, pad, pad}, k, k, pc.stride, pc.stride);
  const uint32_t seed = 500 + uint32_t(GetParam());
  api_test::PrintSeed("precompute", seed);
  SCOPED_TRACE(AlgorithmName(pc.algorithm) + " " + s.ToString() + ", seed " + std::to_string(seed));
  const ConvData d = api_test::RandomConvData(s, seed);

  // Size query: every data pointer NULL; the size does not depend on the input size.
  size_t size = 0, size_large = 0, size_small = 0;
  ASSERT_EQ(Precompute(pc.algorithm, s, nullptr, nullptr, nullptr, nullptr, nullptr, &size, nullptr),
            nnp_status_success);
  EXPECT_GT(size, 0u);
  ConvShape large = s, small = s;
  large.input = {100, 100};
  small.input = {7, 7};
  ASSERT_EQ(Precompute(pc.algorithm, large, nullptr, nullptr, nullptr, nullptr, nullptr, &size_large, nullptr),
            nnp_status_success);
  ASSERT_EQ(Precompute(pc.algorithm, small, nullptr, nullptr, nullptr, nullptr, nullptr, &size_small, nullptr),
            nnp_status_success);
  EXPECT_EQ(size_large, size_small) << "transformed-kernel size depends on the input size";
  EXPECT_EQ(size, size_small);
  if (pc.bound_tile != 0) {
    EXPECT_LE(size, s.output_channels * s.input_channels * pc.bound_tile * pc.bound_tile * sizeof(float));
  }

  // Precompute into a buffer of exactly that size; output (NaN) stays untouched.
  AlignedBytes transformed(size);
  {
    std::vector<float> output(s.output_elements(), kNaN);
    size_t buffer_size = size;
    ASSERT_EQ(Precompute(pc.algorithm, s, d.input.data(), d.kernel.data(), d.bias.data(), output.data(),
                         transformed.data(), &buffer_size, nullptr),
              nnp_status_success);
    EXPECT_EQ(BitDifferences(output, std::vector<float>(output.size(), kNaN)), "") << "precompute wrote output";
  }
  // The same with input, bias and output NULL (as Caffe2 calls it) gives the same bytes.
  {
    AlignedBytes again(size);
    size_t buffer_size = size;
    ASSERT_EQ(Precompute(pc.algorithm, s, nullptr, d.kernel.data(), nullptr, nullptr, again.data(), &buffer_size,
                         SharedPool(2)),
              nnp_status_success);
    EXPECT_EQ(std::memcmp(again.data(), transformed.data(), size), 0) << "precompute is not deterministic";
  }

  const Exact exact = api_test::ExactForward(s, d.input, d.kernel, d.bias.data(), true);
  const Algorithm ran = Resolve(ConvOp::inference, pc.algorithm, s, nnp_convolution_transform_strategy_reuse);
  std::vector<float> computed_null_pool;
  for (size_t threads : {size_t(0), size_t(2)}) {
    SCOPED_TRACE(api_test::PoolName(threads));
    CallOptions compute;
    compute.relu = true;
    compute.pool = SharedPool(threads);
    nnp_status status;
    const std::vector<float> computed = RunInto(ConvOp::inference, pc.algorithm, s, d, compute, &status);
    ASSERT_EQ(status, nnp_status_success);
    if (threads == 0) computed_null_pool = computed;

    CallOptions reuse = compute;
    reuse.strategy = nnp_convolution_transform_strategy_reuse;
    reuse.kernel = reinterpret_cast<const float*>(transformed.data());
    const std::vector<float> reused = RunInto(ConvOp::inference, pc.algorithm, s, d, reuse, &status);
    ASSERT_EQ(status, nnp_status_success);
    EXPECT_EQ(BitDifferences(computed, reused), "") << "reuse vs compute, same algorithm and pool";
    const std::string error = api_test::CompareWithBound(reused, exact, [&](double abs_sum, size_t terms) {
      return AllowedError(ran, ConvOp::inference, s, abs_sum, terms);
    });
    EXPECT_TRUE(error.empty()) << error;

    // reuse with a caller's workspace of the queried size
    size_t ws_size = 0;
    CallOptions query = reuse;
    query.workspace_size = &ws_size;
    RunInto(ConvOp::inference, pc.algorithm, s, d, query, &status);
    ASSERT_EQ(status, nnp_status_success);
    AlignedBytes ws(ws_size);
    CallOptions with_ws = reuse;
    with_ws.workspace = ws.data();
    with_ws.workspace_size = &ws_size;
    const std::vector<float> reused_ws = RunInto(ConvOp::inference, pc.algorithm, s, d, with_ws, &status);
    ASSERT_EQ(status, nnp_status_success);
    EXPECT_EQ(BitDifferences(computed, reused_ws), "") << "reuse with a caller's workspace";
  }

  // Callers keep transformed kernels across threads: two threads reuse it at once.
  std::atomic<int> failures{0};
  auto worker = [&] {
    for (int iteration = 0; iteration < 3; iteration++) {
      CallOptions reuse;
      reuse.relu = true;
      reuse.strategy = nnp_convolution_transform_strategy_reuse;
      reuse.kernel = reinterpret_cast<const float*>(transformed.data());
      nnp_status status;
      const std::vector<float> got = RunInto(ConvOp::inference, pc.algorithm, s, d, reuse, &status);
      if (status != nnp_status_success || !BitDifferences(computed_null_pool, got).empty()) failures++;
    }
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0) << "concurrent reuse of one transformed kernel";
}

INSTANTIATE_TEST_SUITE_P(Cases, ConvolutionPrecompute, ::testing::Range(size_t(0), std::size(kPrecomputeCases)),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           const PrecomputeCase& pc = kPrecomputeCases[info.param];
                           return AlgorithmName(pc.algorithm) + "_k" + std::to_string(pc.kernel) + "_s" +
                                  std::to_string(pc.stride);
                         });

// ============================================================================================
// Profile
// ============================================================================================

TEST(ConvolutionProfile, EveryFieldIsWritten) {
  const ConvShape base = Shape(2, 3, 4, 9, 7, kPad1, 3, 3);
  for (ConvOp op : {ConvOp::output, ConvOp::input_gradient, ConvOp::kernel_gradient, ConvOp::inference}) {
    const ConvShape s = ShapeFor(op, base);
    const ConvData d = api_test::RandomConvData(s, 600);
    for (Algorithm algorithm : ServingAlgorithms(op, s)) {
      for (size_t threads : {size_t(0), size_t(2)}) {
        SCOPED_TRACE(std::string(ConvOpName(op)) + " " + AlgorithmName(algorithm) + " " + api_test::PoolName(threads));
        const double nan = std::numeric_limits<double>::quiet_NaN();
        nnp_profile profile{nan, nan, nan, nan, nan};
        CallOptions o;
        o.profile = &profile;
        o.pool = SharedPool(threads);
        nnp_status status;
        RunInto(op, algorithm, s, d, o, &status);
        ASSERT_EQ(status, nnp_status_success);
        const double fields[] = {profile.input_transform, profile.kernel_transform, profile.output_transform,
                                 profile.block_multiplication};
        EXPECT_TRUE(std::isfinite(profile.total));
        EXPECT_GE(profile.total, 0.0);
        for (double field : fields) {
          EXPECT_TRUE(std::isfinite(field));
          EXPECT_GE(field, 0.0);
          EXPECT_GE(profile.total, field);
        }
      }
    }
  }
}

}  // namespace
