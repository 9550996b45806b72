// f32_softmax__avx2: numerically stable softmax per row, in single precision.
//
// Each row is cut into blocks of kBlock elements (16 KiB, so a block stays in L1
// between the passes over it). For block b with elements x:
//   m_b = max x                               (`max(x, m)` keeps m when x is NaN, as the
//                                              reference's `if (x > m) m = x` does)
//   e_i = exp(x_i - m_b), written to the output   (every exponent <= 0: no overflow)
//   s_b = sum of e_i, accumulated in double
// then per row, in double and in block order:
//   M = max m_b,  S = sum s_b * exp(m_b - M),  f_b = float(exp(m_b - M) / S)
// and finally y_i = e_i * f_b. The input is read once from memory (the exponentials
// re-read it from L1), the output written once and re-scaled while still cached
// (rows of up to a few hundred thousand channels stay in L2).
//
// Accuracy: the exponential is within 1 ulp (exact argument reduction, degree-6
// polynomial), s_b adds at most half an ulp (pairs summed in float, then double), and the
// final roundings one more, so every result at least 2^-126 is within 4 ulp-relative of the
// exact value exp(x - M) / sum exp(x - M) (the accuracy test measures 2.3 at worst). Results below
// e^-87.6 (< 1e-38) become 0.
// Special values follow the reference: a NaN anywhere makes the row NaN; +infinity, or a
// row of only -infinity, gives NaN (infinity - infinity); -infinity elements in a row with
// a finite maximum give 0.
//
// Threads: long rows with few of them are split into (row, block) tasks, everything else
// runs whole rows per task; both schedules compute every value with the same arithmetic,
// so results do not depend on the thread count. In place works: a block is read before the
// same block is written.
#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/activation/activation.h"
#include "kernels/parallel.h"

namespace nnjit::activation {
namespace {

constexpr size_t kBlock = 4096;                 // elements per block
constexpr size_t kElementsPerTask = 64 * 1024;  // whole-row tasks: rows per task * channels
constexpr size_t kSerialElements = 16 * 1024;   // below this, the pool costs more than it saves
constexpr size_t kRowsPerThreadForRowTasks = 4;

struct BlockStats {
  float max;   // m_b (-infinity when the block has no number above -infinity)
  double sum;  // s_b
};

__attribute__((target("avx2"))) inline __m256i tail_mask(size_t remaining) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(remaining)), lanes);
}

__attribute__((target("avx2"))) inline float horizontal_max(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

__attribute__((target("avx2"))) inline double horizontal_sum(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
  return _mm_cvtsd_f64(s);
}

__attribute__((target("avx2"))) inline __m256d accumulate(__m256d sum, __m128 four) {
  return _mm256_add_pd(sum, _mm256_cvtps_pd(four));
}

// e^(x - m) per lane for x <= m; see f32_exp_difference__avx2 in activation.h.
__attribute__((target("avx2,fma"), always_inline)) inline __m256 exp_difference(__m256 x, __m256 m) {
  // d = x - m rounded, and its rounding error (Knuth's two-sum): d + error == x - m exactly.
  // Without the error term, |x - m| * 2^-24 of absolute error in the argument would be up
  // to 40 ulp of the result near the underflow limit.
  const __m256 d = _mm256_sub_ps(x, m);
  const __m256 x_part = _mm256_add_ps(d, m);
  const __m256 minus_m_part = _mm256_sub_ps(d, x_part);
  const __m256 error = _mm256_sub_ps(_mm256_sub_ps(x, x_part), _mm256_add_ps(m, minus_m_part));

  // n = round(d / ln 2) lands in the low mantissa bits of t (1.5 * 2^23 + 127 + n), so
  // shifting t's bits left by 23 gives the float 2^n directly (n >= -126 is guaranteed
  // below the underflow cut).
  const __m256 magic = _mm256_set1_ps(0x1.8p23f + 127.0f);
  const __m256 t = _mm256_fmadd_ps(d, _mm256_set1_ps(0x1.715476p+0f), magic);
  const __m256 n = _mm256_sub_ps(t, magic);
  const __m256 two_to_n = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(t), 23));
  // r = x - m - n ln 2 with ln 2 in two parts; the first product-difference is exact.
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e430p-1f), d);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-0x1.05c610p-29f), r);
  r = _mm256_add_ps(r, error);

  // exp(r) on |r| <= ln(2)/2 as 1 + r + r^2 q(r), q of degree 4 interpolating (e^r - 1 - r) / r^2
  // at 5 Chebyshev nodes of the interval (relative error below 1e-8, under 0.1 ulp).
  __m256 q = _mm256_set1_ps(0x1.6d10fcp-10f);
  q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(0x1.120b62p-7f));
  q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(0x1.55551ap-5f));
  q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(0x1.5554dep-3f));
  q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(0.5f));
  __m256 p = _mm256_fmadd_ps(q, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256 result = _mm256_mul_ps(p, two_to_n);

  // Below e^-87.6 the result is under 1e-38: 0 (NaN compares false and stays NaN).
  const __m256 underflow = _mm256_cmp_ps(d, _mm256_set1_ps(-87.6f), _CMP_LT_OQ);
  return _mm256_andnot_ps(underflow, result);
}

// m_b, then e_i = exp(x_i - m_b) into y and s_b. When m_b is -infinity (the block holds
// only -infinity and NaN) the exponentials are taken against 0 instead: -infinity gives 0
// and NaN stays NaN.
__attribute__((target("avx2,fma"))) BlockStats block_exponentials(const float* x, float* y, size_t n) {
  const __m256 minus_infinity = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  __m256 max0 = minus_infinity, max1 = minus_infinity;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    max0 = _mm256_max_ps(_mm256_loadu_ps(x + i), max0);
    max1 = _mm256_max_ps(_mm256_loadu_ps(x + i + 8), max1);
  }
  for (; i + 8 <= n; i += 8) max0 = _mm256_max_ps(_mm256_loadu_ps(x + i), max0);
  if (i < n) {
    const __m256i mask = tail_mask(n - i);
    const __m256 tail = _mm256_blendv_ps(minus_infinity, _mm256_maskload_ps(x + i, mask), _mm256_castsi256_ps(mask));
    max1 = _mm256_max_ps(tail, max1);
  }
  const float block_max = horizontal_max(_mm256_max_ps(max0, max1));
  const __m256 m = _mm256_set1_ps(block_max == -std::numeric_limits<float>::infinity() ? 0.0f : block_max);

  // Pairs of vectors are added in float (one rounding, at most half an ulp of the pair),
  // then accumulated in double.
  __m256d sum0 = _mm256_setzero_pd(), sum1 = _mm256_setzero_pd();
  for (i = 0; i + 16 <= n; i += 16) {
    const __m256 e0 = exp_difference(_mm256_loadu_ps(x + i), m);
    const __m256 e1 = exp_difference(_mm256_loadu_ps(x + i + 8), m);
    _mm256_storeu_ps(y + i, e0);
    _mm256_storeu_ps(y + i + 8, e1);
    const __m256 pair = _mm256_add_ps(e0, e1);
    sum0 = accumulate(sum0, _mm256_castps256_ps128(pair));
    sum1 = accumulate(sum1, _mm256_extractf128_ps(pair, 1));
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp_difference(_mm256_loadu_ps(x + i), m);
    _mm256_storeu_ps(y + i, e);
    sum0 = accumulate(sum0, _mm256_castps256_ps128(e));
    sum1 = accumulate(sum1, _mm256_extractf128_ps(e, 1));
  }
  if (i < n) {
    const __m256i mask = tail_mask(n - i);
    const __m256 e = _mm256_and_ps(exp_difference(_mm256_maskload_ps(x + i, mask), m),
                                   _mm256_castsi256_ps(mask));
    _mm256_maskstore_ps(y + i, mask, e);
    sum0 = accumulate(sum0, _mm256_castps256_ps128(e));
    sum1 = accumulate(sum1, _mm256_extractf128_ps(e, 1));
  }
  return {block_max, horizontal_sum(_mm256_add_pd(sum0, sum1))};
}

// y_i *= factor over n elements.
__attribute__((target("avx2"))) void scale_block(float* y, size_t n, float factor) {
  const __m256 f = _mm256_set1_ps(factor);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), f));
    _mm256_storeu_ps(y + i + 8, _mm256_mul_ps(_mm256_loadu_ps(y + i + 8), f));
  }
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), f));
  if (i < n) {
    const __m256i mask = tail_mask(n - i);
    _mm256_maskstore_ps(y + i, mask, _mm256_mul_ps(_mm256_maskload_ps(y + i, mask), f));
  }
}

// The per-block factors f_b of one row from its block statistics (same for any schedule).
void block_factors(const BlockStats* stats, size_t blocks, float* factors) {
  if (blocks == 1) {  // the general formula with exp(0) = 1, without calling exp
    factors[0] = stats[0].max == -std::numeric_limits<float>::infinity()
                     ? std::numeric_limits<float>::quiet_NaN()
                     : static_cast<float>(1.0 / stats[0].sum);
    return;
  }
  float row_max = -std::numeric_limits<float>::infinity();
  for (size_t b = 0; b < blocks; ++b)
    if (stats[b].max > row_max) row_max = stats[b].max;
  if (row_max == -std::numeric_limits<float>::infinity()) {
    // No element above -infinity: the reference computes -inf - (-inf) = NaN everywhere.
    for (size_t b = 0; b < blocks; ++b) factors[b] = std::numeric_limits<float>::quiet_NaN();
    return;
  }
  const double maximum = row_max;
  double sum = 0.0;
  for (size_t b = 0; b < blocks; ++b) {
    // A block of only -infinity has s_b = 0 (skipped: its weight could overflow); a NaN
    // s_b is added and makes the row NaN.
    if (stats[b].sum != 0.0) {
      const double block_max = stats[b].max == -std::numeric_limits<float>::infinity() ? 0.0 : stats[b].max;
      sum += stats[b].sum * std::exp(block_max - maximum);
    }
  }
  for (size_t b = 0; b < blocks; ++b) {
    // exp(-inf) = 0: blocks of only -infinity scale their zeros (and NaNs) by 0.
    factors[b] = static_cast<float>(std::exp(static_cast<double>(stats[b].max) - maximum) / sum);
  }
}

size_t block_count(size_t channels) { return (channels + kBlock - 1) / kBlock; }

// One whole row on the calling thread.
void softmax_row(const float* x, float* y, size_t channels) {
  const size_t blocks = block_count(channels);
  if (blocks == 1) {
    const BlockStats stats = block_exponentials(x, y, channels);
    float factor;
    block_factors(&stats, 1, &factor);
    scale_block(y, channels, factor);
    return;
  }
  constexpr size_t kStackBlocks = 16;  // rows up to 64 Ki channels need no allocation
  BlockStats stack_stats[kStackBlocks] = {};
  float stack_factors[kStackBlocks] = {};
  std::vector<BlockStats> heap_stats;
  std::vector<float> heap_factors;
  BlockStats* stats = stack_stats;
  float* factors = stack_factors;
  if (blocks > kStackBlocks) {
    heap_stats.resize(blocks);
    heap_factors.resize(blocks);
    stats = heap_stats.data();
    factors = heap_factors.data();
  }
  for (size_t b = 0; b < blocks; ++b) {
    const size_t first = b * kBlock;
    stats[b] = block_exponentials(x + first, y + first, std::min(kBlock, channels - first));
  }
  block_factors(stats, blocks, factors);
  for (size_t b = 0; b < blocks; ++b) {
    const size_t first = b * kBlock;
    scale_block(y + first, std::min(kBlock, channels - first), factors[b]);
  }
}

}  // namespace

__attribute__((target("avx2,fma"))) void f32_exp_difference__avx2(const float x[8], const float m[8],
                                                                  float result[8]) {
  _mm256_storeu_ps(result, exp_difference(_mm256_loadu_ps(x), _mm256_loadu_ps(m)));
}

void f32_softmax__avx2(size_t batch_size, size_t channels, const float* input, float* output,
                       const ExecutionContext& context) {
  const size_t total = batch_size * channels;
  pthreadpool_t pool = total < kSerialElements ? nullptr : context.threadpool;
  const size_t threads = pthreadpool_get_threads_count(pool);
  const size_t blocks = block_count(channels);

  if (blocks == 1 || batch_size >= kRowsPerThreadForRowTasks * threads) {
    const size_t rows_per_task = std::max<size_t>(1, kElementsPerTask / channels);
    parallel_for_tiles(pool, batch_size, rows_per_task, [&](size_t first, size_t rows) {
      for (size_t row = first; row < first + rows; ++row)
        softmax_row(input + row * channels, output + row * channels, channels);
    });
    return;
  }

  // Few long rows: every (row, block) is a task, in three phases.
  const size_t items = batch_size * blocks;
  std::vector<BlockStats> stats(items);
  std::vector<float> factors(items);
  auto block_range = [&](size_t item, size_t* first, size_t* count) {
    const size_t row = item / blocks, b = item % blocks;
    *first = row * channels + b * kBlock;
    *count = std::min(kBlock, channels - b * kBlock);
  };
  parallel_for(pool, items, [&](size_t item) {
    size_t first, count;
    block_range(item, &first, &count);
    stats[item] = block_exponentials(input + first, output + first, count);
  });
  for (size_t row = 0; row < batch_size; ++row)
    block_factors(stats.data() + row * blocks, blocks, factors.data() + row * blocks);
  parallel_for(pool, items, [&](size_t item) {
    size_t first, count;
    block_range(item, &first, &count);
    scale_block(output + first, count, factors[item]);
  });
}

}  // namespace nnjit::activation

#endif  // __x86_64__
