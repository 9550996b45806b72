// The Winograd F(6x6, 3x3) kernel set for the dispatch tables (algorithm wt8x8, and
// wt8x8_fp16, which runs the same fp32 code): convolution_output, convolution_input_gradient
// and convolution_inference (stride 1 or 2x2; compute, precompute and reuse).
#pragma once

#include "kernels/kernel_set.h"

namespace nnjit::winograd {

extern const ConvolutionKernelSet kWinogradKernels;

// Winograd F(4x4, 3x3) on 6x6 tiles: stride 1 only (all three strategies), under the internal
// algorithm value kAlgorithmWt6x6 (runtime/dispatch.h) that only `auto` chooses.
extern const ConvolutionKernelSet kWinograd6x6Kernels;

}  // namespace nnjit::winograd
