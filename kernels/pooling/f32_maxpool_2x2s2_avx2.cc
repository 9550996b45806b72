// f32_maxpool_2x2s2__avx2: 2x2 stride-2 max pooling with AVX2 intrinsics.
//
// Why intrinsics and not JIT: the kernel is memory-bound (4 loads and one quarter-size
// store per 8 outputs), and the only call-dependent values (row length, padding) are
// loop bounds, so generated code could not be specialised into anything faster.
//
// The reference takes each window's cells in row-major order with `if (v > m) m = v`
// from m = -infinity. vmaxps(a, b) is exactly `a > b ? a : b`, so the vector code runs
// the same comparisons in the same order per output — max(x00, -inf), max(x01, .),
// max(x10, .), max(x11, .) — and matches bit for bit, NaNs (never win) and signed zeros
// (first of equals wins) included. Eight outputs take 16 input columns of each row:
// vshufps splits even and odd columns within 128-bit lanes, and one vpermpd at the end
// restores the order; the last 1..7 full windows of a row use masked loads. Long rows are
// read one after the other (partial maxima kept in the output row), short ones together;
// the per-output sequence of comparisons is the same either way. Windows that
// are cut by padding or the overhang of the ceil rule (first/last column or row) are
// computed by the scalar twin of the same sequence.
#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <limits>

#include "kernels/parallel.h"
#include "kernels/pooling/pooling.h"

namespace nnjit::pooling {
namespace {

constexpr float kMinusInfinity = -std::numeric_limits<float>::infinity();
constexpr size_t kSerialElements = 16 * 1024;  // input elements below which the pool is not used
constexpr size_t kInputPerTask = 16 * 1024;     // input elements per task
// From this input width on, the two rows of a window row are read one after the other
// (measured crossover on Zen 4: between 128 and 160 columns).
constexpr size_t kRowByRowMinWidth = 160;

// ceil(doz(before + extent + after, 2) / 2) + 1
size_t output_extent(size_t before, size_t extent, size_t after) {
  const size_t padded = before + extent + after;
  const size_t span = padded > 2 ? padded - 2 : 0;
  return (span + 1) / 2 + 1;
}

// `if (v > m) m = v` over the valid cells of one window, row-major (the reference order).
float window_max(const float* row0, const float* row1, ptrdiff_t column, size_t width) {
  float m = kMinusInfinity;
  for (const float* row : {row0, row1}) {
    if (row == nullptr) continue;
    for (ptrdiff_t c = column; c < column + 2; ++c) {
      if (c < 0 || c >= static_cast<ptrdiff_t>(width)) continue;
      if (row[c] > m) m = row[c];
    }
  }
  return m;
}

// One output row from input rows row0 and row1 (row1 NULL when only one row of the
// windows is inside the image; rows with none are filled by the caller).
template <bool kTwoRows>
__attribute__((target("avx2"))) void pool_row(const float* row0, const float* row1, size_t width,
                                              size_t pad_left, size_t output_width, float* out) {
  // Outputs [pad_left, full_end) have both columns inside the image.
  const size_t full_end = std::min(output_width, (width + pad_left) / 2);
  size_t ox = 0;
  for (; ox < std::min(pad_left, output_width); ++ox)
    out[ox] = window_max(row0, row1, static_cast<ptrdiff_t>(2 * ox) - static_cast<ptrdiff_t>(pad_left), width);

  const __m256 minus_infinity = _mm256_set1_ps(kMinusInfinity);
  const size_t vector_end = ox + (full_end - ox) / 8 * 8;
  if (!kTwoRows || width < kRowByRowMinWidth) {
    // Both rows of each window together.
    for (; ox < vector_end; ox += 8) {
      const float* p0 = row0 + 2 * ox - pad_left;
      const __m256 a0 = _mm256_loadu_ps(p0), b0 = _mm256_loadu_ps(p0 + 8);
      // even columns: x0 x2 x8 x10 | x4 x6 x12 x14; odd columns likewise
      __m256 m = _mm256_max_ps(_mm256_shuffle_ps(a0, b0, 0x88), minus_infinity);
      m = _mm256_max_ps(_mm256_shuffle_ps(a0, b0, 0xDD), m);
      if constexpr (kTwoRows) {
        const float* p1 = row1 + 2 * ox - pad_left;
        const __m256 a1 = _mm256_loadu_ps(p1), b1 = _mm256_loadu_ps(p1 + 8);
        m = _mm256_max_ps(_mm256_shuffle_ps(a1, b1, 0x88), m);
        m = _mm256_max_ps(_mm256_shuffle_ps(a1, b1, 0xDD), m);
      }
      _mm256_storeu_ps(out + ox, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(m), 0xD8)));
    }
  } else {
    // Long rows, row by row: the first row's maxima go to the output in lane order, the
    // second row's pass continues from them and puts the lanes in order. Two sequential
    // read streams instead of two interleaved ones (from memory, about 1.6x faster).
    for (size_t o = ox; o < vector_end; o += 8) {
      const float* p0 = row0 + 2 * o - pad_left;
      const __m256 a0 = _mm256_loadu_ps(p0), b0 = _mm256_loadu_ps(p0 + 8);
      __m256 m = _mm256_max_ps(_mm256_shuffle_ps(a0, b0, 0x88), minus_infinity);
      m = _mm256_max_ps(_mm256_shuffle_ps(a0, b0, 0xDD), m);
      _mm256_storeu_ps(out + o, m);
    }
    for (; ox < vector_end; ox += 8) {
      const float* p1 = row1 + 2 * ox - pad_left;
      const __m256 a1 = _mm256_loadu_ps(p1), b1 = _mm256_loadu_ps(p1 + 8);
      __m256 m = _mm256_max_ps(_mm256_shuffle_ps(a1, b1, 0x88), _mm256_loadu_ps(out + ox));
      m = _mm256_max_ps(_mm256_shuffle_ps(a1, b1, 0xDD), m);
      _mm256_storeu_ps(out + ox, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(m), 0xD8)));
    }
  }
  if (ox < full_end) {
    // The last 1..7 full windows: the same sequence on masked loads (lanes past the 2k
    // input columns read nothing and are not stored).
    const size_t k = full_end - ox;
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask_a = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(2 * k)), lanes);
    const __m256i mask_b = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(2 * k) - 8), lanes);
    const float* p0 = row0 + 2 * ox - pad_left;
    const __m256 a0 = _mm256_maskload_ps(p0, mask_a), b0 = _mm256_maskload_ps(p0 + 8, mask_b);
    __m256 m = _mm256_max_ps(_mm256_shuffle_ps(a0, b0, 0x88), minus_infinity);
    m = _mm256_max_ps(_mm256_shuffle_ps(a0, b0, 0xDD), m);
    if constexpr (kTwoRows) {
      const float* p1 = row1 + 2 * ox - pad_left;
      const __m256 a1 = _mm256_maskload_ps(p1, mask_a), b1 = _mm256_maskload_ps(p1 + 8, mask_b);
      m = _mm256_max_ps(_mm256_shuffle_ps(a1, b1, 0x88), m);
      m = _mm256_max_ps(_mm256_shuffle_ps(a1, b1, 0xDD), m);
    }
    const __m256i mask_out = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(k)), lanes);
    _mm256_maskstore_ps(out + ox, mask_out, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(m), 0xD8)));
    ox = full_end;
  }
  for (; ox < output_width; ++ox)
    out[ox] = window_max(row0, row1, static_cast<ptrdiff_t>(2 * ox) - static_cast<ptrdiff_t>(pad_left), width);
}

}  // namespace

void f32_maxpool_2x2s2__avx2(const PoolingShape& shape, const float* input, float* output,
                             const ExecutionContext& context) {
  const size_t height = shape.input_size.height, width = shape.input_size.width;
  const size_t pad_top = shape.padding.top, pad_left = shape.padding.left;
  const size_t output_height = output_extent(pad_top, height, shape.padding.bottom);
  const size_t output_width = output_extent(pad_left, width, shape.padding.right);
  const size_t planes = shape.batch_size * shape.channels;

  // Tasks are runs of consecutive output rows, across planes where planes are small.
  const size_t rows = planes * output_height;
  const size_t rows_per_task = std::max<size_t>(1, kInputPerTask / (2 * width));
  pthreadpool_t pool = planes * height * width < kSerialElements ? nullptr : context.threadpool;
  parallel_for_tiles(pool, rows, rows_per_task, [&](size_t first, size_t count) {
    size_t plane = first / output_height, oy = first % output_height;
    for (size_t row = 0; row < count; ++row) {
      const float* source = input + plane * height * width;
      // Input rows 2*oy - pad_top and the next one, kept where inside the image.
      const ptrdiff_t top = static_cast<ptrdiff_t>(2 * oy) - static_cast<ptrdiff_t>(pad_top);
      const float* in_rows[2] = {nullptr, nullptr};
      size_t inside = 0;
      for (ptrdiff_t y = top; y < top + 2; ++y)
        if (y >= 0 && y < static_cast<ptrdiff_t>(height)) in_rows[inside++] = source + y * width;
      float* out = output + (plane * output_height + oy) * output_width;
      if (inside == 2) pool_row<true>(in_rows[0], in_rows[1], width, pad_left, output_width, out);
      else if (inside == 1) pool_row<false>(in_rows[0], nullptr, width, pad_left, output_width, out);
      else std::fill(out, out + output_width, kMinusInfinity);
      if (++oy == output_height) oy = 0, ++plane;
    }
  });
}

}  // namespace nnjit::pooling

#endif  // __x86_64__
