// The four convolution entry points with algorithms ft8x8 and ft16x16, through the public
// API, against double-precision convolutions (tests/api_testing.h), with a norm-based
// error bound; thread-count independence; precompute/reuse; workspace sizes.
//
// ---- The error bound ---------------------------------------------------------------------
// An FFT convolution's rounding errors are spread over a whole tile: an output's error is
// proportional to the norms of the tile's data, not to its own terms. For an output
// element whose receptive field is R, every T x T tile that can contain R lies inside the
// (2T - K)-wide square around R, so with W the input (or gradient) data there,
//     S = sum over summed channels c of ||W_c||_2 * ||kernel_c||_2
// bounds the tile norms the result can depend on, and the test asserts
//     |got - exact| <= kFactor * eps * S            (eps = 2^-24).
// For the kernel gradient (a sum over all tiles of all images), with tile overlap factor
// m = ceil(T / (T - kh + 1)) * ceil(T / (T - kw + 1)),
//     S = sqrt(m) * sqrt(sum_b ||input_bi||^2) * sqrt(sum_b ||grad_output_bo||^2)
// (Cauchy-Schwarz over the tiles). The factors below are about 4x the largest measured
// ratios (printed as "[ measured ]"); a wrong twiddle or slot gives ratios near 1 / eps.
#include <nnjit.h>
#include <nnpack.h>

#include "tests/api_testing.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace {

const bool kInitialized = api_test::InitializeLibraryForAllTests();

using api_test::ConvOp;
using api_test::ConvShape;
using api_test::Exact;
using api_test::kNaN;
using api_test::ResultElements;
using Algorithm = nnp_convolution_algorithm;

constexpr double kEps = 0x1.0p-24;
// Bound factors per tile size (see the header comment).
// Largest measured ratios (all cases below): forward and input gradient 0.70 (ft8x8), 0.46
// (ft16x16); kernel gradient 0.44, 0.43.
constexpr double kForwardFactor[2] = {3.0, 2.0};  // ft8x8, ft16x16
constexpr double kKernelGradientFactor[2] = {2.0, 2.0};

size_t TileOf(Algorithm a) { return a == nnp_convolution_algorithm_ft8x8 ? 8 : 16; }
int TileIndex(Algorithm a) { return a == nnp_convolution_algorithm_ft8x8 ? 0 : 1; }
const char* Name(Algorithm a) { return a == nnp_convolution_algorithm_ft8x8 ? "ft8x8" : "ft16x16"; }

using Data = api_test::ConvData;

// Sums of squares over windows of a plane (h x w), clipped to it, from 2-D prefix sums.
class SquareSums {
 public:
  SquareSums(const float* plane, size_t h, size_t w) : h_(h), w_(w), prefix_((h + 1) * (w + 1), 0.0) {
    for (size_t y = 0; y < h; ++y)
      for (size_t x = 0; x < w; ++x) {
        const double v = plane[y * w + x];
        prefix_[(y + 1) * (w + 1) + x + 1] =
            v * v + prefix_[y * (w + 1) + x + 1] + prefix_[(y + 1) * (w + 1) + x] - prefix_[y * (w + 1) + x];
      }
  }
  // Sum over [y0, y0 + rows) x [x0, x0 + cols).
  double Window(ptrdiff_t y0, ptrdiff_t x0, size_t rows, size_t cols) const {
    const size_t ya = Clamp(y0, h_), yb = Clamp(y0 + ptrdiff_t(rows), h_);
    const size_t xa = Clamp(x0, w_), xb = Clamp(x0 + ptrdiff_t(cols), w_);
    if (ya >= yb || xa >= xb) return 0.0;
    return std::max(0.0, prefix_[yb * (w_ + 1) + xb] - prefix_[ya * (w_ + 1) + xb] - prefix_[yb * (w_ + 1) + xa] +
                             prefix_[ya * (w_ + 1) + xa]);
  }

 private:
  static size_t Clamp(ptrdiff_t v, size_t n) { return size_t(std::clamp<ptrdiff_t>(v, 0, ptrdiff_t(n))); }
  size_t h_, w_;
  std::vector<double> prefix_;
};

std::vector<SquareSums> Planes(const std::vector<float>& data, size_t planes, size_t h, size_t w) {
  std::vector<SquareSums> sums;
  for (size_t p = 0; p < planes; ++p) sums.emplace_back(data.data() + p * h * w, h, w);
  return sums;
}

double KernelNorm(const ConvShape& s, const std::vector<float>& kernel, size_t o, size_t i) {
  const size_t taps = s.kernel.height * s.kernel.width;
  double sum = 0.0;
  for (size_t t = 0; t < taps; ++t) {
    const double v = kernel[(o * s.input_channels + i) * taps + t];
    sum += v * v;
  }
  return std::sqrt(sum);
}

// S per result element (see the header comment).
std::vector<double> Scale(ConvOp op, const ConvShape& s, const Data& d, size_t tile) {
  const size_t kh = s.kernel.height, kw = s.kernel.width;
  const size_t ih = s.input.height, iw = s.input.width, oh = s.output_height(), ow = s.output_width();
  const size_t wr = 2 * tile - kh, wc = 2 * tile - kw;  // window around the receptive field
  std::vector<double> knorm(s.output_channels * s.input_channels);
  for (size_t o = 0; o < s.output_channels; ++o)
    for (size_t i = 0; i < s.input_channels; ++i) knorm[o * s.input_channels + i] = KernelNorm(s, d.kernel, o, i);
  std::vector<double> scale;
  if (op == ConvOp::output || op == ConvOp::inference) {
    const std::vector<SquareSums> in = Planes(d.input, s.batch * s.input_channels, ih, iw);
    for (size_t b = 0; b < s.batch; ++b)
      for (size_t o = 0; o < s.output_channels; ++o)
        for (size_t y = 0; y < oh; ++y)
          for (size_t x = 0; x < ow; ++x) {
            // receptive field rows y - pad.top .. + kh - 1 of the image, widened to the tile window
            const ptrdiff_t y0 = ptrdiff_t(y) - ptrdiff_t(s.padding.top) + ptrdiff_t(kh) - ptrdiff_t(tile);
            const ptrdiff_t x0 = ptrdiff_t(x) - ptrdiff_t(s.padding.left) + ptrdiff_t(kw) - ptrdiff_t(tile);
            double sum = 0.0;
            for (size_t i = 0; i < s.input_channels; ++i)
              sum += std::sqrt(in[b * s.input_channels + i].Window(y0, x0, wr, wc)) * knorm[o * s.input_channels + i];
            scale.push_back(sum);
          }
  } else if (op == ConvOp::input_gradient) {
    const std::vector<SquareSums> g = Planes(d.grad_output, s.batch * s.output_channels, oh, ow);
    for (size_t b = 0; b < s.batch; ++b)
      for (size_t i = 0; i < s.input_channels; ++i)
        for (size_t y = 0; y < ih; ++y)
          for (size_t x = 0; x < iw; ++x) {
            // grad_output rows y + pad.top - (kh - 1) .. y + pad.top, widened to the tile window
            const ptrdiff_t y0 = ptrdiff_t(y) + ptrdiff_t(s.padding.top) - ptrdiff_t(tile) + 1;
            const ptrdiff_t x0 = ptrdiff_t(x) + ptrdiff_t(s.padding.left) - ptrdiff_t(tile) + 1;
            double sum = 0.0;
            for (size_t o = 0; o < s.output_channels; ++o)
              sum += std::sqrt(g[b * s.output_channels + o].Window(y0, x0, wr, wc)) * knorm[o * s.input_channels + i];
            scale.push_back(sum);
          }
  } else {
    const double overlap = double((tile + tile - kh) / (tile - kh + 1)) * double((tile + tile - kw) / (tile - kw + 1));
    const std::vector<SquareSums> in = Planes(d.input, s.batch * s.input_channels, ih, iw);
    const std::vector<SquareSums> g = Planes(d.grad_output, s.batch * s.output_channels, oh, ow);
    for (size_t o = 0; o < s.output_channels; ++o)
      for (size_t i = 0; i < s.input_channels; ++i) {
        double xs = 0.0, gs = 0.0;
        for (size_t b = 0; b < s.batch; ++b) {
          xs += in[b * s.input_channels + i].Window(0, 0, ih, iw);
          gs += g[b * s.output_channels + o].Window(0, 0, oh, ow);
        }
        for (size_t t = 0; t < kh * kw; ++t) scale.push_back(std::sqrt(overlap * xs * gs));
      }
  }
  return scale;
}

Exact ExactResult(ConvOp op, const ConvShape& s, const Data& d, bool relu) {
  switch (op) {
    case ConvOp::output:
    case ConvOp::inference: return api_test::ExactForward(s, d.input, d.kernel, d.bias.data(), relu);
    case ConvOp::input_gradient: return api_test::ExactInputGradient(s, d.grad_output, d.kernel);
    case ConvOp::kernel_gradient: return api_test::ExactKernelGradient(s, d.input, d.grad_output);
  }
  return {};
}

struct Options {
  bool relu = false;
  pthreadpool_t pool = nullptr;
  nnp_convolution_transform_strategy strategy = nnp_convolution_transform_strategy_compute;
  const float* kernel = nullptr;  // reuse: the transformed kernel
  void* workspace = nullptr;
  size_t* workspace_size = nullptr;
};

nnp_status Call(ConvOp op, Algorithm a, const ConvShape& s, const Data& d, const Options& o, float* result) {
  const nnp_activation act = o.relu ? nnp_activation_relu : nnp_activation_identity;
  const float* kernel = o.kernel ? o.kernel : d.kernel.data();
  switch (op) {
    case ConvOp::output:
      return nnp_convolution_output(a, s.batch, s.input_channels, s.output_channels, s.input, s.padding, s.kernel,
                                    d.input.data(), kernel, d.bias.data(), result, o.workspace, o.workspace_size, act,
                                    nullptr, o.pool, nullptr);
    case ConvOp::input_gradient:
      return nnp_convolution_input_gradient(a, s.batch, s.input_channels, s.output_channels, s.input, s.padding,
                                            s.kernel, d.grad_output.data(), kernel, result, o.workspace,
                                            o.workspace_size, nnp_activation_identity, nullptr, o.pool, nullptr);
    case ConvOp::kernel_gradient:
      return nnp_convolution_kernel_gradient(a, s.batch, s.input_channels, s.output_channels, s.input, s.padding,
                                             s.kernel, d.input.data(), d.grad_output.data(), result, o.workspace,
                                             o.workspace_size, nnp_activation_identity, nullptr, o.pool, nullptr);
    case ConvOp::inference:
      return nnp_convolution_inference(a, o.strategy, s.input_channels, s.output_channels, s.input, s.padding,
                                       s.kernel, {1, 1}, d.input.data(), kernel, d.bias.data(), result, o.workspace,
                                       o.workspace_size, act, nullptr, o.pool, nullptr);
  }
  return nnp_status_success;
}

std::vector<float> RunConv(ConvOp op, Algorithm a, const ConvShape& s, const Data& d, const Options& o) {
  std::vector<float> result(ResultElements(op, s), kNaN);
  EXPECT_EQ(Call(op, a, s, d, o, result.data()), nnp_status_success);
  return result;
}

// Max of |got - exact| / (eps * S); fails the test where it exceeds `factor`.
double CheckBound(const std::vector<float>& got, const Exact& exact, const std::vector<double>& scale, double factor) {
  double worst = 0.0;
  size_t failures = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double error = std::fabs(double(got[i]) - exact.value[i]);
    const double ratio = error / (kEps * scale[i] + 1e-300);
    if (!(error <= factor * kEps * scale[i] + 1e-30)) {  // NaN fails
      if (failures++ < 3)
        ADD_FAILURE() << "element " << i << ": got " << got[i] << ", exact " << exact.value[i] << ", |err| / (eps S) = "
                      << ratio << " > " << factor;
    }
    if (std::isfinite(ratio)) worst = std::max(worst, ratio);
  }
  return worst;
}

ConvShape Shape(size_t batch, size_t cin, size_t cout, size_t h, size_t w, nnp_padding pad, size_t kh, size_t kw) {
  ConvShape s;
  s.batch = batch;
  s.input_channels = cin;
  s.output_channels = cout;
  s.input = {w, h};
  s.padding = pad;
  s.kernel = {kw, kh};
  return s;
}

struct Case {
  const char* name;
  Algorithm algorithm;
  ConvShape shape;
  bool relu;
};

constexpr Algorithm kFt8 = nnp_convolution_algorithm_ft8x8;
constexpr Algorithm kFt16 = nnp_convolution_algorithm_ft16x16;

nnp_padding Same(size_t kh, size_t kw) { return {kh / 2, (kw - 1) / 2, (kh - 1) / 2, kw / 2}; }

const Case kCases[] = {
    {"ft8_k1x1", kFt8, Shape(3, 5, 3, 9, 7, {0, 0, 0, 0}, 1, 1), false},
    {"ft8_k2x2", kFt8, Shape(1, 3, 5, 11, 10, {1, 0, 0, 1}, 2, 2), true},
    {"ft8_k3x3", kFt8, Shape(3, 9, 7, 13, 12, Same(3, 3), 3, 3), false},
    {"ft8_k5x5", kFt8, Shape(1, 17, 9, 14, 11, Same(5, 5), 5, 5), true},
    {"ft8_k7x7", kFt8, Shape(3, 3, 5, 12, 13, {3, 2, 1, 0}, 7, 7), false},
    {"ft8_k8x8", kFt8, Shape(1, 5, 3, 15, 9, {4, 3, 3, 4}, 8, 8), true},
    {"ft8_k3x5", kFt8, Shape(3, 3, 9, 10, 13, Same(3, 5), 3, 5), false},
    {"ft8_k1x7", kFt8, Shape(1, 7, 3, 6, 17, Same(1, 7), 1, 7), true},
    {"ft8_k7x1", kFt8, Shape(1, 3, 11, 17, 5, Same(7, 1), 7, 1), false},
    {"ft16_k3x3", kFt16, Shape(3, 9, 17, 23, 19, Same(3, 3), 3, 3), true},
    {"ft16_k9x9", kFt16, Shape(1, 5, 3, 21, 18, Same(9, 9), 9, 9), false},
    {"ft16_k11x11", kFt16, Shape(3, 3, 5, 19, 20, {5, 4, 3, 2}, 11, 11), true},
    {"ft16_k16x16", kFt16, Shape(1, 3, 3, 20, 17, {8, 7, 7, 8}, 16, 16), false},
    {"ft16_k3x5", kFt16, Shape(1, 7, 9, 18, 29, Same(3, 5), 3, 5), false},
    {"ft16_k1x7", kFt16, Shape(3, 3, 3, 9, 21, {0, 0, 0, 0}, 1, 7), true},
    {"ft16_k7x1", kFt16, Shape(1, 17, 5, 25, 6, Same(7, 1), 7, 1), false},
};

class FftConvolution : public ::testing::TestWithParam<size_t> {};

TEST_P(FftConvolution, MatchesTheExactResultAndIsThreadCountIndependent) {
  const Case& c = kCases[GetParam()];
  const size_t tile = TileOf(c.algorithm);
  for (ConvOp op : {ConvOp::output, ConvOp::input_gradient, ConvOp::kernel_gradient, ConvOp::inference}) {
    ConvShape s = c.shape;
    if (op == ConvOp::inference) s.batch = 1;
    const uint32_t seed = 7000u + 10u * uint32_t(GetParam()) + uint32_t(op);
    api_test::PrintSeed(std::string(c.name) + " " + api_test::ConvOpName(op), seed);
    SCOPED_TRACE(std::string(Name(c.algorithm)) + " " + api_test::ConvOpName(op) + ": " + s.ToString() +
                 ", seed " + std::to_string(seed));
    const Data d = api_test::RandomConvData(s, seed);
    const bool forward = op == ConvOp::output || op == ConvOp::inference;
    Options o;
    o.relu = forward && c.relu;
    const std::vector<float> got = RunConv(op, c.algorithm, s, d, o);
    const Exact exact = ExactResult(op, s, d, o.relu);
    const std::vector<double> scale = Scale(op, s, d, tile);
    const double factor = op == ConvOp::kernel_gradient ? kKernelGradientFactor[TileIndex(c.algorithm)]
                                                         : kForwardFactor[TileIndex(c.algorithm)];
    const double worst = CheckBound(got, exact, scale, factor);
    std::printf("[ measured ] %s %s %s: max |err| / (eps S) = %.3f\n", c.name, Name(c.algorithm),
                api_test::ConvOpName(op), worst);
    for (size_t threads : {size_t(1), size_t(2)}) {
      o.pool = api_test::SharedPool(threads);
      const std::vector<float> again = RunConv(op, c.algorithm, s, d, o);
      EXPECT_EQ(api_test::BitDifferences(got, again), "") << api_test::PoolName(threads) << " vs NULL pool";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, FftConvolution, ::testing::Range(size_t(0), std::size(kCases)),
                         [](const ::testing::TestParamInfo<size_t>& info) { return kCases[info.param].name; });

// Bigger channel counts and several blocks of tiles (the multiply-accumulate's channel
// blocking and the kernel gradient's accumulation over blocks and images).
TEST(FftConvolution, ManyChannelsAndTiles) {
  for (Algorithm a : {kFt8, kFt16}) {
    const ConvShape s = Shape(2, 67, 21, 45, 40, Same(5, 5), 5, 5);
    for (ConvOp op : {ConvOp::output, ConvOp::input_gradient, ConvOp::kernel_gradient}) {
      const uint32_t seed = 7900u + uint32_t(op) + 10u * uint32_t(a);
      api_test::PrintSeed(std::string("many ") + Name(a) + " " + api_test::ConvOpName(op), seed);
      SCOPED_TRACE(std::string(Name(a)) + " " + api_test::ConvOpName(op) + ": " + s.ToString());
      const Data d = api_test::RandomConvData(s, seed);
      Options o;
      o.pool = api_test::SharedPool(2);
      const std::vector<float> got = RunConv(op, a, s, d, o);
      const double factor =
          op == ConvOp::kernel_gradient ? kKernelGradientFactor[TileIndex(a)] : kForwardFactor[TileIndex(a)];
      const double worst = CheckBound(got, ExactResult(op, s, d, false), Scale(op, s, d, TileOf(a)), factor);
      std::printf("[ measured ] many channels %s %s: max |err| / (eps S) = %.3f\n", Name(a), api_test::ConvOpName(op),
                  worst);
    }
  }
}

TEST(FftConvolution, FusedReluIsMaxOfTheIdentityResult) {
  for (Algorithm a : {kFt8, kFt16}) {
    const ConvShape s = Shape(2, 5, 11, 13, 14, Same(3, 3), 3, 3);
    const Data d = api_test::RandomConvData(s, 7800);
    Options identity, relu;
    relu.relu = true;
    const std::vector<float> plain = RunConv(ConvOp::output, a, s, d, identity);
    const std::vector<float> fused = RunConv(ConvOp::output, a, s, d, relu);
    size_t negatives = 0;
    for (size_t i = 0; i < plain.size(); ++i) {
      negatives += plain[i] < 0.0f;
      EXPECT_EQ(fused[i], std::max(plain[i], 0.0f)) << Name(a) << " element " << i;
    }
    EXPECT_GT(negatives, 0u);
  }
}

// Precompute: the size does not depend on the input and is within Cout x Cin x T x T floats;
// reuse gives the bits of compute, with 1 and 2 threads and a caller's exact workspace.
// 75 output channels: compute transforms the kernel inside the multiply stage, two whole
// 8-channel blocks per task (paired calls) and then a whole and a partial single block.
TEST(FftConvolution, PrecomputeAndReuse) {
  for (Algorithm a : {kFt8, kFt16}) {
    for (size_t k : {size_t(3), size_t(5)}) for (size_t cout : {size_t(11), size_t(75)}) {
      const ConvShape s = Shape(1, 13, cout, 19, 17, Same(k, k), k, k);
      SCOPED_TRACE(std::string(Name(a)) + " " + s.ToString());
      const Data d = api_test::RandomConvData(s, 7700 + uint32_t(k));
      auto query = [&](nnp_size input) {
        size_t size = 0;
        EXPECT_EQ(nnp_convolution_inference(a, nnp_convolution_transform_strategy_precompute, s.input_channels,
                                            s.output_channels, input, s.padding, s.kernel, {1, 1}, nullptr, nullptr,
                                            nullptr, nullptr, nullptr, &size, nnp_activation_identity, nullptr,
                                            nullptr, nullptr),
                  nnp_status_success);
        return size;
      };
      const size_t size = query(s.input);
      EXPECT_EQ(size, query({100, 100}));
      EXPECT_EQ(size, query({4, 4}));
      const size_t tile = TileOf(a);
      EXPECT_LE(size, s.output_channels * s.input_channels * tile * tile * sizeof(float));
      api_test::AlignedBytes transformed(size);
      size_t buffer_size = size;
      ASSERT_EQ(nnp_convolution_inference(a, nnp_convolution_transform_strategy_precompute, s.input_channels,
                                          s.output_channels, s.input, s.padding, s.kernel, {1, 1}, nullptr,
                                          d.kernel.data(), nullptr, nullptr, transformed.data(), &buffer_size,
                                          nnp_activation_identity, nullptr, api_test::SharedPool(2), nullptr),
                nnp_status_success);
      for (size_t threads : {size_t(0), size_t(1), size_t(2)}) {
        Options compute;
        compute.relu = true;
        compute.pool = api_test::SharedPool(threads);
        const std::vector<float> computed = RunConv(ConvOp::inference, a, s, d, compute);
        Options reuse = compute;
        reuse.strategy = nnp_convolution_transform_strategy_reuse;
        reuse.kernel = reinterpret_cast<const float*>(transformed.data());
        size_t ws_size = 0;
        reuse.workspace_size = &ws_size;
        std::vector<float> unused(s.output_elements(), kNaN);
        ASSERT_EQ(Call(ConvOp::inference, a, s, d, reuse, unused.data()), nnp_status_success);
        api_test::AlignedBytes workspace(ws_size);
        reuse.workspace = workspace.data();
        const std::vector<float> reused = RunConv(ConvOp::inference, a, s, d, reuse);
        EXPECT_EQ(api_test::BitDifferences(computed, reused), "") << api_test::PoolName(threads);
      }
    }
  }
}

}  // namespace
