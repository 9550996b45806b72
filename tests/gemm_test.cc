// GEMM family: microkernels against their reference twins, the blocked driver against a
// double-precision product, thread-count independence, and the GEMV kernels.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "jit/kernel_key.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemv.h"
#include "kernels/gemm/im2col.h"
#include "kernels/gemm/microkernel.h"
#include "kernels/gemm/pack.h"
#include "runtime/hardware.h"
#include "tests/random_vector.h"

namespace nnjit::gemm {
namespace {

constexpr uint32_t kSeed = 20261125;
constexpr double kUnitRoundoff = 1.0 / (1 << 24);

using nnjit::testing::random_vector;

Hardware this_machine() { return detect_hardware(nullptr); }

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<void, AlignedFree>;
AlignedBuffer aligned(size_t bytes) { return AlignedBuffer(std::aligned_alloc(64, (bytes + 63) / 64 * 64 + 64)); }

// ---- microkernel --------------------------------------------------------------------

class MicrokernelTest : public ::testing::TestWithParam<uint32_t> {};

// The tiles the AVX2 generator serves: microkernel_tile picks 6x16 or 4x24 (6x32 with
// AVX-512), and the narrower ones run the last, partial column panel.
constexpr TileShape kAvx2Tiles[] = {{6, 16}, {4, 24}, {6, 8}, {4, 8}, {4, 16}};

// Panels-A tiles: 1..6 rows everywhere, up to 14 with AVX-512's 32 registers.
std::vector<TileShape> tiles_for(uint32_t flags, Isa isa) {
  if (!(flags & jit::kPanelsA)) {
    std::vector<TileShape> tiles(std::begin(kAvx2Tiles), std::end(kAvx2Tiles));
    if (isa == Isa::avx512) tiles.insert(tiles.end(), {{6, 32}, {6, 24}});  // zmm 6x32 and its 24-column tail
    return tiles;
  }
  std::vector<TileShape> tiles;
  const bool shifted = jit::panels_a_lane_of(flags) != 0;  // first row at a later lane: up to 6 rows
  for (size_t mr = 1; mr <= (isa == Isa::avx512 && !shifted ? 14u : 6u); ++mr) tiles.push_back({mr, 16});
  return tiles;
}

TEST_P(MicrokernelTest, JitMatchesReferenceTwinBitForBit) {
  const Hardware hw = this_machine();
  const uint32_t flags = GetParam();
  for (const TileShape tile : tiles_for(flags, hw.isa)) {
  SCOPED_TRACE(std::to_string(tile.mr) + "x" + std::to_string(tile.nr));
  const GemmMicrokernel jit = jit_gemm_microkernel(hw.isa, tile, flags);
  if (jit == nullptr) GTEST_SKIP() << "no JIT microkernel for " << isa_name(hw.isa);
  const GemmMicrokernel twin = reference_gemm_microkernel(tile, flags);
  ASSERT_NE(twin, nullptr);
  std::mt19937 rng(kSeed);
  std::vector<float> a_strided;
  for (size_t kc : {0u, 1u, 2u, 3u, 4u, 5u, 7u, 8u, 13u, 64u, 257u}) {
    const std::vector<float> a = random_vector(kc * tile.mr + 1, rng);
    const std::vector<float> b = random_vector(kc * tile.nr + 1, rng);
    const std::vector<float> bias = random_vector(tile.mr, rng);
    const size_t ldc = tile.nr + 3;  // C wider than the tile: the kernel must keep to its columns
    const std::vector<float> c0 = random_vector(tile.mr * ldc, rng);
    std::vector<float> c_jit = c0, c_twin = c0;
    // Strided A: rows of a_stride elements; panels A: 6-row panels a_stride apart (the
    // packed data reinterpreted; any values do).
    const size_t a_stride = (flags & jit::kStridedA) ? kc + 1 : (flags & jit::kPanelsA) ? kc * 6 + 5 : 0;
    if (a_stride) {
      std::vector<float> grown = random_vector(tile.mr * a_stride + 1, rng);
      a_strided.swap(grown);
    }
    const float* a_ptr = a_stride ? a_strided.data() : a.data();
    jit(kc, a_ptr, a_stride, b.data(), c_jit.data(), ldc, bias.data());
    twin(kc, a_ptr, a_stride, b.data(), c_twin.data(), ldc, bias.data());
    for (size_t i = 0; i < c0.size(); ++i) {
      ASSERT_EQ(c_jit[i], c_twin[i]) << "kc=" << kc << " element " << i;
      if (i % ldc >= tile.nr) ASSERT_EQ(c_jit[i], c0[i]) << "wrote outside the tile";
    }
  }
  }
}

INSTANTIATE_TEST_SUITE_P(Epilogues, MicrokernelTest,
                         ::testing::Values(0u, jit::kBias, jit::kRelu, jit::kBias | jit::kRelu,
                                           jit::kAccumulate, jit::kAccumulate | jit::kRelu,
                                           jit::kStridedA, jit::kStridedA | jit::kBias | jit::kRelu,
                                           jit::kStridedA | jit::kAccumulate, jit::kPanelsA,
                                           jit::kPanelsA | jit::kAccumulate,
                                           jit::kPanelsA | jit::kBias | jit::kRelu,
                                           jit::kPanelsA | jit::kFarPrefetchB | jit::kAccumulate,
                                           jit::kPanelsA | jit::panels_a_lane(1),
                                           jit::kPanelsA | jit::panels_a_lane(3) | jit::kAccumulate,
                                           jit::kPanelsA | jit::panels_a_lane(5) | jit::kAccumulate |
                                               jit::kFarPrefetchB));

TEST(Microkernel, ReferenceTwinFollowsTheDefinition) {
  const TileShape tile{4, 24};
  std::mt19937 rng(kSeed);
  const size_t kc = 9;
  const std::vector<float> a = random_vector(kc * tile.mr, rng), b = random_vector(kc * tile.nr, rng);
  const std::vector<float> bias = random_vector(tile.mr, rng), c0 = random_vector(tile.mr * tile.nr, rng);
  for (uint32_t flags : {0u, jit::kBias, jit::kAccumulate | jit::kRelu}) {
    std::vector<float> c = c0;
    reference_gemm_microkernel(tile, flags)(kc, a.data(), 0, b.data(), c.data(), tile.nr, bias.data());
    for (size_t i = 0; i < tile.mr; ++i) {
      for (size_t j = 0; j < tile.nr; ++j) {
        const double init = (flags & jit::kAccumulate) ? c0[i * tile.nr + j] : (flags & jit::kBias) ? bias[i] : 0.0;
        double expected = init, magnitude = std::fabs(init);
        for (size_t k = 0; k < kc; ++k) {
          expected += double(a[k * tile.mr + i]) * b[k * tile.nr + j];
          magnitude += std::fabs(double(a[k * tile.mr + i]) * b[k * tile.nr + j]);
        }
        if (flags & jit::kRelu) expected = std::max(expected, 0.0);
        EXPECT_NEAR(c[i * tile.nr + j], expected, (kc + 1) * kUnitRoundoff * magnitude + 1e-30);
      }
    }
  }
}

// ---- blocked GEMM --------------------------------------------------------------------

struct Shape {
  size_t m, n, k;
};

// Runs C = A*B (+bias, relu) with A row-major (or packed ahead) and B row-major.
enum class ALayout { packed_per_call, prepacked, in_place };

std::vector<float> run(const Shape& s, const std::vector<float>& a, const std::vector<float>& b,
                       const float* bias, bool relu, ALayout layout, size_t threads, pthreadpool_t pool,
                       const Hardware& hw, std::vector<float> c) {
  const bool prepack = layout == ALayout::prepacked;
  const TileShape chosen = layout == ALayout::prepacked ? microkernel_tile(hw.isa, s.m) : microkernel_tile(hw.isa, s.m, s.n);
  const GemmPlan plan = plan_gemm(s.m, s.n, s.k, layout != ALayout::packed_per_call, threads, hw, chosen);
  const TileShape tile = plan.tile;
  AlignedBuffer workspace = aligned(gemm_workspace_bytes(plan));
  const RowMajorA row_major{a.data(), s.m, s.k, s.k, tile.mr};
  std::vector<float> packed(prepacked_a_floats(s.m, s.k, tile.mr) + 1);
  if (prepack) pack_a_ahead(row_major, plan.kc, packed.data());
  const PrepackedA prepacked{packed.data(), s.m, s.k, plan.kc, tile.mr};
  const RowMajorB row_major_b{b.data(), s.k, s.n, s.n, tile.nr};
  const bool in_place = layout == ALayout::in_place;
  const GemmProblem p{s.m, s.n, s.k, prepack ? prepacked.source() : row_major.source(), row_major_b.source(),
                      in_place ? a.data() : nullptr, s.k, c.data(), s.n, bias, false, relu, prepack || in_place};
  run_gemm(p, plan, workspace.get(), pool);
  return c;
}

void expect_product(const Shape& s, const std::vector<float>& a, const std::vector<float>& b,
                    const float* bias, bool relu, const std::vector<float>& c) {
  for (size_t i = 0; i < s.m; ++i) {
    for (size_t j = 0; j < s.n; ++j) {
      double exact = bias ? bias[i] : 0.0, magnitude = std::fabs(exact);
      for (size_t k = 0; k < s.k; ++k) {
        exact += double(a[i * s.k + k]) * b[k * s.n + j];
        magnitude += std::fabs(double(a[i * s.k + k]) * b[k * s.n + j]);
      }
      if (relu) exact = std::max(exact, 0.0);
      // Recursive summation of k+1 terms: |error| <= (k+1) u sum|terms|.
      ASSERT_NEAR(c[i * s.n + j], exact, (s.k + 1) * kUnitRoundoff * magnitude + 1e-30)
          << "m=" << s.m << " n=" << s.n << " k=" << s.k << " at (" << i << "," << j << ")";
    }
  }
}

class GemmShapes : public ::testing::TestWithParam<Shape> {};

TEST_P(GemmShapes, MatchesDoublePrecisionProduct) {
  const Shape s = GetParam();
  const Hardware hw = this_machine();
  std::mt19937 rng(kSeed + static_cast<uint32_t>(s.m * 31 + s.n * 7 + s.k));
  const std::vector<float> a = random_vector(s.m * s.k, rng), b = random_vector(s.k * s.n, rng);
  const std::vector<float> bias = random_vector(s.m, rng);
  const std::vector<float> nan_c(s.m * s.n, NAN);
  for (ALayout layout : {ALayout::packed_per_call, ALayout::prepacked, ALayout::in_place}) {
    for (bool relu : {false, true}) {
      const float* bias_or_null = relu ? bias.data() : nullptr;
      expect_product(s, a, b, bias_or_null, relu,
                     run(s, a, b, bias_or_null, relu, layout, 1, nullptr, hw, nan_c));
    }
  }
}

TEST_P(GemmShapes, IdenticalForOneAndTwoThreads) {
  const Shape s = GetParam();
  const Hardware hw = this_machine();
  std::mt19937 rng(kSeed);
  const std::vector<float> a = random_vector(s.m * s.k, rng), b = random_vector(s.k * s.n, rng);
  const std::vector<float> bias = random_vector(s.m, rng);
  const std::vector<float> c0(s.m * s.n, NAN);
  pthreadpool_t two = pthreadpool_create(2);
  ASSERT_NE(two, nullptr);
  for (ALayout layout : {ALayout::packed_per_call, ALayout::prepacked, ALayout::in_place}) {
    const std::vector<float> one_thread = run(s, a, b, bias.data(), true, layout, 1, nullptr, hw, c0);
    const std::vector<float> two_threads = run(s, a, b, bias.data(), true, layout, 2, two, hw, c0);
    ASSERT_EQ(0, std::memcmp(one_thread.data(), two_threads.data(), one_thread.size() * sizeof(float)));
  }
  pthreadpool_destroy(two);
}

INSTANTIATE_TEST_SUITE_P(
    EdgesAndPrimes, GemmShapes,
    ::testing::Values(Shape{1, 1, 1}, Shape{6, 16, 1}, Shape{5, 15, 3}, Shape{7, 17, 5}, Shape{6, 16, 4},
                      Shape{4, 24, 7}, Shape{64, 25, 33}, Shape{8, 47, 260},
                      Shape{12, 32, 8}, Shape{13, 33, 9}, Shape{1, 100, 37}, Shape{100, 1, 37},
                      Shape{31, 47, 293}, Shape{64, 49, 576}, Shape{17, 257, 700}, Shape{97, 89, 83},
                      Shape{2, 3, 1031}));

TEST(Gemm, AccumulateAddsToC) {
  const Hardware hw = this_machine();
  const Shape s{13, 21, 300};
  std::mt19937 rng(kSeed);
  const std::vector<float> a = random_vector(s.m * s.k, rng), b = random_vector(s.k * s.n, rng);
  const std::vector<float> c0 = random_vector(s.m * s.n, rng);
  const GemmPlan plan = plan_gemm(s.m, s.n, s.k, false, 1, hw, microkernel_tile(hw.isa, s.m, s.n));
  const TileShape tile = plan.tile;
  AlignedBuffer workspace = aligned(gemm_workspace_bytes(plan));
  const RowMajorA ra{a.data(), s.m, s.k, s.k, tile.mr};
  const RowMajorB rb{b.data(), s.k, s.n, s.n, tile.nr};
  std::vector<float> c = c0;
  run_gemm({s.m, s.n, s.k, ra.source(), rb.source(), nullptr, 0, c.data(), s.n, nullptr, true, false, false}, plan,
           workspace.get(), nullptr);
  for (size_t i = 0; i < s.m; ++i)
    for (size_t j = 0; j < s.n; ++j) {
      double exact = c0[i * s.n + j], magnitude = std::fabs(exact);
      for (size_t k = 0; k < s.k; ++k) {
        exact += double(a[i * s.k + k]) * b[k * s.n + j];
        magnitude += std::fabs(double(a[i * s.k + k]) * b[k * s.n + j]);
      }
      ASSERT_NEAR(c[i * s.n + j], exact, (s.k + 1) * kUnitRoundoff * magnitude);
    }
}

TEST(Gemm, KBlockDependsOnlyOnKTileAndHardware) {
  const Hardware hw = this_machine();
  for (size_t m : {7u, 64u, 96u, 700u}) {
    const TileShape tile = microkernel_tile(hw.isa, m);
    for (size_t k : {1u, 100u, 1000u, 4608u}) {
      const size_t kc = gemm_kc(k, tile, hw);
      EXPECT_EQ(kc, plan_gemm(m, 9, k, false, 1, hw, tile).kc);
      EXPECT_EQ(kc, plan_gemm(m, 3000, k, true, 2, hw, tile).kc);
      EXPECT_GE(kc, std::min<size_t>(k, 4));
    }
  }
}

// With A read in place (weights), a few wide columns and a tall A: two threads split the
// rows (each reads half of A) rather than the columns (both would read all of it).
TEST(Gemm, TallInPlaceAIsSplitByRows) {
  const Hardware hw = this_machine();
  for (size_t n : {49u, 64u}) {
    const GemmPlan plan = plan_gemm(512, n, 4608, true, 2, hw, microkernel_tile(hw.isa, 512, n));
    EXPECT_EQ(plan.n_tasks, 1u) << "n = " << n;
    EXPECT_GE(plan.m_tasks, 2u) << "n = " << n;
  }
}

// (The choice is a pure function of the ISA: checked for AVX2 and AVX-512 on any machine.)
TEST(Gemm, TileChoiceFollowsPaddedWork) {
  const Isa isa = Isa::avx2;
  EXPECT_TRUE((microkernel_tile(isa, 64, 3136) == TileShape{4, 24}));  // no padded rows
  EXPECT_TRUE((microkernel_tile(isa, 512, 49) == TileShape{6, 16}));   // 516 vs 512 rows: under 1%
  EXPECT_TRUE((microkernel_tile(isa, 4096, 16) == TileShape{6, 16}));  // 4x24 would run only its 4x16 tail
  EXPECT_TRUE((microkernel_tile(isa, 2048, 2048) == TileShape{6, 16}));  // 4x24 saves only 0.1%
  EXPECT_TRUE((microkernel_tile(isa, 100, 49) == TileShape{4, 24}));   // 100 vs 102 rows: 2%
  EXPECT_TRUE((microkernel_tile(isa, 96) == TileShape{4, 24}));
  EXPECT_TRUE((microkernel_tile(isa, 6) == TileShape{6, 16}));
}

TEST(Gemm, TileChoiceWithAvx512IsZmmUnlessNarrow) {
  EXPECT_TRUE((microkernel_tile(Isa::avx512, 64, 3136) == TileShape{6, 32}));
  EXPECT_TRUE((microkernel_tile(Isa::avx512, 512, 49) == TileShape{6, 32}));
  EXPECT_TRUE((microkernel_tile(Isa::avx512, 96) == TileShape{6, 32}));  // packed ahead: m alone
  EXPECT_TRUE((microkernel_tile(Isa::avx512, 4096, 16) == TileShape{6, 16}));  // narrower than 32: AVX2's rule
  EXPECT_TRUE((microkernel_tile(Isa::avx512, 100, 31) == microkernel_tile(Isa::avx2, 100, 31)));
  EXPECT_TRUE((microkernel_tile(Isa::reference, 64, 3136) == TileShape{8, 8}));
}

// ---- implicit im2col panels ------------------------------------------------------------

struct PatchShape {
  size_t channels, height, width, kernel_height, kernel_width, pad, stride_height, nr;
};

// The vector gatherer copies exactly what the portable one copies, for every panel,
// K offset and K length, with padding on each side, images narrower than a panel,
// panels that cross output rows and the partial last panel.
TEST(Im2col, VectorGathererMatchesPortableOne) {
  const Hardware hw = this_machine();
  if (!hw.can_run(Isa::avx2)) GTEST_SKIP() << "no AVX2";
  const PatchShape shapes[] = {
      {3, 56, 56, 3, 3, 1, 1, 24}, {5, 7, 7, 3, 3, 1, 1, 16},  {2, 13, 13, 5, 5, 2, 1, 16},
      {2, 1, 1, 3, 3, 1, 1, 16},   {3, 9, 2, 3, 7, 3, 2, 24},  {4, 20, 3, 1, 3, 2, 1, 8},
      {2, 9, 17, 11, 11, 5, 1, 64}, {2, 5, 6, 2, 2, 0, 1, 40}, {1, 30, 31, 16, 16, 0, 3, 16},
  };
  std::mt19937 rng(kSeed);
  for (const PatchShape& s : shapes) {
    SCOPED_TRACE(::testing::Message() << s.channels << "x" << s.height << "x" << s.width << " kernel "
                                      << s.kernel_height << "x" << s.kernel_width << " pad " << s.pad
                                      << " nr " << s.nr);
    const std::vector<float> image = random_vector(s.channels * s.height * s.width, rng);
    const size_t out_h = (s.height + 2 * s.pad - s.kernel_height) / s.stride_height + 1;
    const size_t out_w = s.width + 2 * s.pad - s.kernel_width + 1;
    const Im2colB patches{image.data(), s.channels, s.height, s.width, s.kernel_height, s.kernel_width,
                          s.stride_height, 1, s.pad, s.pad, out_w, out_h * out_w, s.nr};
    const PanelSource portable = patches.source(Isa::reference), vector = patches.source(hw.isa);
    ASSERT_NE(portable.panel, vector.panel) << "the vector gatherer should serve this shape";
    const size_t k = s.channels * s.kernel_height * s.kernel_width;
    const size_t k_ranges[][2] = {{0, k}, {1, k - 1}, {k / 2, k - k / 2}, {k - 1, 1}};
    std::vector<float> expected(k * s.nr), actual(k * s.nr);
    for (size_t j0 = 0; j0 < patches.n; j0 += s.nr) {
      for (const auto& range : k_ranges) {
        std::fill(expected.begin(), expected.end(), 7.0f);
        std::fill(actual.begin(), actual.end(), -3.0f);
        const float* e = portable.panel(portable.context, j0, range[0], range[1], expected.data());
        const float* a = vector.panel(vector.context, j0, range[0], range[1], actual.data());
        for (size_t i = 0; i < range[1] * s.nr; ++i)
          ASSERT_EQ(e[i], a[i]) << "panel " << j0 << " k0 " << range[0] << " row " << i / s.nr << " column " << i % s.nr;
      }
    }
  }
}

// ---- GEMV ----------------------------------------------------------------------------

uint16_t float_to_half_exact(float x) {  // for values that are exactly representable
  if (x == 0.0f) return std::signbit(x) ? 0x8000 : 0;
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  int exponent;
  const float mantissa = std::frexp(std::fabs(x), &exponent);  // x = m * 2^e, m in [0.5, 1)
  if (exponent - 1 < -14) return sign | static_cast<uint16_t>(std::ldexp(std::fabs(x), 24));
  return sign | static_cast<uint16_t>((exponent - 1 + 15) << 10) |
         static_cast<uint16_t>(std::ldexp(mantissa * 2 - 1, 10));
}

TEST(Gemv, JitMatchesDoublePrecisionForEveryTail) {
  const Hardware hw = this_machine();
  for (bool fp16 : {false, true}) {
    const GemvKernel jit = jit_gemv_kernel(hw.isa, fp16);
    if (jit == nullptr) GTEST_SKIP() << "no JIT GEMV for " << isa_name(hw.isa);
    std::mt19937 rng(kSeed);
    for (size_t k : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 31u, 33u, 100u, 1001u}) {
      const size_t stride = k + 3;
      std::vector<float> w = random_vector(kGemvRows * stride, rng);
      std::vector<uint16_t> w16(w.size());
      for (size_t i = 0; i < w.size(); ++i) {
        // Round weights to multiples of 2^-10 so they are exact in fp16, including subnormal-free range.
        w[i] = std::round(w[i] * 1024.0f) / 1024.0f;
        w16[i] = float_to_half_exact(w[i]);
      }
      const std::vector<float> x = random_vector(k + 1, rng);
      float y[kGemvRows] = {NAN, NAN, NAN, NAN};
      jit(k, fp16 ? static_cast<const void*>(w16.data()) : w.data(), stride, x.data(), y);
      for (size_t r = 0; r < kGemvRows; ++r) {
        double exact = 0, magnitude = 0;
        for (size_t i = 0; i < k; ++i) {
          exact += double(w[r * stride + i]) * x[i];
          magnitude += std::fabs(double(w[r * stride + i]) * x[i]);
        }
        ASSERT_NEAR(y[r], exact, (k + 1) * kUnitRoundoff * magnitude + 1e-30)
            << "fp16=" << fp16 << " k=" << k << " row " << r;
      }
    }
  }
}

TEST(Gemv, ThreadedDriverCoversEveryRow) {
  const Hardware hw = this_machine();
  pthreadpool_t two = pthreadpool_create(2);
  std::mt19937 rng(kSeed);
  for (size_t rows : {1u, 3u, 4u, 5u, 63u, 64u, 65u, 130u}) {
    const size_t k = 37;
    const std::vector<float> w = random_vector(rows * k, rng), x = random_vector(k, rng);
    std::vector<float> y1(rows, NAN), y2(rows, NAN);
    gemv(rows, k, w.data(), false, x.data(), y1.data(), nullptr, hw);
    gemv(rows, k, w.data(), false, x.data(), y2.data(), two, hw);
    for (size_t r = 0; r < rows; ++r) {
      double exact = 0, magnitude = 0;
      for (size_t i = 0; i < k; ++i) {
        exact += double(w[r * k + i]) * x[i];
        magnitude += std::fabs(double(w[r * k + i]) * x[i]);
      }
      ASSERT_NEAR(y1[r], exact, (k + 1) * kUnitRoundoff * magnitude) << rows << " rows, row " << r;
      ASSERT_EQ(y1[r], y2[r]);
    }
  }
  pthreadpool_destroy(two);
}

}  // namespace
}  // namespace nnjit::gemm
