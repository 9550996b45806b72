// The max-pooling kernel family: a vectorised 2x2 stride-2 kernel for AVX2 (the
// shape frameworks route to NNPACK); every other shape stays with the reference set.
#pragma once

#include "kernels/kernel_set.h"

namespace nnjit::pooling {

// True for a 2x2 window with stride 2 (any input size and any padding the API accepts,
// that is 0 or 1 per side).
bool is_2x2_stride_2(const PoolingShape& shape, const Hardware& hardware);

#if defined(__x86_64__)

// Max pooling 2x2/2, NCHW, with padding and the ceil output rule of the API; equal to the
// reference bit for bit (same comparisons in the same order).
void f32_maxpool_2x2s2__avx2(const PoolingShape& shape, const float* input, float* output,
                             const ExecutionContext& context);

// The AVX2 set; applies only to 2x2/2 (registered in runtime/dispatch.cc).
extern const MaxPoolingKernelSet kMaxPooling2x2s2Avx2;

#endif  // __x86_64__

}  // namespace nnjit::pooling
