// The activation kernel family: ReLU, its gradient and softmax for AVX2+FMA.
//
// All three are memory-bound, so they are written with intrinsics rather than JIT:
// nothing about the call (count, slope, row length) would change the instructions
// worth emitting, and the compiler's register allocation and scheduling of a short
// streaming loop are as good as hand-emitted code. Each kernel threads over the
// pool in fixed tiles; every element is computed by the same arithmetic whatever
// the tiling, so results never depend on the thread count.
#pragma once

#include <cstddef>

#include "kernels/kernel_set.h"

namespace nnjit::activation {

#if defined(__x86_64__)

// output = signbit(x) ? x * negative_slope : x (in place allowed). Non-temporal
// stores are used for large out-of-place calls (the output would not fit in cache).
void f32_relu__avx2(size_t count, const float* input, float* output, float negative_slope,
                    const ExecutionContext& context);

// grad_input = signbit(input) ? grad_output * negative_slope : grad_output (any aliasing).
void f32_relu_gradient__avx2(size_t count, const float* grad_output, const float* input,
                             float* grad_input, float negative_slope, const ExecutionContext& context);

// Softmax per row of `channels` values (in place allowed); see f32_softmax_avx2.cc for the
// algorithm and its accuracy (within 8 ulp-relative of the exact value for results above
// 2^-126; results below 1e-38 may be flushed to zero). On AVX-512 machines (as allowed by
// context.hardware) rows of up to 4096 channels run 16-lane loops.
void f32_softmax__avx2(size_t batch_size, size_t channels, const float* input, float* output,
                       const ExecutionContext& context);

// The softmax exponential, exposed for its accuracy test: for a block whose maximum is `max`
// (x <= max), returns the reference point r the kernel takes the exponentials from (within
// ln2/16 of max, or max itself when |max| > 4096) and sets result[i] = e^(x[i] - r). Within
// 1.5 ulp where the result is at least 2^-126; results below about e^-87.6 are 0; NaN
// propagates.
double f32_exp_difference__avx2(const float x[8], float max, float result[8]);

// The AVX2 activation kernel set (registered in runtime/dispatch.cc).
extern const ActivationKernelSet kActivationKernelsAvx2;

#endif  // __x86_64__

}  // namespace nnjit::activation
