#include "runtime/selector.h"

#include <algorithm>

#include "runtime/dispatch.h"

namespace nnjit {
namespace {

size_t max_extent(nnp_size kernel) { return std::max(kernel.width, kernel.height); }
size_t min_extent(nnp_size kernel) { return std::min(kernel.width, kernel.height); }
bool is_square(nnp_size kernel, size_t n) { return kernel.width == n && kernel.height == n; }
bool is_unit_stride(nnp_size stride) { return stride.width == 1 && stride.height == 1; }
size_t divide_round_up(size_t a, size_t b) { return (a + b - 1) / b; }

// Output extent of a stride-1 convolution on the padded input.
nnp_size unit_stride_output_size(const ConvolutionCall& c) {
  return {c.padding.left + c.input_size.width + c.padding.right - c.kernel_size.width + 1,
          c.padding.top + c.input_size.height + c.padding.bottom - c.kernel_size.height + 1};
}

// Tiles of `tile` x `tile` needed to cover `extent` when each yields tile - K + 1 outputs per axis.
size_t tiles_needed(nnp_size extent, nnp_size kernel, size_t tile) {
  return divide_round_up(extent.height, tile - kernel.height + 1) *
         divide_round_up(extent.width, tile - kernel.width + 1);
}

// The FFT tile choice of the auto rule (both kernel extents at most 8): 8x8 tiles
// win unless they need more than four times as many tiles as 16x16 (plus `slack` tiles:
// 0 in the rule).
bool prefer_8x8_tiles(const ConvolutionCall& c, size_t slack = 0) {
  const nnp_size extent =
      c.operation == ConvolutionOperation::input_gradient ? c.input_size : unit_stride_output_size(c);
  return tiles_needed(extent, c.kernel_size, 8) <= 4 * tiles_needed(extent, c.kernel_size, 16) + slack;
}

// Images up to 3x3 tiles of wt8x8 (18x18 outputs) run F(4x4, 3x3) under auto (see
// select_convolution_algorithm).
constexpr size_t kMostTilesForSmallWinograd = 9;

// The slack of the compute strategy's tile choice in inference (see select_convolution_algorithm).
constexpr size_t kKernelTransformSlackTiles = 45;

// API.md's table: may `algorithm` serve this call's shape?
bool algorithm_serves(nnp_convolution_algorithm algorithm, const ConvolutionCall& c) {
  const bool inference = c.operation == ConvolutionOperation::inference;
  const bool unit_stride = is_unit_stride(c.subsampling);
  const size_t k = max_extent(c.kernel_size);
  switch (algorithm) {
    case nnp_convolution_algorithm_ft8x8:
      return k <= 8 && unit_stride;
    case nnp_convolution_algorithm_ft16x16:
      return k <= 16 && unit_stride;
    case nnp_convolution_algorithm_wt8x8:
    case nnp_convolution_algorithm_wt8x8_fp16:
      return c.operation != ConvolutionOperation::kernel_gradient && is_square(c.kernel_size, 3) &&
             (unit_stride || (inference && c.subsampling.width == 2 && c.subsampling.height == 2));
    case nnp_convolution_algorithm_implicit_gemm:
      return inference;
    case nnp_convolution_algorithm_direct:
      return inference && is_square(c.kernel_size, 1) && unit_stride;
    case nnp_convolution_algorithm_auto:
      break;
  }
  return false;
}

bool algorithm_takes_strategy(nnp_convolution_algorithm algorithm,
                              nnp_convolution_transform_strategy strategy) {
  return strategy == nnp_convolution_transform_strategy_compute ||
         algorithm != nnp_convolution_algorithm_direct;
}

}  // namespace

nnp_convolution_algorithm auto_convolution_algorithm(const ConvolutionCall& c) {
  const nnp_size k = c.kernel_size;
  if (c.operation == ConvolutionOperation::inference) {
    if (!is_unit_stride(c.subsampling)) return nnp_convolution_algorithm_implicit_gemm;
    if (is_square(k, 1)) {
      // Our choice beyond API.md: direct cannot precompute, implicit GEMM can.
      return c.strategy_enum() == nnp_convolution_transform_strategy_compute
                 ? nnp_convolution_algorithm_direct
                 : nnp_convolution_algorithm_implicit_gemm;
    }
    if (is_square(k, 3)) return nnp_convolution_algorithm_wt8x8;
    if (min_extent(k) >= 2 && max_extent(k) <= 8)
      return prefer_8x8_tiles(c) ? nnp_convolution_algorithm_ft8x8 : nnp_convolution_algorithm_ft16x16;
    if (max_extent(k) <= 16) return nnp_convolution_algorithm_ft16x16;
    return nnp_convolution_algorithm_implicit_gemm;
  }
  // output, input_gradient, kernel_gradient (stride 1). Our choice beyond API.md:
  // kernels over 16 fit no transform tile, so auto runs them as implicit GEMM
  // instead of failing (naming implicit_gemm explicitly is still refused here).
  if (max_extent(k) > 16) return nnp_convolution_algorithm_implicit_gemm;
  if (max_extent(k) > 8) return nnp_convolution_algorithm_ft16x16;
  if (!prefer_8x8_tiles(c)) return nnp_convolution_algorithm_ft16x16;
  if (is_square(k, 3) && c.operation != ConvolutionOperation::kernel_gradient)
    return nnp_convolution_algorithm_wt8x8;
  return nnp_convolution_algorithm_ft8x8;
}

ConvolutionProblem problem_of(const ConvolutionCall& c) {
  return {c.operation,      c.batch_size,  c.input_channels, c.output_channels,
          c.input_size,     c.padding,     c.kernel_size,    c.subsampling,
          c.activation == nnp_activation_relu, c.strategy_enum()};
}

nnp_status select_convolution_algorithm(const ConvolutionCall& c, const Hardware& hardware,
                                        nnp_convolution_algorithm* chosen) {
  const nnp_convolution_algorithm algorithm = c.algorithm_enum();
  if (algorithm == nnp_convolution_algorithm_auto) {
    *chosen = auto_convolution_algorithm(c);  // serves every valid call by construction
    const ConvolutionProblem problem = problem_of(c);
    // A 1x1 kernel is a plain matrix product: no transform can make it cheaper (NNPACK's
    // FFT reaches 17 GFLOPS on resnet50.1x1 at batch 16 where GEMM runs near peak).
    const bool pointwise = is_square(c.kernel_size, 1) && is_unit_stride(c.subsampling);
    // For 3x3 kernels the rule's tile count picks FFT at larger images, but here wt8x8
    // measured faster on every 3x3 layer of the layer set at batch 1 and 16 (e.g. VGG
    // conv4_2/conv5_2 at batch 16: ~300/200 against ~250/150 GFLOPS per core with ft16x16).
    if ((*chosen == nnp_convolution_algorithm_ft8x8 || *chosen == nnp_convolution_algorithm_ft16x16) &&
        is_square(c.kernel_size, 3) && c.operation != ConvolutionOperation::kernel_gradient &&
        has_fast_convolution_kernels(nnp_convolution_algorithm_wt8x8, problem, hardware))
      *chosen = nnp_convolution_algorithm_wt8x8;
    // Small images: Winograd F(4x4, 3x3) on 6x6 tiles transforms 36 floats per kernel instead of
    // 64, and on images of up to 3x3 tiles of 8x8 covers them with about as many positions (13x13
    // and 14x14: 576 either way; 7x7: 144 instead of 256). (wt8x8 with its 64-float kernel
    // transform in every call lost to implicit GEMM on 7x7: 56-59 vs 72 GFLOPS.) Against wt8x8
    // and the GEMM auto ran on 7x7 before (bench/ab.sh, Zen 5): resnet18.conv5 (7x7) batch 1 compute 1.2x / 1.3x on 1 / 2 threads,
    // batch 16 1.9x / 1.7x; vgg.conv5_2 (14x14) batch 1 1.14x / 1.23x, batch 16 1.08x / 1.11x;
    // alexnet.conv3 (13x13) batch 1 1.12x / 1.17x, batch 16 1.08x / 0.98x; with a precomputed
    // kernel (36 instead of 64 floats per kernel to stream) resnet18.conv5 1.6-3.9x / 1.6-2.0x,
    // alexnet.conv3 and vgg.conv5_2 on two threads 1.05-1.4x. Not on larger images (vgg.conv4_2,
    // 28x28: 0.88-0.99x), not with stride 2. Precompute and reuse calls of one shape agree.
    const nnp_size winograd_extent =
        c.operation == ConvolutionOperation::input_gradient ? c.input_size : unit_stride_output_size(c);
    if (*chosen == nnp_convolution_algorithm_wt8x8 && is_unit_stride(c.subsampling) &&
        tiles_needed(winograd_extent, c.kernel_size, 8) <= kMostTilesForSmallWinograd &&
        has_fast_convolution_kernels(kAlgorithmWt6x6, problem, hardware))
      *chosen = kAlgorithmWt6x6;
    // The compute strategy transforms the kernel in every call, and a 16x16 kernel spectrum
    // costs four times an 8x8 one. Per (input, output) channel pair the work is about
    // T^2 (tiles(T) + 15) (measured: a kernel transform costs ~15 tiles' multiply-accumulate
    // and transforms), so 8x8 tiles win while tiles8 <= 4 tiles16 + 45 (alexnet.conv2,
    // 27x27 5x5: 49 against 9 tiles, ft8x8 1.3-1.5x faster than ft16x16 at 1 and 2 threads).
    if (*chosen == nnp_convolution_algorithm_ft16x16 && c.operation == ConvolutionOperation::inference &&
        c.strategy_enum() == nnp_convolution_transform_strategy_compute && max_extent(c.kernel_size) <= 8 &&
        min_extent(c.kernel_size) >= 2 && prefer_8x8_tiles(c, kKernelTransformSlackTiles) &&
        has_fast_convolution_kernels(nnp_convolution_algorithm_ft8x8, problem, hardware))
      *chosen = nnp_convolution_algorithm_ft8x8;
    if ((pointwise || !has_fast_convolution_kernels(*chosen, problem, hardware)) &&
        *chosen != nnp_convolution_algorithm_direct &&
        has_fast_convolution_kernels(nnp_convolution_algorithm_implicit_gemm, problem, hardware))
      *chosen = nnp_convolution_algorithm_implicit_gemm;
    return nnp_status_success;
  }
  if (!algorithm_serves(algorithm, c)) return nnp_status_unsupported_algorithm;
  if (!algorithm_takes_strategy(algorithm, c.strategy_enum()))
    return nnp_status_unsupported_transform_strategy;
  *chosen = algorithm;
  return nnp_status_success;
}

}  // namespace nnjit
