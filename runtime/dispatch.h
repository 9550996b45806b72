// Dispatch tables: which kernel set runs an operation for a given algorithm on the
// detected instruction set. Filled once; drivers never test ISA flags themselves.
#pragma once

#include <nnpack.h>

#include "kernels/kernel_set.h"

namespace nnjit {

// Winograd F(4x4, 3x3) on 6x6 tiles: an algorithm value of our own, beyond the enum, that only
// `auto` chooses (callers naming it get nnp_status_invalid_algorithm like any unknown value).
inline constexpr nnp_convolution_algorithm kAlgorithmWt6x6 = static_cast<nnp_convolution_algorithm>(7);

// The best kernel set registered for (algorithm, ISA level the hardware can run)
// that applies to the problem; the reference set when nothing faster does.
// wt8x8_fp16 uses the wt8x8 sets where no fp16 set is registered.
const ConvolutionKernelSet& convolution_kernels(nnp_convolution_algorithm algorithm,
                                                const ConvolutionProblem& problem,
                                                const Hardware& hardware);
// True when something faster than the reference set serves (algorithm, problem) here.
bool has_fast_convolution_kernels(nnp_convolution_algorithm algorithm, const ConvolutionProblem& problem,
                                  const Hardware& hardware);
const FullyConnectedKernelSet& fully_connected_kernels(const Hardware& hardware);
const MaxPoolingKernelSet& max_pooling_kernels(const PoolingShape& shape, const Hardware& hardware);
const ActivationKernelSet& activation_kernels(const Hardware& hardware);

}  // namespace nnjit
