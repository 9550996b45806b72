// f32_relu__avx2 and f32_relu_gradient__avx2: sign-bit-selected leaky ReLU and its gradient.
//
// vblendvps selects by the sign bit of its mask operand, which is exactly the reference
// rule (std::signbit): -0.0 and NaNs with the sign bit set take the slope branch, and the
// product is the same single multiplication `x * slope`, so results match the reference
// bit for bit. Loads precede stores within each vector, so exact aliasing is safe.
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/activation/activation.h"
#include "kernels/parallel.h"

namespace nnjit::activation {
namespace {

// Elements per task: 256 KiB of floats per stream keeps the pool's per-task overhead
// negligible while leaving enough tasks to balance two or more threads.
constexpr size_t kElementsPerTask = 64 * 1024;
// Below this many elements the pool's wake-up costs more than the work.
constexpr size_t kSerialElements = 16 * 1024;

// Where the output of an out-of-place call exceeds this, stores bypass the caches
// (saves the write-allocate read; the output would be evicted anyway).
size_t streaming_threshold_bytes(const Hardware& hardware) {
  const size_t last_level = hardware.l3_bytes != 0 ? hardware.l3_bytes : hardware.l2_bytes * hardware.cores;
  return last_level;
}

pthreadpool_t pool_for(size_t count, pthreadpool_t pool) { return count < kSerialElements ? nullptr : pool; }

__attribute__((target("avx2"))) inline __m256i tail_mask(size_t remaining) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(remaining)), lanes);
}

__attribute__((target("avx2"))) inline __m256 relu8(__m256 x, __m256 slope) {
  return _mm256_blendv_ps(x, _mm256_mul_ps(x, slope), x);
}

template <bool kStream>
__attribute__((target("avx2"))) void relu_range(const float* input, float* output, size_t count,
                                                float negative_slope) {
  const __m256 slope = _mm256_set1_ps(negative_slope);
  size_t i = 0;
  if constexpr (kStream) {
    // Scalar head up to a 32-byte aligned output; then aligned streaming stores.
    while (i < count && (reinterpret_cast<uintptr_t>(output + i) & 31) != 0) {
      const __m256 x = _mm256_set1_ps(input[i]);
      output[i] = _mm256_cvtss_f32(relu8(x, slope));
      ++i;
    }
    for (; i + 32 <= count; i += 32) {
      const __m256 x0 = _mm256_loadu_ps(input + i), x1 = _mm256_loadu_ps(input + i + 8);
      const __m256 x2 = _mm256_loadu_ps(input + i + 16), x3 = _mm256_loadu_ps(input + i + 24);
      _mm256_stream_ps(output + i, relu8(x0, slope));
      _mm256_stream_ps(output + i + 8, relu8(x1, slope));
      _mm256_stream_ps(output + i + 16, relu8(x2, slope));
      _mm256_stream_ps(output + i + 24, relu8(x3, slope));
    }
    _mm_sfence();  // each task orders its own streaming stores before the pool reports completion
  } else {
    for (; i + 32 <= count; i += 32) {
      const __m256 x0 = _mm256_loadu_ps(input + i), x1 = _mm256_loadu_ps(input + i + 8);
      const __m256 x2 = _mm256_loadu_ps(input + i + 16), x3 = _mm256_loadu_ps(input + i + 24);
      _mm256_storeu_ps(output + i, relu8(x0, slope));
      _mm256_storeu_ps(output + i + 8, relu8(x1, slope));
      _mm256_storeu_ps(output + i + 16, relu8(x2, slope));
      _mm256_storeu_ps(output + i + 24, relu8(x3, slope));
    }
  }
  for (; i + 8 <= count; i += 8) _mm256_storeu_ps(output + i, relu8(_mm256_loadu_ps(input + i), slope));
  if (i < count) {
    const __m256i mask = tail_mask(count - i);
    _mm256_maskstore_ps(output + i, mask, relu8(_mm256_maskload_ps(input + i, mask), slope));
  }
}

__attribute__((target("avx2"))) void relu_gradient_range(const float* grad_output, const float* input,
                                                         float* grad_input, size_t count,
                                                         float negative_slope) {
  const __m256 slope = _mm256_set1_ps(negative_slope);
  size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    const __m256 g0 = _mm256_loadu_ps(grad_output + i), g1 = _mm256_loadu_ps(grad_output + i + 8);
    const __m256 x0 = _mm256_loadu_ps(input + i), x1 = _mm256_loadu_ps(input + i + 8);
    _mm256_storeu_ps(grad_input + i, _mm256_blendv_ps(g0, _mm256_mul_ps(g0, slope), x0));
    _mm256_storeu_ps(grad_input + i + 8, _mm256_blendv_ps(g1, _mm256_mul_ps(g1, slope), x1));
  }
  for (; i + 8 <= count; i += 8) {
    const __m256 g = _mm256_loadu_ps(grad_output + i);
    _mm256_storeu_ps(grad_input + i, _mm256_blendv_ps(g, _mm256_mul_ps(g, slope), _mm256_loadu_ps(input + i)));
  }
  if (i < count) {
    const __m256i mask = tail_mask(count - i);
    const __m256 g = _mm256_maskload_ps(grad_output + i, mask);
    const __m256 x = _mm256_maskload_ps(input + i, mask);
    _mm256_maskstore_ps(grad_input + i, mask, _mm256_blendv_ps(g, _mm256_mul_ps(g, slope), x));
  }
}

}  // namespace

void f32_relu__avx2(size_t count, const float* input, float* output, float negative_slope,
                    const ExecutionContext& context) {
  const bool stream = input != output && count * sizeof(float) > streaming_threshold_bytes(*context.hardware);
  parallel_for_tiles(pool_for(count, context.threadpool), count, kElementsPerTask, [&](size_t first, size_t extent) {
    if (stream) relu_range<true>(input + first, output + first, extent, negative_slope);
    else relu_range<false>(input + first, output + first, extent, negative_slope);
  });
}

void f32_relu_gradient__avx2(size_t count, const float* grad_output, const float* input,
                             float* grad_input, float negative_slope, const ExecutionContext& context) {
  parallel_for_tiles(pool_for(count, context.threadpool), count, kElementsPerTask, [&](size_t first, size_t extent) {
    relu_gradient_range(grad_output + first, input + first, grad_input + first, extent, negative_slope);
  });
}

}  // namespace nnjit::activation

#endif  // __x86_64__
