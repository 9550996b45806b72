#include "kernels/gemm/gemv.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "jit/kernel_cache.h"
#include "kernels/gemm/microkernel_generators.h"
#include "kernels/parallel.h"
#include "kernels/reference/reference.h"

namespace nnjit::gemm {
namespace {

// One row of W times x, in order, with fused multiply-adds.
float dot_row(const void* w, bool fp16, size_t row, size_t stride, size_t k, const float* x) {
  float sum = 0.0f;
  for (size_t i = 0; i < k; ++i) {
    const float weight = fp16 ? reference::fp16_to_fp32(static_cast<const uint16_t*>(w)[row * stride + i])
                              : static_cast<const float*>(w)[row * stride + i];
    sum = std::fma(weight, x[i], sum);
  }
  return sum;
}

template <bool Fp16>
void reference_gemv(size_t k, const void* w, size_t stride, const float* x, float* y) {
  for (size_t r = 0; r < kGemvRows; ++r) y[r] = dot_row(w, Fp16, r, stride, k, x);
}

}  // namespace

GemvKernel reference_gemv_kernel(bool fp16) {
  return fp16 ? reference_gemv<true> : reference_gemv<false>;
}

GemvKernel jit_gemv_kernel(Isa isa, bool fp16) {
#if !NNJIT_X64_JIT
  return nullptr;
#endif
  if (generator_isa(isa) != Isa::avx2) return nullptr;
  jit::KernelKey key;
  key.family = jit::KernelFamily::f32_gemv;
  key.isa = Isa::avx2;
  key.mr = static_cast<uint8_t>(kGemvRows);
  key.nr = 1;
  key.k_unroll = 16;
  key.flags = fp16 ? jit::kFp16Weights : 0;
#if NNJIT_X64_JIT
  return reinterpret_cast<GemvKernel>(const_cast<void*>(jit::get_kernel(key, generate_gemv_avx2)));
#endif
}

GemvKernel gemv_kernel(Isa isa, bool fp16) {
  if (GemvKernel kernel = jit_gemv_kernel(isa, fp16)) return kernel;
  return reference_gemv_kernel(fp16);
}

void gemv(size_t rows, size_t k, const void* w, bool fp16, const float* x, float* y,
          pthreadpool_t threadpool, const Hardware& hardware) {
  const GemvKernel kernel = gemv_kernel(hardware.isa, fp16);
  const size_t element = fp16 ? 2 : 4;
  const auto* bytes = static_cast<const uint8_t*>(w);
  // Tasks of 64 rows: enough tasks to balance, long enough streams per task.
  constexpr size_t kRowsPerTask = 64;
  parallel_for_tiles(threadpool, rows, kRowsPerTask, [&](size_t start, size_t extent) {
    size_t r = start;
    for (; r + kGemvRows <= start + extent; r += kGemvRows)
      kernel(k, bytes + r * k * element, k, x, y + r);
    if (r < start + extent) {
      // Fewer than four rows left: run the kernel on the last four rows of the matrix
      // (recomputing some) when there are four, else row by row on a padded copy.
      float tail[kGemvRows];
      if (rows >= kGemvRows) {
        const size_t base = rows - kGemvRows;
        kernel(k, bytes + base * k * element, k, x, tail);
        for (; r < start + extent; ++r) y[r] = tail[r - base];
      } else {
        for (; r < start + extent; ++r) y[r] = dot_row(w, fp16, r, k, k, x);
      }
    }
  });
}

}  // namespace nnjit::gemm
