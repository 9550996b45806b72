// The FFT convolution drivers (ft8x8 and ft16x16): tiling, staging, blocking and
// threading around the tile transforms (transforms.h) and the per-slot complex
// multiply-accumulate (cmac.h).
#pragma once

#include <cstddef>

#include "kernels/kernel_set.h"

namespace nnjit::fft {

// Whether an FFT of `tile` x `tile` serves the problem (kernel within the tile, stride 1).
bool serves(const ConvolutionProblem& problem, size_t tile);

// Exact workspace bytes of run() on a pool of `threads` threads on `hardware` (the blocking
// depends on its cache sizes).
size_t workspace_bytes(const ConvolutionProblem& problem, size_t tile, const Hardware& hardware, size_t threads);

// Bytes of a transformed kernel: output_channels * input_channels * tile * tile floats,
// whatever the input size.
size_t transformed_kernel_bytes(const ConvolutionProblem& problem, size_t tile);

// Writes the transformed kernel (inference, precompute strategy).
void transform_kernel(const ConvolutionProblem& problem, size_t tile, const float* kernel, void* transformed,
                      const ExecutionContext& context);

nnp_status run(const ConvolutionProblem& problem, size_t tile, const ConvolutionTensors& tensors,
               const ExecutionContext& context);

// Tests: bytes of X + Y per block of tiles (0: the default), to exercise many blocks on
// small problems. Changes the workspace size: query it after setting.
void set_block_budget_for_testing(size_t bytes);

}  // namespace nnjit::fft
