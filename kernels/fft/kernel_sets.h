// FFT convolution kernel sets for the dispatch tables: ft8x8 and ft16x16 on AVX2+FMA
// (generated transforms and multiply-accumulate; the reference twins stand in when code
// generation fails). All four convolution operations; precompute/reuse for inference.
#pragma once

#include "kernels/kernel_set.h"

namespace nnjit::fft {

extern const ConvolutionKernelSet kFft8x8Kernels;
extern const ConvolutionKernelSet kFft16x16Kernels;

}  // namespace nnjit::fft
