// api_selector_test.cc — nnp_ext_convolution_algorithm (nnjit.h): what `auto` picks and which
// explicit algorithms each convolution accepts, against the table of shared/API.md.
//
// Two layers of checks: a hand-written table of cases with their expected choice (each worked
// out on paper in the comment), and a sweep over many shapes comparing the extension with this
// file's own transcription of the rule.
#include <nnpack.h>
#include <nnjit.h>

#include "tests/api_testing.h"

#include <string>
#include <vector>

namespace {

const bool kInitialized = api_test::InitializeLibraryForAllTests();

using Operation = nnp_ext_convolution_operation;
using Algorithm = nnp_convolution_algorithm;
using api_test::Doz;

constexpr Operation kOutput = nnp_ext_convolution_output;
constexpr Operation kInputGradient = nnp_ext_convolution_input_gradient;
constexpr Operation kKernelGradient = nnp_ext_convolution_kernel_gradient;
constexpr Operation kInference = nnp_ext_convolution_inference;

constexpr Algorithm kAuto = nnp_convolution_algorithm_auto;
constexpr Algorithm kFt8 = nnp_convolution_algorithm_ft8x8;
constexpr Algorithm kFt16 = nnp_convolution_algorithm_ft16x16;
constexpr Algorithm kWt8 = nnp_convolution_algorithm_wt8x8;
constexpr Algorithm kGemm = nnp_convolution_algorithm_implicit_gemm;
constexpr Algorithm kDirect = nnp_convolution_algorithm_direct;
constexpr Algorithm kWt8Fp16 = nnp_convolution_algorithm_wt8x8_fp16;
constexpr Algorithm kAllExplicit[] = {kFt8, kFt16, kWt8, kGemm, kDirect, kWt8Fp16};

const char* OperationName(Operation op) {
  switch (op) {
    case nnp_ext_convolution_output: return "output";
    case nnp_ext_convolution_input_gradient: return "input_gradient";
    case nnp_ext_convolution_kernel_gradient: return "kernel_gradient";
    case nnp_ext_convolution_inference: return "inference";
  }
  return "?";
}

struct Shape {
  size_t input_h, input_w;
  size_t pad;  // the same on every side
  size_t kernel_h, kernel_w;
  size_t stride_h = 1, stride_w = 1;
};

std::string Describe(Operation op, const Shape& s, nnp_convolution_transform_strategy strategy) {
  return std::string(OperationName(op)) + " input " + std::to_string(s.input_h) + "x" + std::to_string(s.input_w) +
         " pad " + std::to_string(s.pad) + " kernel " + std::to_string(s.kernel_h) + "x" +
         std::to_string(s.kernel_w) + " stride " + std::to_string(s.stride_h) + "x" + std::to_string(s.stride_w) +
         " strategy " + std::to_string(int(strategy));
}

nnp_status Ask(Operation op, Algorithm algorithm, const Shape& s, Algorithm* chosen,
               nnp_convolution_transform_strategy strategy = nnp_convolution_transform_strategy_compute) {
  return nnp_ext_convolution_algorithm(op, algorithm, strategy, 2, 3, 5, nnp_size{s.input_w, s.input_h},
                                       nnp_padding{s.pad, s.pad, s.pad, s.pad}, nnp_size{s.kernel_w, s.kernel_h},
                                       nnp_size{s.stride_w, s.stride_h}, chosen);
}

// ---- this file's transcription of API.md's rules ----

size_t CeilDiv(size_t a, size_t b) { return (a + b - 1) / b; }

// Tiles of a tile_size x tile_size transform needed for an extent, each giving tile-K+1 outputs.
size_t Tiles(size_t out_h, size_t out_w, size_t k_h, size_t k_w, size_t tile) {
  return CeilDiv(out_h, tile - k_h + 1) * CeilDiv(out_w, tile - k_w + 1);
}

Algorithm ByTileCount(Operation op, const Shape& s) {
  // tiles are counted on the output, except for input_gradient: on the input.
  size_t h = Doz(s.input_h + 2 * s.pad, s.kernel_h) / s.stride_h + 1;
  size_t w = Doz(s.input_w + 2 * s.pad, s.kernel_w) / s.stride_w + 1;
  if (op == kInputGradient) {
    h = s.input_h;
    w = s.input_w;
  }
  const size_t tiles8 = Tiles(h, w, s.kernel_h, s.kernel_w, 8);
  const size_t tiles16 = Tiles(h, w, s.kernel_h, s.kernel_w, 16);
  if (tiles8 <= 4 * tiles16) {
    return (s.kernel_h == 3 && s.kernel_w == 3 && op != kKernelGradient) ? kWt8 : kFt8;
  }
  return kFt16;
}

Algorithm ExpectedAuto(Operation op, const Shape& s) {
  const size_t kmax = std::max(s.kernel_h, s.kernel_w), kmin = std::min(s.kernel_h, s.kernel_w);
  if (op != kInference) {
    if (kmax > 8) return kFt16;
    return ByTileCount(op, s);
  }
  if (s.stride_h != 1 || s.stride_w != 1) return kGemm;
  if (s.kernel_h == 1 && s.kernel_w == 1) return kDirect;
  if (s.kernel_h == 3 && s.kernel_w == 3) return kWt8;
  if (kmin >= 2 && kmax <= 8) return ByTileCount(op, s);
  if (kmax <= 16) return kFt16;
  return kGemm;
}

// Whether an explicit algorithm can serve the call (the API.md table), assuming a valid shape.
bool Serves(Operation op, Algorithm a, const Shape& s) {
  api_test::ConvOp conv_op = api_test::ConvOp::output;
  if (op == kInputGradient) conv_op = api_test::ConvOp::input_gradient;
  if (op == kKernelGradient) conv_op = api_test::ConvOp::kernel_gradient;
  if (op == kInference) conv_op = api_test::ConvOp::inference;
  return api_test::AlgorithmServes(conv_op, a, s.kernel_h, s.kernel_w, s.stride_h, s.stride_w);
}

// ---- the hand-written table ----

struct Case {
  Operation op;
  Shape shape;
  Algorithm expected;
  const char* why;
};

const Case kCases[] = {
    // output: 3x3 on 8x8 (output 6x6): tiles8 = 1, tiles16 = 1 -> 8x8, and 3x3 -> wt8x8
    {kOutput, {8, 8, 0, 3, 3}, kWt8, "3x3 small output"},
    // output 3x3 on 64x64 pad 1 (output 64x64): tiles8 = 11*11 = 121, tiles16 = 5*5 = 25 -> 121 > 100 -> ft16x16
    {kOutput, {64, 64, 1, 3, 3}, kFt16, "3x3 large output"},
    // output 3x3 on 48x48 pad 1 (output 48x48): tiles8 = 8*8 = 64, tiles16 = 4*4 = 16 -> 64 <= 64 -> wt8x8
    {kOutput, {48, 48, 1, 3, 3}, kWt8, "3x3 at the boundary tiles8 == 4*tiles16"},
    // output 3x3 on 49x48 pad 1 (output 49x48): tiles8 = 9*8 = 72, tiles16 = 4*4 = 16 -> 72 > 64 -> ft16x16
    {kOutput, {49, 48, 1, 3, 3}, kFt16, "3x3 just past the boundary"},
    // 5x5 on 12x12 (output 8x8): tiles8 = 2*2 = 4, tiles16 = 1 -> ft8x8
    {kOutput, {12, 12, 0, 5, 5}, kFt8, "5x5 small"},
    // 5x5 on 13x12 (output 9x8): tiles8 = 3*2 = 6, tiles16 = 1 -> ft16x16
    {kOutput, {13, 12, 0, 5, 5}, kFt16, "5x5 one row more"},
    // 5x5 on 32x32 (output 28x28): tiles8 = 7*7 = 49, tiles16 = 3*3 = 9 -> 49 > 36 -> ft16x16
    {kOutput, {32, 32, 0, 5, 5}, kFt16, "5x5 large"},
    {kOutput, {16, 16, 0, 9, 9}, kFt16, "kernel > 8 -> ft16x16"},
    {kOutput, {16, 16, 0, 1, 9}, kFt16, "kernel width > 8 -> ft16x16"},
    {kOutput, {16, 16, 0, 9, 1}, kFt16, "kernel height > 8 -> ft16x16"},
    {kOutput, {16, 16, 0, 16, 16}, kFt16, "16x16 -> ft16x16"},
    // 8x8 on 8x8 (output 1x1): tiles8 = 1, tiles16 = 1 -> ft8x8
    {kOutput, {8, 8, 0, 8, 8}, kFt8, "8x8 kernel, one output"},
    // 8x8 on 10x10 (output 3x3): tiles8 = 9, tiles16 = 1 -> ft16x16
    {kOutput, {10, 10, 0, 8, 8}, kFt16, "8x8 kernel, 3x3 outputs"},
    // 1x1 on 8x8: tiles8 = 1, tiles16 = 1 -> ft8x8 (never direct for output)
    {kOutput, {8, 8, 0, 1, 1}, kFt8, "1x1 small"},
    // 1x1 on 17x17: tiles8 = 3*3 = 9, tiles16 = 2*2 = 4 -> 9 <= 16 -> ft8x8
    {kOutput, {17, 17, 0, 1, 1}, kFt8, "1x1 medium"},
    // 3x3 on 1x1 pad 1 (output 1x1) -> wt8x8
    {kOutput, {1, 1, 1, 3, 3}, kWt8, "1x1 image"},
    // input_gradient counts the input: 5x5 on 9x9 (input 9x9): tiles8 = 3*3 = 9, tiles16 = 1 -> ft16x16,
    // while output (output 5x5: tiles8 = 2*2 = 4, tiles16 = 1) -> ft8x8
    {kInputGradient, {9, 9, 0, 5, 5}, kFt16, "counts tiles on the input"},
    {kOutput, {9, 9, 0, 5, 5}, kFt8, "same shape, counted on the output"},
    {kInputGradient, {8, 8, 0, 3, 3}, kWt8, "3x3 small -> wt8x8"},
    // input 64x64 3x3: tiles8 = 11*11 = 121 > 4 * 25 -> ft16x16
    {kInputGradient, {64, 64, 0, 3, 3}, kFt16, "3x3 large"},
    {kInputGradient, {20, 20, 0, 12, 12}, kFt16, "kernel > 8"},
    // kernel_gradient never picks wt8x8
    {kKernelGradient, {8, 8, 0, 3, 3}, kFt8, "3x3 small -> ft8x8, not wt8x8"},
    {kKernelGradient, {64, 64, 1, 3, 3}, kFt16, "3x3 large"},
    {kKernelGradient, {12, 12, 0, 5, 5}, kFt8, "5x5 small"},
    {kKernelGradient, {13, 12, 0, 5, 5}, kFt16, "5x5 one row more"},
    {kKernelGradient, {16, 16, 0, 9, 9}, kFt16, "9x9"},
    // inference, stride 1
    {kInference, {8, 8, 0, 1, 1}, kDirect, "1x1 -> direct"},
    {kInference, {100, 100, 0, 1, 1}, kDirect, "1x1 large -> direct"},
    {kInference, {8, 8, 1, 3, 3}, kWt8, "3x3 -> wt8x8"},
    {kInference, {100, 100, 1, 3, 3}, kWt8, "3x3 large -> still wt8x8"},
    {kInference, {12, 12, 0, 5, 5}, kFt8, "5x5 small -> ft8x8"},
    {kInference, {32, 32, 0, 5, 5}, kFt16, "5x5 large -> ft16x16"},
    // 2x2 on 8x8 (output 7x7): tiles8 = 1, tiles16 = 1 -> ft8x8
    {kInference, {8, 8, 0, 2, 2}, kFt8, "2x2 -> ft8x8"},
    {kInference, {8, 8, 0, 8, 8}, kFt8, "8x8 one output -> ft8x8"},
    {kInference, {16, 16, 0, 8, 8}, kFt16, "8x8 9x9 outputs -> ft16x16"},
    {kInference, {8, 8, 0, 1, 7}, kFt16, "1x7: min(K) = 1 -> ft16x16"},
    {kInference, {8, 8, 0, 7, 1}, kFt16, "7x1 -> ft16x16"},
    {kInference, {8, 8, 0, 1, 3}, kFt16, "1x3 -> ft16x16"},
    {kInference, {16, 16, 0, 9, 9}, kFt16, "9x9 -> ft16x16"},
    {kInference, {16, 16, 0, 16, 16}, kFt16, "16x16 -> ft16x16"},
    {kInference, {20, 20, 0, 17, 17}, kGemm, "17x17 -> implicit_gemm"},
    {kInference, {20, 20, 0, 1, 17}, kGemm, "1x17 -> implicit_gemm"},
    {kInference, {20, 20, 0, 17, 2}, kGemm, "17x2 -> implicit_gemm"},
    // inference, stride > 1: always implicit_gemm
    {kInference, {16, 16, 1, 3, 3, 2, 2}, kGemm, "3x3 stride 2x2"},
    {kInference, {16, 16, 0, 1, 1, 2, 2}, kGemm, "1x1 stride 2x2"},
    {kInference, {16, 16, 0, 5, 5, 3, 3}, kGemm, "5x5 stride 3x3"},
    {kInference, {16, 16, 1, 3, 3, 2, 1}, kGemm, "3x3 stride 2x1"},
    {kInference, {16, 16, 1, 3, 3, 1, 2}, kGemm, "3x3 stride 1x2"},
};

TEST(Selector, AutoFollowsTheDocumentedRule) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(Describe(c.op, c.shape, nnp_convolution_transform_strategy_compute) + ": " + c.why);
    Algorithm chosen = static_cast<Algorithm>(7);
    ASSERT_EQ(Ask(c.op, kAuto, c.shape, &chosen), nnp_status_success);
    EXPECT_EQ(int(chosen), int(c.expected));
    // the hand table and this file's transcription agree (guards the sweep below)
    EXPECT_EQ(int(ExpectedAuto(c.op, c.shape)), int(c.expected));
  }
}

TEST(Selector, ExplicitAlgorithmsAreEchoedOrRefused) {
  for (const Case& c : kCases) {
    for (Algorithm a : kAllExplicit) {
      SCOPED_TRACE(Describe(c.op, c.shape, nnp_convolution_transform_strategy_compute) + ", algorithm " +
                   std::to_string(int(a)));
      Algorithm chosen = static_cast<Algorithm>(7);
      const nnp_status status = Ask(c.op, a, c.shape, &chosen);
      if (Serves(c.op, a, c.shape)) {
        ASSERT_EQ(status, nnp_status_success);
        EXPECT_EQ(int(chosen), int(a));
      } else {
        EXPECT_EQ(status, nnp_status_unsupported_algorithm);
      }
    }
  }
}

// Every shape in a grid, every operation, auto and every explicit algorithm.
TEST(Selector, SweepMatchesTheTable) {
  const size_t inputs[] = {1, 5, 8, 13, 24, 33, 64};
  const size_t kernels[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17};
  const size_t strides[] = {1, 2, 3};
  size_t checked = 0;
  for (Operation op : {kOutput, kInputGradient, kKernelGradient, kInference}) {
    for (size_t ih : inputs) {
      for (size_t iw : {size_t(7), size_t(31)}) {
        for (size_t kh : kernels) {
          for (size_t kw : kernels) {
            for (size_t sh : strides) {
              for (size_t sw : strides) {
                if (op != kInference && (sh != 1 || sw != 1)) continue;
                const size_t pad = std::min(kh, kw) > 1 ? 1 : 0;
                const Shape s{ih, iw, pad, kh, kw, sh, sw};
                if (ih + 2 * pad < kh || iw + 2 * pad < kw) continue;  // 20: covered by the status test
                const size_t kmax = std::max(kh, kw);
                SCOPED_TRACE(Describe(op, s, nnp_convolution_transform_strategy_compute));
                Algorithm chosen = static_cast<Algorithm>(7);
                const nnp_status status = Ask(op, kAuto, s, &chosen);
                if (op != kInference && kmax > 16) {
                  // auto would name ft16x16, which cannot serve: not specified further.
                } else {
                  ASSERT_EQ(status, nnp_status_success);
                  ASSERT_EQ(int(chosen), int(ExpectedAuto(op, s)));
                }
                for (Algorithm a : kAllExplicit) {
                  SCOPED_TRACE(std::to_string(int(a)));
                  chosen = static_cast<Algorithm>(7);
                  const nnp_status explicit_status = Ask(op, a, s, &chosen);
                  if (Serves(op, a, s)) {
                    ASSERT_EQ(explicit_status, nnp_status_success);
                    ASSERT_EQ(int(chosen), int(a));
                  } else {
                    ASSERT_EQ(explicit_status, nnp_status_unsupported_algorithm);
                  }
                }
                checked++;
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 1000u);
}

// Transform strategies (inference only): precompute and reuse for the fast algorithms and
// implicit_gemm; direct does compute only (27). For the other operations the strategy is ignored.
TEST(Selector, TransformStrategies) {
  const Shape k3{16, 16, 1, 3, 3};
  const Shape k1{16, 16, 0, 1, 1};
  for (nnp_convolution_transform_strategy strategy :
       {nnp_convolution_transform_strategy_precompute, nnp_convolution_transform_strategy_reuse}) {
    for (Algorithm a : {kFt8, kFt16, kWt8, kWt8Fp16, kGemm}) {
      SCOPED_TRACE(Describe(kInference, k3, strategy) + " algorithm " + std::to_string(int(a)));
      Algorithm chosen = static_cast<Algorithm>(7);
      ASSERT_EQ(Ask(kInference, a, k3, &chosen, strategy), nnp_status_success);
      EXPECT_EQ(int(chosen), int(a));
    }
    Algorithm chosen = static_cast<Algorithm>(7);
    EXPECT_EQ(Ask(kInference, kDirect, k1, &chosen, strategy), nnp_status_unsupported_transform_strategy);
    EXPECT_EQ(Ask(kInference, kGemm, k1, &chosen, strategy), nnp_status_success);
    // 26 comes before 27: direct cannot serve 3x3 at all
    EXPECT_EQ(Ask(kInference, kDirect, k3, &chosen, strategy), nnp_status_unsupported_algorithm);
    // invalid strategies
    EXPECT_EQ(Ask(kInference, kWt8, k3, &chosen, static_cast<nnp_convolution_transform_strategy>(0)),
              nnp_status_invalid_transform_strategy);
  }
  Algorithm chosen = static_cast<Algorithm>(7);
  EXPECT_EQ(Ask(kInference, kDirect, k1, &chosen, nnp_convolution_transform_strategy_compute), nnp_status_success);
  EXPECT_EQ(int(chosen), int(kDirect));
}

// Batch is ignored for inference and checked for the others; subsampling is used for inference only.
TEST(Selector, BatchAndSubsamplingArguments) {
  Algorithm chosen = static_cast<Algorithm>(7);
  const auto ask = [&](Operation op, size_t batch, nnp_size subsampling) {
    return nnp_ext_convolution_algorithm(op, kAuto, nnp_convolution_transform_strategy_compute, batch, 3, 5,
                                         nnp_size{8, 8}, nnp_padding{1, 1, 1, 1}, nnp_size{3, 3}, subsampling,
                                         &chosen);
  };
  EXPECT_EQ(ask(kInference, 0, nnp_size{1, 1}), nnp_status_success);
  EXPECT_EQ(ask(kInference, 0, nnp_size{0, 1}), nnp_status_invalid_output_subsampling);
  for (Operation op : {kOutput, kInputGradient, kKernelGradient}) {
    SCOPED_TRACE(OperationName(op));
    EXPECT_EQ(ask(op, 0, nnp_size{1, 1}), nnp_status_invalid_batch_size);
    EXPECT_EQ(ask(op, 1, nnp_size{1, 1}), nnp_status_success);
  }
}

}  // namespace

// With the machine's own kernels (this test runs without NNJIT_ISA=reference): auto may
// replace the rule's choice by implicit GEMM (1x1 kernels, tiny Winograd images, algorithms
// without fast kernels here) or, for 3x3 kernels the rule sends to FFT, by wt8x8 (measured
// faster); nothing else may change, and explicit algorithms never change.
TEST(TunedAuto, RuleChoiceOrImplicitGemm) {
  const size_t inputs[] = {5, 13, 33};
  const size_t kernels[] = {1, 2, 3, 5, 8, 9, 16};
  size_t checked = 0;
  for (Operation op : {kOutput, kInputGradient, kKernelGradient, kInference}) {
    for (size_t ih : inputs) {
      for (size_t kh : kernels) {
        for (size_t kw : kernels) {
          const size_t pad = std::min(kh, kw) > 1 ? 1 : 0;
          const Shape s{ih, 31, pad, kh, kw};
          if (ih + 2 * pad < kh) continue;
          SCOPED_TRACE(Describe(op, s, nnp_convolution_transform_strategy_compute));
          Algorithm chosen = static_cast<Algorithm>(7);
          ASSERT_EQ(Ask(op, kAuto, s, &chosen), nnp_status_success);
          const Algorithm rule = ExpectedAuto(op, s);
          // Allowed replacements: implicit GEMM, or wt8x8 for a 3x3 kernel the rule sends to FFT.
          const bool winograd_for_fft = chosen == kWt8 && kh == 3 && kw == 3 && op != kKernelGradient &&
                                        (rule == kFt8 || rule == kFt16);
          // ... or, inference with the compute strategy, ft8x8 for a kernel of at most 8x8.
          const bool small_tiles_for_compute = chosen == kFt8 && rule == kFt16 && op == kInference &&
                                               std::max(kh, kw) <= 8;
          if (chosen != rule && !winograd_for_fft && !small_tiles_for_compute) EXPECT_EQ(int(chosen), int(kGemm));
          for (Algorithm a : kAllExplicit) {
            Algorithm echoed = static_cast<Algorithm>(7);
            if (Ask(op, a, s, &echoed) == nnp_status_success) EXPECT_EQ(int(echoed), int(a));
          }
          checked++;
        }
      }
    }
  }
  EXPECT_GT(checked, 100u);
}

// The compute strategy pays a kernel transform per call: on alexnet.conv2's shape (27x27,
// 5x5, pad 2: 49 tiles of 8x8 against 9 of 16x16) auto takes 8x8 tiles, where the machine
// has fast FFT kernels; reuse keeps the rule's 16x16; a larger image (tiles8 > 4 tiles16 + 45)
// keeps 16x16 with either strategy.
TEST(TunedAuto, ComputeStrategyTakesSmallFftTilesOnSmallImages) {
  const Shape alexnet_conv2{27, 27, 2, 5, 5};
  Algorithm chosen = static_cast<Algorithm>(7);
  ASSERT_EQ(Ask(kInference, kAuto, alexnet_conv2, &chosen, nnp_convolution_transform_strategy_reuse),
            nnp_status_success);
  EXPECT_EQ(int(chosen), int(kFt16));
  ASSERT_EQ(Ask(kInference, kAuto, alexnet_conv2, &chosen), nnp_status_success);
  if (chosen == kGemm || std::string(nnp_ext_isa_name()) == "reference")
    GTEST_SKIP() << "no fast FFT kernels here: auto follows the rule";
  EXPECT_EQ(int(chosen), int(kFt8));
  // 128x128 output: tiles8 = 32 * 32 = 1024 > 4 * 11 * 11 + 45 = 529 -> ft16x16
  ASSERT_EQ(Ask(kInference, kAuto, Shape{128, 128, 2, 5, 5}, &chosen), nnp_status_success);
  EXPECT_EQ(int(chosen), int(kFt16));
}

