// Matrix-vector product for batch-1 fully-connected layers: y = W x, W row-major
// [rows][k] (fp32, or IEEE binary16 converted on the fly). Memory-bound: W is
// streamed once, four rows at a time, by a JIT kernel.
#pragma once

#include <cstddef>
#include <cstdint>

#include <pthreadpool.h>

#include "kernels/hardware.h"

namespace nnjit::gemm {

// y[r] = sum over i < k of w[r * stride + i] * x[i], for r < kGemvRows.
// `w` points to fp32 or fp16 values; `stride` is in elements.
using GemvKernel = void (*)(size_t k, const void* w, size_t stride, const float* x, float* y);
inline constexpr size_t kGemvRows = 4;

// JIT kernel for `isa` (fp16 weights with F16C conversion when `fp16`), or the reference twin.
GemvKernel gemv_kernel(Isa isa, bool fp16);
GemvKernel reference_gemv_kernel(bool fp16);
GemvKernel jit_gemv_kernel(Isa isa, bool fp16);  // nullptr when no JIT kernel

// y = W x for `rows` rows, threaded over blocks of rows.
void gemv(size_t rows, size_t k, const void* w, bool fp16, const float* x, float* y,
          pthreadpool_t threadpool, const Hardware& hardware);

}  // namespace nnjit::gemm
