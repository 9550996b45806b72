// Winograd F(6x6, 3x3) and F(4x4, 3x3): the transform matrices (in double precision), the reference tile
// transforms against plain matrix products, and the JIT transforms against the reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "jit/code_memory.h"
#include "jit/kernel_cache.h"
#include "kernels/winograd/transforms.h"
#include "runtime/hardware.h"
#include "tests/winograd_testing.h"

namespace nnjit::winograd {
namespace {

using winograd_test::kUnitRoundoff;
using winograd_test::RandomVector;
using winograd_test::UlpDistance;

constexpr uint32_t kSeed = 20261126;
const float kNaN = std::numeric_limits<float>::quiet_NaN();

Isa this_isa() { return detect_hardware(nullptr).isa; }

void PrintSeed(uint32_t seed) { std::printf("[   seed   ] %u\n", seed); }

// ---- The matrices --------------------------------------------------------------------------

using Matrix = std::vector<std::vector<double>>;

Matrix Copy(const double* data, size_t rows, size_t columns) {
  Matrix m(rows, std::vector<double>(columns));
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < columns; ++j) m[i][j] = data[i * columns + j];
  return m;
}

Matrix BT() { return Copy(&kMatrixBT[0][0], 8, 8); }
Matrix G() { return Copy(&kMatrixG[0][0], 8, 3); }
Matrix AT() { return Copy(&kMatrixAT[0][0], 6, 8); }

// y = A^T [(G g) (.) (B^T d)] in one dimension.
std::vector<double> Winograd1d(const Matrix& at, const Matrix& g_matrix, const Matrix& bt, const double g[3],
                               const double d[8]) {
  std::vector<double> y(6, 0.0);
  for (size_t i = 0; i < 8; ++i) {
    double u = 0.0, v = 0.0;
    for (size_t k = 0; k < 3; ++k) u += g_matrix[i][k] * g[k];
    for (size_t j = 0; j < 8; ++j) v += bt[i][j] * d[j];
    for (size_t r = 0; r < 6; ++r) y[r] += at[r][i] * u * v;
  }
  return y;
}

TEST(WinogradMatrices, OneDimensionalPairIsAnExactCorrelation) {
  // Every basis pair, then random data: y[r] = sum_k g[k] d[r + k] for r < 6.
  const Matrix at = AT(), g_matrix = G(), bt = BT();
  for (size_t a = 0; a < 3; ++a) {
    for (size_t b = 0; b < 8; ++b) {
      double g[3] = {}, d[8] = {};
      g[a] = 1.0;
      d[b] = 1.0;
      const std::vector<double> y = Winograd1d(at, g_matrix, bt, g, d);
      for (size_t r = 0; r < 6; ++r)
        EXPECT_NEAR(y[r], r + a == b ? 1.0 : 0.0, 1e-13) << "g = e" << a << ", d = e" << b << ", output " << r;
    }
  }
  std::mt19937 rng(kSeed);
  PrintSeed(kSeed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (int trial = 0; trial < 100; ++trial) {
    double g[3], d[8];
    for (double& x : g) x = uniform(rng);
    for (double& x : d) x = uniform(rng);
    const std::vector<double> y = Winograd1d(at, g_matrix, bt, g, d);
    for (size_t r = 0; r < 6; ++r) EXPECT_NEAR(y[r], g[0] * d[r] + g[1] * d[r + 1] + g[2] * d[r + 2], 1e-13);
  }
}

// A^T built for the point 1/3 instead of 1/2 (G and B^T unchanged): a single wrong point makes
// 2-D errors far above the accuracy bound the convolution tests use.
TEST(WinogradMatrices, AWrongPointFailsTheAccuracyBound) {
  Matrix at = AT();
  for (size_t r = 0; r < 6; ++r) at[r][5] = std::pow(1.0 / 3.0, double(r));
  const Matrix g_matrix = G(), bt = BT();
  std::mt19937 rng(kSeed + 1);
  PrintSeed(kSeed + 1);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  double worst = 0.0;
  for (int trial = 0; trial < 10; ++trial) {
    double g[3][3], d[8][8];
    for (auto& row : g)
      for (double& x : row) x = uniform(rng);
    for (auto& row : d)
      for (double& x : row) x = uniform(rng);
    // Y = A^T [(G g G^T) (.) (B^T d B)] A
    double u[8][8] = {}, v[8][8] = {};
    for (size_t i = 0; i < 8; ++i)
      for (size_t j = 0; j < 8; ++j)
        for (size_t a = 0; a < 3; ++a)
          for (size_t b = 0; b < 3; ++b) u[i][j] += g_matrix[i][a] * g[a][b] * g_matrix[j][b];
    for (size_t i = 0; i < 8; ++i)
      for (size_t j = 0; j < 8; ++j)
        for (size_t a = 0; a < 8; ++a)
          for (size_t b = 0; b < 8; ++b) v[i][j] += bt[i][a] * d[a][b] * bt[j][b];
    for (size_t r = 0; r < 6; ++r) {
      for (size_t s = 0; s < 6; ++s) {
        double y = 0.0, exact = 0.0;
        for (size_t i = 0; i < 8; ++i)
          for (size_t j = 0; j < 8; ++j) y += at[r][i] * u[i][j] * v[i][j] * at[s][j];
        for (size_t a = 0; a < 3; ++a)
          for (size_t b = 0; b < 3; ++b) exact += g[a][b] * d[r + a][s + b];
        worst = std::max(worst, std::fabs(y - exact));
      }
    }
  }
  EXPECT_GT(worst, 100.0 * winograd_test::WinogradBound(1, 1.0, 1.0));
}

// ---- Reference transforms against matrix products -------------------------------------------

// Strides with gaps, several blocks/steps: the layouts of transforms.h.
// Each tile with its own strides: planar like an NCHW image, or compact like a scratch copy.
struct InputLayout {
  size_t blocks = 3;
  size_t row_stride(size_t tile) const { return tile % 2 == 0 ? 8 : 8 + 5 * tile; }
  size_t channel_stride(size_t tile) const { return 8 * row_stride(tile) + (tile % 3) * 7; }
  size_t tile_floats(size_t tile) const { return blocks * kLanes * channel_stride(tile); }
  size_t position_stride() const { return blocks * kLanes * kTileGroup + 5; }
  size_t input_floats() const {
    size_t n = 0;
    for (size_t k = 0; k < kTileGroup; ++k) n += tile_floats(k);
    return n;
  }
  size_t output_floats() const { return 63 * position_stride() + blocks * kLanes * kTileGroup; }
  struct Pointers {
    std::vector<const float*> tiles;
    std::vector<size_t> row_strides, channel_strides;
  };
  Pointers pointers(const std::vector<float>& input) const {
    Pointers p;
    const float* next = input.data();
    for (size_t k = 0; k < kTileGroup; ++k) {
      p.tiles.push_back(next);
      p.row_strides.push_back(row_stride(k));
      p.channel_strides.push_back(channel_stride(k));
      next += tile_floats(k);
    }
    return p;
  }
  InputTransformArgs args(const Pointers& p, size_t blocks_to_run, float* output) const {
    return {p.tiles.data(), p.row_strides.data(), p.channel_strides.data(), blocks_to_run, output, position_stride()};
  }
};

TEST(WinogradReference, InputTransformIsBTdB) {
  const InputLayout layout;
  std::mt19937 rng(kSeed + 2);
  PrintSeed(kSeed + 2);
  const std::vector<float> input = RandomVector(layout.input_floats(), rng);
  std::vector<float> output(layout.output_floats(), kNaN);
  const InputLayout::Pointers pointers = layout.pointers(input);
  const InputTransformArgs args = layout.args(pointers, layout.blocks, output.data());
  reference_input_transform()(&args);
  const Matrix bt = BT();
  for (size_t tile = 0; tile < kTileGroup; ++tile) {
    for (size_t b = 0; b < layout.blocks; ++b) {
      for (size_t l = 0; l < kLanes; ++l) {
        auto d = [&](size_t r, size_t s) {
          return double(pointers.tiles[tile][(b * kLanes + l) * layout.channel_stride(tile) +
                                             r * layout.row_stride(tile) + s]);
        };
        for (size_t i = 0; i < 8; ++i) {
          for (size_t j = 0; j < 8; ++j) {
            double exact = 0.0, magnitude = 0.0;
            for (size_t r = 0; r < 8; ++r)
              for (size_t s = 0; s < 8; ++s) {
                exact += bt[i][r] * d(r, s) * bt[j][s];
                magnitude += std::fabs(bt[i][r] * d(r, s) * bt[j][s]);
              }
            // Panels of the GEMM: channel-major, the 6 tiles contiguous.
            const float got = output[(i * 8 + j) * layout.position_stride() + (b * kLanes + l) * kTileGroup + tile];
            ASSERT_NEAR(got, exact, 16 * kUnitRoundoff * magnitude)
                << "tile " << tile << " block " << b << " lane " << l << " (" << i << "," << j << ")";
          }
        }
      }
    }
  }
}

struct KernelLayout {
  size_t groups = 2, steps = 5, lane_stride = 9 * 7 + 2, step_stride = 9, position_stride = 5 * 16 + 3,
         output_step = 16;
  size_t lanes() const { return kLanes * groups; }
  size_t input_floats() const { return (lanes() - 1) * lane_stride + (steps - 1) * step_stride + 9; }
  size_t output_floats() const { return 63 * position_stride + (steps - 1) * output_step + lanes(); }
};

TEST(WinogradReference, KernelTransformIsGgGT) {
  const KernelLayout layout;
  std::mt19937 rng(kSeed + 3);
  PrintSeed(kSeed + 3);
  const std::vector<float> kernel = RandomVector(layout.input_floats(), rng);
  const Matrix g_matrix = G();
  for (bool rotated : {false, true}) {
    SCOPED_TRACE(rotated ? "rotated" : "plain");
    std::vector<float> output(layout.output_floats(), kNaN);
    const KernelTransformArgs args{kernel.data(), layout.lane_stride, layout.step_stride, layout.steps, output.data(),
                                   layout.position_stride, layout.output_step, layout.groups};
    reference_kernel_transform(rotated)(&args);
    for (size_t k = 0; k < layout.steps; ++k) {
      for (size_t l = 0; l < layout.lanes(); ++l) {
        const float* taps = kernel.data() + l * layout.lane_stride + k * layout.step_stride;
        // The rotated kernel is the plain one turned by 180 degrees.
        auto g = [&](size_t a, size_t b) { return double(rotated ? taps[8 - (3 * a + b)] : taps[3 * a + b]); };
        for (size_t i = 0; i < 8; ++i) {
          for (size_t j = 0; j < 8; ++j) {
            double exact = 0.0, magnitude = 0.0;
            for (size_t a = 0; a < 3; ++a)
              for (size_t b = 0; b < 3; ++b) {
                exact += g_matrix[i][a] * g(a, b) * g_matrix[j][b];
                magnitude += std::fabs(g_matrix[i][a] * g(a, b) * g_matrix[j][b]);
              }
            const float got = output[(i * 8 + j) * layout.position_stride + k * layout.output_step + l];
            ASSERT_NEAR(got, exact, 16 * kUnitRoundoff * magnitude) << "step " << k << " lane " << l;
          }
        }
      }
    }
  }
}

struct OutputLayout {
  size_t blocks = 2, position_stride = 2 * 8 + 8 + 3, row_stride = 6 + 5, channel_stride = 6 * 11 + 7;
  size_t input_floats() const { return 63 * position_stride + blocks * 8; }
  size_t output_floats() const { return (blocks * 8 - 1) * channel_stride + 5 * row_stride + 6; }
};

class OutputVariants : public ::testing::TestWithParam<int> {
 protected:
  OutputVariant variant() const { return {(GetParam() & 1) != 0, (GetParam() & 2) != 0}; }
  std::string name() const {
    return std::string(variant().relu ? "relu" : "identity") + (variant().stride2 ? ", stride 2" : ", stride 1");
  }
};

TEST_P(OutputVariants, ReferenceIsATmAPlusBias) {
  const OutputLayout layout;
  const OutputVariant v = variant();
  SCOPED_TRACE(name());
  std::mt19937 rng(kSeed + 4);
  PrintSeed(kSeed + 4);
  const std::vector<float> input = RandomVector(layout.input_floats(), rng);
  const std::vector<float> bias = RandomVector(layout.blocks * 8, rng);
  std::vector<float> output(layout.output_floats(), kNaN);
  const OutputTransformArgs args{input.data(), layout.position_stride, bias.data(),     output.data(),
                                 layout.row_stride, layout.channel_stride, layout.blocks};
  reference_output_transform(v)(&args);
  const Matrix at = AT();
  const size_t step = v.stride2 ? 2 : 1;
  for (size_t c = 0; c < layout.blocks * 8; ++c) {
    for (size_t r = 0; r < 6; ++r) {
      for (size_t s = 0; s < 6; ++s) {
        const bool written = r % step == 0 && s % step == 0;
        const size_t at_index = c * layout.channel_stride + (r / step) * layout.row_stride + s / step;
        if (!written) continue;
        double exact = bias[c], magnitude = std::fabs(bias[c]);
        for (size_t i = 0; i < 8; ++i)
          for (size_t j = 0; j < 8; ++j) {
            const double term = at[r][i] * double(input[(i * 8 + j) * layout.position_stride + c]) * at[s][j];
            exact += term;
            magnitude += std::fabs(term);
          }
        if (v.relu) exact = std::max(exact, 0.0);
        ASSERT_NEAR(output[at_index], exact, 16 * kUnitRoundoff * magnitude) << "channel " << c << " (" << r << ","
                                                                             << s << ")";
      }
    }
  }
  // Nothing outside the outputs was written.
  size_t written = 0;
  for (float x : output) written += !std::isnan(x);
  EXPECT_EQ(written, layout.blocks * 8 * (v.stride2 ? 9 : 36));
}

// ---- JIT against reference ------------------------------------------------------------------

// Whole buffers (outputs and the gaps between them, pre-filled with NaN) must agree; values
// within 2 ulps (the JIT performs the reference's operations, so in practice they are equal).
void ExpectSameOutputs(const std::vector<float>& jit, const std::vector<float>& reference) {
  ASSERT_EQ(jit.size(), reference.size());
  int64_t worst = 0;
  for (size_t i = 0; i < jit.size(); ++i) {
    if (std::isnan(reference[i])) {
      ASSERT_TRUE(std::isnan(jit[i])) << "the JIT transform wrote element " << i << ", outside its outputs";
      continue;
    }
    ASSERT_FALSE(std::isnan(jit[i])) << "the JIT transform did not write element " << i;
    worst = std::max(worst, UlpDistance(jit[i], reference[i]));
  }
  EXPECT_LE(worst, 2) << "JIT and reference differ by up to " << worst << " ulps";
  std::printf("[   info   ] JIT vs reference: max %lld ulps\n", static_cast<long long>(worst));
}

// A JIT input transform against its reference on 0 (nothing written), 1 and 3 blocks.
void ExpectInputTransformMatchesReference(InputTransform jit, InputTransform reference, std::mt19937& rng) {
  for (size_t blocks : {0u, 1u, 3u}) {
    InputLayout layout;
    layout.blocks = std::max<size_t>(blocks, 1);
    const std::vector<float> input = RandomVector(layout.input_floats(), rng, -100.0f, 100.0f);
    const InputLayout::Pointers pointers = layout.pointers(input);
    std::vector<float> a(layout.output_floats(), kNaN), b = a;
    const InputTransformArgs ja = layout.args(pointers, blocks, a.data());
    const InputTransformArgs ra = layout.args(pointers, blocks, b.data());
    jit(&ja);
    reference(&ra);
    SCOPED_TRACE("blocks " + std::to_string(blocks));
    ExpectSameOutputs(a, b);
  }
}

TEST(WinogradJit, InputTransformMatchesReference) {
  const Isa isa = this_isa();
  const InputTransform jit = jit_input_transform(isa);
  if (jit == nullptr) GTEST_SKIP() << "no JIT input transform for " << isa_name(isa);
  std::mt19937 rng(kSeed + 5);
  PrintSeed(kSeed + 5);
  ExpectInputTransformMatchesReference(jit, reference_input_transform(), rng);
}

// A JIT kernel transform of `group_lanes` lanes per group (8: ymm, 16: zmm) against the
// reference on 1 and 2 groups per call; with `odd_rows`, rows of lanes (and positions) are
// not whole vectors apart.
void ExpectKernelTransformMatchesReference(KernelTransform jit, bool rotated, size_t group_lanes, bool odd_rows,
                                           std::mt19937& rng, KernelTransform reference = nullptr) {
  if (reference == nullptr) reference = reference_kernel_transform(rotated);
  for (size_t groups : {1u, 2u}) {
    for (size_t steps : {0u, 1u, 5u}) {
      KernelLayout layout;
      layout.groups = groups * group_lanes / kLanes;
      layout.steps = std::max<size_t>(steps, 1);
      if (odd_rows) {
        layout.output_step = layout.lanes() + 3;
        layout.position_stride = layout.steps * layout.output_step + 5;
      }
      const std::vector<float> kernel = RandomVector(layout.input_floats(), rng);
      std::vector<float> a(layout.output_floats(), kNaN), b = a;
      const KernelTransformArgs ja{kernel.data(), layout.lane_stride, layout.step_stride, steps, a.data(),
                                   layout.position_stride, layout.output_step, groups};
      KernelTransformArgs ra = ja;
      ra.output = b.data();
      ra.groups = layout.groups;
      jit(&ja);
      reference(&ra);
      SCOPED_TRACE(std::string(rotated ? "rotated" : "plain") + ", " + std::to_string(group_lanes) +
                   "-lane groups " + std::to_string(groups) + ", steps " + std::to_string(steps));
      ExpectSameOutputs(a, b);
    }
  }
}

TEST(WinogradJit, KernelTransformMatchesReference) {
  const Isa isa = this_isa();
  std::mt19937 rng(kSeed + 6);
  PrintSeed(kSeed + 6);
  for (bool rotated : {false, true}) {
    const KernelTransform jit = jit_kernel_transform(isa, rotated);
    if (jit == nullptr) GTEST_SKIP() << "no JIT kernel transform for " << isa_name(isa);
    ExpectKernelTransformMatchesReference(jit, rotated, 8, false, rng);
  }
}

// The 16-lane (zmm) kernel transform.
TEST(WinogradJit, WideKernelTransformMatchesReference) {
  const Isa isa = this_isa();
  std::mt19937 rng(kSeed + 8);
  PrintSeed(kSeed + 8);
  for (bool rotated : {false, true}) {
    const KernelTransform jit = jit_wide_kernel_transform(isa, rotated);
    if (jit == nullptr) GTEST_SKIP() << "no 16-lane JIT kernel transform for " << isa_name(isa);
    ExpectKernelTransformMatchesReference(jit, rotated, 16, true, rng);
  }
}

// A JIT output transform against its reference on 0 (nothing written), 1 and 2 blocks.
void ExpectOutputTransformMatchesReference(OutputTransform jit, OutputTransform reference, std::mt19937& rng) {
  for (size_t blocks : {0u, 1u, 2u}) {
    OutputLayout layout;
    layout.blocks = std::max<size_t>(blocks, 1);
    const std::vector<float> input = RandomVector(layout.input_floats(), rng, -10.0f, 10.0f);
    const std::vector<float> bias = RandomVector(layout.blocks * 8, rng);
    std::vector<float> a(layout.output_floats(), kNaN), b = a;
    const OutputTransformArgs ja{input.data(), layout.position_stride, bias.data(), a.data(),
                                 layout.row_stride, layout.channel_stride, blocks};
    OutputTransformArgs ra = ja;
    ra.output = b.data();
    jit(&ja);
    reference(&ra);
    SCOPED_TRACE("blocks " + std::to_string(blocks));
    ExpectSameOutputs(a, b);
  }
}

TEST_P(OutputVariants, JitMatchesReference) {
  const Isa isa = this_isa();
  const OutputVariant v = variant();
  const OutputTransform jit = jit_output_transform(isa, v);
  if (jit == nullptr) GTEST_SKIP() << "no JIT output transform for " << isa_name(isa);
  SCOPED_TRACE(name());
  std::mt19937 rng(kSeed + 7);
  PrintSeed(kSeed + 7);
  ExpectOutputTransformMatchesReference(jit, reference_output_transform(v), rng);
}

INSTANTIATE_TEST_SUITE_P(Variants, OutputVariants, ::testing::Range(0, 4), [](const auto& info) {
  return std::string(info.param & 1 ? "relu" : "identity") + (info.param & 2 ? "_stride2" : "_stride1");
});

TEST(WinogradJit, KeysNameTheKernels) {
  EXPECT_EQ(input_transform_key(Isa::avx2).name(), "f32_wt8x8_input_8x8_u1__avx2");
  EXPECT_EQ(kernel_transform_key(Isa::avx2, true).name(), "f32_wt8x8_kernel_rotated_8x8_u1__avx2");
  EXPECT_EQ(wide_kernel_transform_key(false).name(), "f32_wt8x8_kernel_8x8_u1__avx512");
  EXPECT_EQ(output_transform_key(Isa::avx512, {true, true}).name(), "f32_wt8x8_output_stride2_8x8_u1_relu__avx2");
}

// When code memory cannot be mapped, every transform is the reference one.
TEST(WinogradJit, FallsBackToReferenceWhenGenerationFails) {
  const Isa isa = this_isa();
  jit::clear_kernel_cache();
  jit::simulate_code_memory_failure(true);
  EXPECT_EQ(jit_input_transform(isa), nullptr);
  EXPECT_EQ(input_transform(isa), reference_input_transform());
  for (bool rotated : {false, true}) {
    EXPECT_EQ(jit_kernel_transform(isa, rotated), nullptr);
    EXPECT_EQ(kernel_transform(isa, rotated), reference_kernel_transform(rotated));
    EXPECT_EQ(jit_wide_kernel_transform(isa, rotated), nullptr);
  }
  for (int variant = 0; variant < 4; ++variant) {
    const OutputVariant v{(variant & 1) != 0, (variant & 2) != 0};
    EXPECT_EQ(jit_output_transform(isa, v), nullptr);
    EXPECT_EQ(output_transform(isa, v), reference_output_transform(v));
  }
  jit::simulate_code_memory_failure(false);
  jit::clear_kernel_cache();  // failures are cached too
}

// ---- F(4x4, 3x3) on 6x6 tiles (reference transforms only, so far) ---------------------------

Matrix SmallBT() { return Copy(&kSmallMatrixBT[0][0], 6, 6); }
Matrix SmallG() { return Copy(&kSmallMatrixG[0][0], 6, 3); }
Matrix SmallAT() { return Copy(&kSmallMatrixAT[0][0], 4, 6); }

TEST(WinogradSmallMatrices, OneDimensionalPairIsAnExactCorrelation) {
  const Matrix at = SmallAT(), g_matrix = SmallG(), bt = SmallBT();
  auto winograd = [&](const double g[3], const double d[6], size_t r) {
    double y = 0.0;
    for (size_t i = 0; i < 6; ++i) {
      double u = 0.0, v = 0.0;
      for (size_t k = 0; k < 3; ++k) u += g_matrix[i][k] * g[k];
      for (size_t j = 0; j < 6; ++j) v += bt[i][j] * d[j];
      y += at[r][i] * u * v;
    }
    return y;
  };
  for (size_t a = 0; a < 3; ++a)
    for (size_t b = 0; b < 6; ++b) {
      double g[3] = {}, d[6] = {};
      g[a] = 1.0;
      d[b] = 1.0;
      for (size_t r = 0; r < 4; ++r)
        EXPECT_NEAR(winograd(g, d, r), r + a == b ? 1.0 : 0.0, 1e-14) << "g = e" << a << ", d = e" << b << ", output " << r;
    }
}

// The three reference transforms chained on one tile and one channel pair (lane 0 of each
// transform) against the direct 3x3 correlation of the 6x6 window, data in [-1, 1]: the
// error in units of 2^-24 (measured: up to ~180 over 200 trials; the 8x8 F(6x6) transforms
// reach ~280 in the same harness, one wrong entry of a matrix thousands).
TEST(WinogradSmallReference, ChainedTransformsGiveTheCorrelation) {
  std::mt19937 rng(kSeed + 40);
  PrintSeed(kSeed + 40);
  double worst = 0.0;
  for (bool rotated : {false, true}) {
    for (int trial = 0; trial < 20; ++trial) {
      // Input: one block of 8 channels of kTileGroup compact 6x6 tiles; only channel 0 of tile 0 counts.
      const std::vector<float> input = RandomVector(kTileGroup * kLanes * 36, rng);
      std::vector<const float*> tiles;
      std::vector<size_t> row_strides(kTileGroup, 6), channel_strides(kTileGroup, 36);
      for (size_t t = 0; t < kTileGroup; ++t) tiles.push_back(input.data() + t * kLanes * 36);
      const size_t v_stride = kLanes * kTileGroup;
      std::vector<float> v(kSmallPositions * v_stride, kNaN);
      const InputTransformArgs in_args{tiles.data(), row_strides.data(), channel_strides.data(), 1, v.data(), v_stride};
      reference_small_input_transform()(&in_args);
      // Kernel: 8 lanes, one step.
      const std::vector<float> kernel = RandomVector(kLanes * 9, rng);
      std::vector<float> u(kSmallPositions * kLanes, kNaN);
      const KernelTransformArgs k_args{kernel.data(), 9, 9, 1, u.data(), kLanes, kLanes, 1};
      reference_small_kernel_transform(rotated)(&k_args);
      // Products of lane 0 (tile 0, channel 0) and lane 0 (output channel 0), into 8 lanes.
      std::vector<float> m(kSmallPositions * kLanes, 0.0f);
      for (size_t p = 0; p < kSmallPositions; ++p) m[p * kLanes] = v[p * v_stride] * u[p * kLanes];
      const float bias[kLanes] = {0.25f};
      std::vector<float> y(kLanes * 16, kNaN);
      const OutputTransformArgs o_args{m.data(), kLanes, bias, y.data(), 4, 16, 1};
      reference_small_output_transform(false)(&o_args);
      double scale = 0.0;
      for (size_t k = 0; k < 9; ++k) scale = std::max(scale, double(std::fabs(kernel[k])));
      for (size_t r = 0; r < 4; ++r)
        for (size_t s = 0; s < 4; ++s) {
          double exact = bias[0];
          for (size_t a = 0; a < 3; ++a)
            for (size_t b = 0; b < 3; ++b) {
              const size_t tap = rotated ? 8 - (3 * a + b) : 3 * a + b;
              exact += double(kernel[tap]) * input[(r + a) * 6 + s + b];
            }
          worst = std::max(worst, std::fabs(y[r * 4 + s] - exact) / (kUnitRoundoff * scale));
        }
    }
  }
  std::printf("[ measured ] F(4x4, 3x3) one channel pair: max |err| / (u max|g|) = %.2f\n", worst);
  EXPECT_LT(worst, 256.0);
}

// The reference transforms against plain matrix products, lane by lane.
TEST(WinogradSmallReference, TransformsAreTheMatrixProducts) {
  std::mt19937 rng(kSeed + 41);
  PrintSeed(kSeed + 41);
  const Matrix bt = SmallBT(), g_matrix = SmallG(), at = SmallAT();
  // Input: B^T d B.
  const std::vector<float> input = RandomVector(kTileGroup * kLanes * 36, rng);
  std::vector<const float*> tiles;
  std::vector<size_t> row_strides(kTileGroup, 6), channel_strides(kTileGroup, 36);
  for (size_t t = 0; t < kTileGroup; ++t) tiles.push_back(input.data() + t * kLanes * 36);
  const size_t v_stride = kLanes * kTileGroup + 3;
  std::vector<float> v(kSmallPositions * v_stride, kNaN);
  const InputTransformArgs in_args{tiles.data(), row_strides.data(), channel_strides.data(), 1, v.data(), v_stride};
  reference_small_input_transform()(&in_args);
  for (size_t t = 0; t < kTileGroup; ++t)
    for (size_t l = 0; l < kLanes; ++l)
      for (size_t i = 0; i < 6; ++i)
        for (size_t j = 0; j < 6; ++j) {
          double exact = 0.0, magnitude = 0.0;
          for (size_t r = 0; r < 6; ++r)
            for (size_t s = 0; s < 6; ++s) {
              const double term = bt[i][r] * input[(t * kLanes + l) * 36 + r * 6 + s] * bt[j][s];
              exact += term;
              magnitude += std::fabs(term);
            }
          ASSERT_NEAR(v[(i * 6 + j) * v_stride + l * kTileGroup + t], exact, 8 * kUnitRoundoff * magnitude);
        }
  // Kernel: G g G^T.
  const std::vector<float> kernel = RandomVector(kLanes * 9, rng);
  std::vector<float> u(kSmallPositions * kLanes, kNaN);
  const KernelTransformArgs k_args{kernel.data(), 9, 9, 1, u.data(), kLanes, kLanes, 1};
  reference_small_kernel_transform(false)(&k_args);
  for (size_t l = 0; l < kLanes; ++l)
    for (size_t i = 0; i < 6; ++i)
      for (size_t j = 0; j < 6; ++j) {
        double exact = 0.0, magnitude = 0.0;
        for (size_t a = 0; a < 3; ++a)
          for (size_t b = 0; b < 3; ++b) {
            const double term = g_matrix[i][a] * kernel[l * 9 + 3 * a + b] * g_matrix[j][b];
            exact += term;
            magnitude += std::fabs(term);
          }
        ASSERT_NEAR(u[(i * 6 + j) * kLanes + l], exact, 8 * kUnitRoundoff * magnitude);
      }
  // Output: A^T m A + bias, and ReLU.
  const std::vector<float> m = RandomVector(kSmallPositions * kLanes, rng);
  const std::vector<float> bias = RandomVector(kLanes, rng);
  for (bool relu : {false, true}) {
    std::vector<float> y(kLanes * 16, kNaN);
    const OutputTransformArgs o_args{m.data(), kLanes, bias.data(), y.data(), 4, 16, 1};
    reference_small_output_transform(relu)(&o_args);
    for (size_t l = 0; l < kLanes; ++l)
      for (size_t r = 0; r < 4; ++r)
        for (size_t s = 0; s < 4; ++s) {
          double exact = bias[l], magnitude = std::fabs(bias[l]);
          for (size_t i = 0; i < 6; ++i)
            for (size_t j = 0; j < 6; ++j) {
              const double term = at[r][i] * m[(i * 6 + j) * kLanes + l] * at[s][j];
              exact += term;
              magnitude += std::fabs(term);
            }
          if (relu) exact = std::max(exact, 0.0);
          ASSERT_NEAR(y[l * 16 + r * 4 + s], exact, 8 * kUnitRoundoff * magnitude) << (relu ? "relu" : "identity");
        }
  }
}

// The F(4x4, 3x3) JIT transforms against their reference versions.
TEST(WinogradSmallJit, TransformsMatchReference) {
  const Isa isa = this_isa();
  if (jit_small_input_transform(isa) == nullptr) GTEST_SKIP() << "no JIT transforms for " << isa_name(isa);
  std::mt19937 rng(kSeed + 50);
  PrintSeed(kSeed + 50);
  {
    SCOPED_TRACE("input");
    ExpectInputTransformMatchesReference(jit_small_input_transform(isa), reference_small_input_transform(), rng);
  }
  for (bool rotated : {false, true}) {
    ExpectKernelTransformMatchesReference(jit_small_kernel_transform(isa, rotated), rotated, 8, false, rng,
                                          reference_small_kernel_transform(rotated));
    if (KernelTransform wide = jit_small_wide_kernel_transform(isa, rotated))
      ExpectKernelTransformMatchesReference(wide, rotated, 16, true, rng, reference_small_kernel_transform(rotated));
  }
  for (bool relu : {false, true}) {
    SCOPED_TRACE(std::string("output, ") + (relu ? "relu" : "identity"));
    ExpectOutputTransformMatchesReference(jit_small_output_transform(isa, relu), reference_small_output_transform(relu),
                                          rng);
  }
}

}  // namespace
}  // namespace nnjit::winograd
