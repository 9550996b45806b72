// GEMM-based kernel sets for the dispatch tables: implicit-GEMM and direct (1x1)
// convolution, and the fully-connected layers.
#pragma once

#include "kernels/kernel_set.h"

namespace nnjit::gemm {

// Convolution as one GEMM per image (output and inference; any kernel, stride, padding).
// The kernel is packed once per call (compute) or in advance (precompute/reuse).
extern const ConvolutionKernelSet kConvolutionKernels;

// Fully connected: GEMM for batches, a streaming matrix-vector product for batch 1.
extern const FullyConnectedKernelSet kFullyConnectedKernels;

}  // namespace nnjit::gemm
