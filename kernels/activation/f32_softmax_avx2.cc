// f32_softmax__avx2: numerically stable softmax per row, in single precision.
//
// Every row (or, for rows longer than kBlock elements, every block of a row) is
// exponentiated against a reference point near its maximum:
//   e_i = 2 e^(x_i - reference),  s_b = sum of the e_i (float trees of at most 3 levels,
//   then double),
// and per row, in double and in block order, with weights w_b = e^(reference_b - R) for R
// the largest reference:
//   S = sum s_b w_b,  f_b = float(w_b / S),  y_i = e_i * f_b.
// (The factor 2 keeps 2^k representable down to e^-88; it cancels in f_b.)
//
// The exponential. For a reference guess m with |m| <= 4096 the reference is q ln2/8 with
// q = round(m 8/ln2) and, with N = round(x 8/ln2) from one FMA with a magic number,
//   x - reference - (N - q) ln2/8 = x - N ln2/8 = (x - N ln2_hi/8) - N ln2_lo/8,
// where the first difference is exact in one FMA (for |x| >= 2^-4; below, its rounding error
// is under 2^-28). So the reduction costs 4 operations and never rounds x - m. For larger
// |m| (and +infinity) the reference is m itself, and x - m is rounded and its error recovered
// by Knuth's two-sum (9 operations). Then with n = N - q = 8k + j:
//   2 e^(x - reference) = 2^(k + 1 + j/8) c0 (1 + p(r)),  |r| <= 1.002 ln2/16,
// 2^(1 + j/8) c0 from an 8-entry table (vpermps), its rounding error from a second one, k
// added to the exponent bits, and p of degree 3 (minimax for the relative error, c0 its
// constant term). Elements more than 87.6 below the reference give 0.
//
// The reference. Rows of up to kBlock elements take it from the maximum of their first 16
// elements, without a pass over the row: that is at most the row maximum M (the reference
// at most M + ln2/16), so nothing that matters is flushed to 0, and the pass itself finds M
// and checks M - reference <= 75 (so no e_i overflows: e_i <= 2 e^75, k <= 108). Rows that
// fail the check, or whose first elements are no finite numbers within 4096, and blocks of
// longer rows, take a range pass first and the reference of their maximum.
//
// Accuracy (relative errors in units of u = 2^-24): an exponential is within 1.5 u (its final
// rounding 1 u, the polynomial 0.36 u, intermediate roundings 0.11 u); so is S with those of
// all the elements, plus 3 u for the float additions (three levels); the conversion of f_b
// and the product y_i add 1 u each. In all, y_i is within 1.5 + 1.5 + 3 + 1 + 1 = 8 u of the
// exact value exp(x - M) / sum exp(x - M), so every result at least 2^-126 is within 8 ulp
// (the accuracy test measures about 2.3). Results that would be below 1e-38 may be 0.
// Special values follow the reference: a NaN anywhere makes the row NaN; +infinity, or a
// row of only -infinity, gives NaN (infinity - infinity); -infinity elements in a row with
// a finite maximum give 0.
//
// Passes. Rows of up to kBlock elements are pipelined: one loop exponentiates row r into a
// scratch buffer (reading the row from memory) and scales row r - 1 from the other scratch
// buffer into the output. So the input is read from memory once and the output written
// once, with non-temporal stores when it is larger than the last-level cache (for rows of
// at least 128 elements; the lines a row shares with its neighbours get cached stores: half
// lines streamed by different passes cost far more). Rows that are not 32-byte aligned
// have their scaling in a separate pass. Longer rows take per-block passes: range,
// exponentials into the output, then scaling in place.
//
// Instruction sets: the loops are AVX2+FMA. On AVX-512 machines the pipelined loop runs on
// 16-lane vectors instead: Zen 4 executes them at the same FLOPS, but the 8-lane loop is
// limited by instruction throughput (and its 16 vector registers), not by its FMA pipes. It
// computes every exponential with the same operations but sums in a different order, so the
// two can differ in the last bit.
//
// Threads: long rows with few of them are split into (row, block) tasks, everything else
// runs whole rows per task; both schedules compute every value with the same arithmetic,
// so results do not depend on the thread count. In place works: a row is read before its
// output is written.
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

#define NNJIT_AVX2 __attribute__((target("avx2,fma"), always_inline)) inline
#define NNJIT_AVX512 __attribute__((target("avx2,fma,avx512f"), always_inline)) inline

namespace nnjit::activation {
namespace {

constexpr size_t kBlock = 4096;                 // elements per block
constexpr size_t kElementsPerTask = 64 * 1024;  // whole-row tasks: rows per task * channels
constexpr size_t kSerialElements = 16 * 1024;   // below this, the pool costs more than it saves
constexpr size_t kRowsPerThreadForRowTasks = 4;
constexpr float kUnderflow = -87.6f;            // e^-87.6 < 1e-38: results below become 0
constexpr float kMaxExactReduction = 4096.0f;   // |block maximum| up to this: the exact reduction
constexpr double kLn2Over8 = 0x1.62e42fefa39efp-4;
constexpr double kEightOverLn2 = 0x1.71547652b82fep+3;
constexpr float kInfinity = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

size_t streaming_threshold_bytes(const Hardware& hardware) {
  return hardware.l3_bytes != 0 ? hardware.l3_bytes : hardware.l2_bytes * hardware.cores;
}

// ---- the reference point and the factors (scalar) ------------------------------------------

// Maximum and minimum of a block's numbers (NaN ignored: `max(x, m)` keeps m when x is NaN,
// as the reference's `if (x > m) m = x` does); -inf/+inf when it has none.
struct Range {
  float max, min;
};

// Where a block's exponentials are taken from: e_i = 2 e^(x_i - value).
struct Reference {
  double value;     // q ln2/8 (exact reduction) or the block maximum (two-sum)
  float magic;      // exact reduction: 1.5 * 2^23 - q; two-sum: the maximum
  float threshold;  // x below this gives 0: x - value < -87.6
  bool exact;       // the exact reduction applies
  bool mask;        // some x may lie below the threshold (or the two-sum path)
};

Reference pick_reference(Range range) {
  Reference ref;
  const float m = range.max == -kInfinity ? 0.0f : range.max;  // only -infinity and NaN: against 0
  ref.exact = std::fabs(m) <= kMaxExactReduction;
  if (ref.exact) {
    const double q = std::nearbyint(static_cast<double>(m) * kEightOverLn2);
    ref.value = q * kLn2Over8;
    ref.magic = static_cast<float>(0x1.8p23 - q);  // exact: |q| < 2^16
  } else {
    ref.value = m;
    ref.magic = m;
  }
  // Lanes at or above the threshold have x - value >= -87.6005: n >= -1011, k >= -127.
  ref.threshold = static_cast<float>(ref.value + kUnderflow);
  ref.mask = !ref.exact || !(range.min >= ref.threshold);
  return ref;
}

struct BlockStats {
  float max;         // m_b (-infinity when the block has no number above -infinity)
  double reference;  // e_i = 2 e^(x_i - reference)
  double sum;        // s_b = sum of the e_i
};

// The per-block factors f_b of one row from its block statistics (same for any schedule).
void block_factors(const BlockStats* stats, size_t blocks, float* factors) {
  if (blocks == 1) {  // the general formula with w = 1, without calling exp
    factors[0] = stats[0].max == -kInfinity ? kNaN : static_cast<float>(1.0 / stats[0].sum);
    return;
  }
  double maximum = -std::numeric_limits<double>::infinity();
  for (size_t b = 0; b < blocks; ++b)
    if (stats[b].max != -kInfinity && stats[b].reference > maximum) maximum = stats[b].reference;
  if (maximum == -std::numeric_limits<double>::infinity()) {
    // No element above -infinity: the reference computes -inf - (-inf) = NaN everywhere.
    for (size_t b = 0; b < blocks; ++b) factors[b] = kNaN;
    return;
  }
  double sum = 0.0;
  for (size_t b = 0; b < blocks; ++b) {
    // A block of only -infinity has s_b = 0 (skipped: its weight could overflow); a NaN
    // s_b is added and makes the row NaN (so does a +infinity reference).
    if (stats[b].sum != 0.0) sum += stats[b].sum * std::exp(stats[b].reference - maximum);
  }
  for (size_t b = 0; b < blocks; ++b) {
    // Blocks of only -infinity scale their zeros (and NaNs) by 0.
    const double weight = stats[b].max == -kInfinity ? 0.0 : std::exp(stats[b].reference - maximum);
    factors[b] = static_cast<float>(weight / sum);
  }
}

float row_factor(Range range, double sum) {
  const BlockStats stats{range.max, 0.0, sum};
  float factor;
  block_factors(&stats, 1, &factor);
  return factor;
}

size_t block_count(size_t channels) { return (channels + kBlock - 1) / kBlock; }

// ---- constants of the exponential -----------------------------------------------------------

struct alignas(64) ExpConstants {
  float log2e_x8[16], magic[16], ln2_8_hi[16], ln2_8_lo[16], c1[16], c2[16], c3[16];
  uint32_t table[16];     // 2^(1 + j/8) c0 (j = lane mod 8), minus j << 20 in the bits
  float corrections[16];  // the relative rounding error of each table entry
};
#define NNJIT_SPLAT(v) {v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v}
#define NNJIT_TWICE(a, b, c, d, e, f, g, h) {a, b, c, d, e, f, g, h, a, b, c, d, e, f, g, h}
constexpr ExpConstants kExp = {
    NNJIT_SPLAT(0x1.715476p+3f), NNJIT_SPLAT(0x1.8p23f), NNJIT_SPLAT(0x1.62e43p-4f), NNJIT_SPLAT(-0x1.05c61p-32f),
    NNJIT_SPLAT(0x1.000002p+0f), NNJIT_SPLAT(0x1.000a5ap-1f), NNJIT_SPLAT(0x1.554d0ep-3f),
    NNJIT_TWICE(0x40000000u, 0x3ffb95c2u, 0x3ff837f0u, 0x3ff5fed6u, 0x3ff504f3u, 0x3ff5672au, 0x3ff744fdu,
                0x3ffac0c7u),
    NNJIT_TWICE(-0x1.414c5cp-26f, -0x1.07a936p-25f, 0x1.c6a74ep-27f, 0x1.6ac12ap-25f, -0x1.b46ff2p-30f,
                -0x1.cec7d2p-27f, -0x1.1f16eep-25f, -0x1.aa94bap-26f)};
#undef NNJIT_SPLAT
#undef NNJIT_TWICE

// The arguments of one row (or block) pass: e_i = 2 e^(x_i - reference) into e[0, n), their
// sum and the maximum of x (NaN ignored); with fusion also prev_y = prev_e * prev_factor.
struct RowPass {
  const float* x;
  float* e;
  size_t n;
  const Reference* ref;
  const float* prev_e;
  float* prev_y;
  float prev_factor;
  float* max;
};

// ---- AVX2: 8 lanes ----------------------------------------------------------------------

NNJIT_AVX2 __m256i tail_mask8(size_t remaining) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(remaining)), lanes);
}

NNJIT_AVX2 float horizontal_max8(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

NNJIT_AVX2 float horizontal_min8(__m256 v) {
  __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_min_ps(m, _mm_movehl_ps(m, m));
  m = _mm_min_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

NNJIT_AVX2 double horizontal_sum4(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
  return _mm_cvtsd_f64(s);
}

NNJIT_AVX2 __m256d widen_add8(__m256d sum, __m256 s) {
  return _mm256_add_pd(sum, _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(s)),
                                          _mm256_cvtps_pd(_mm256_extractf128_ps(s, 1))));
}

NNJIT_AVX2 __m256 splat8(const float* p) { return _mm256_load_ps(p); }

// The streaming stores of one output row: only whole 64-byte lines inside the row are
// streamed; the lines it shares with its neighbours get cached stores (their halves are
// written by different passes, and a write-combining buffer flushed with half a line costs
// far more than a cached line).
struct RowLines {
  size_t begin, end;  // elements [begin, end) cover whole lines
  RowLines(const float* y, size_t n) {
    begin = std::min(n, ((64 - (reinterpret_cast<uintptr_t>(y) & 63)) & 63) / sizeof(float));
    end = begin + (n - begin) / 16 * 16;
  }
  bool whole(size_t m) const { return m >= begin && m + 8 <= end; }  // the 8 floats at m
};

// y[m, m + 8) = v; kStream: y + m is 32-byte aligned.
template <bool kStream>
NNJIT_AVX2 void store_row8(float* y, size_t m, __m256 v, const RowLines& lines) {
  if (kStream && lines.whole(m)) {
    _mm256_stream_ps(y + m, v);
  } else {
    _mm256_storeu_ps(y + m, v);
  }
}

// y[from, to) = e[from, to) * f (from a multiple of 8).
template <bool kStream>
NNJIT_AVX2 void scale_span8(const float* e, float* y, size_t from, size_t to, __m256 f, const RowLines& lines) {
  size_t m = from;
  for (; m + 8 <= to; m += 8) store_row8<kStream>(y, m, _mm256_mul_ps(_mm256_loadu_ps(e + m), f), lines);
  if (m < to) {
    const __m256i mask = tail_mask8(to - m);
    _mm256_maskstore_ps(y + m, mask, _mm256_mul_ps(_mm256_maskload_ps(e + m, mask), f));
  }
}

struct Range8 {
  __m256 max0, max1, min0, min1;
  NNJIT_AVX2 static Range8 start() {
    const __m256 lo = _mm256_set1_ps(-kInfinity), hi = _mm256_set1_ps(kInfinity);
    return {lo, lo, hi, hi};
  }
  NNJIT_AVX2 void add(__m256 v0, __m256 v1) {
    max0 = _mm256_max_ps(v0, max0);
    max1 = _mm256_max_ps(v1, max1);
    min0 = _mm256_min_ps(v0, min0);
    min1 = _mm256_min_ps(v1, min1);
  }
  NNJIT_AVX2 void add(__m256 v) {
    max0 = _mm256_max_ps(v, max0);
    min0 = _mm256_min_ps(v, min0);
  }
  NNJIT_AVX2 void add_masked(__m256 v, __m256i mask) {
    max1 = _mm256_max_ps(_mm256_blendv_ps(_mm256_set1_ps(-kInfinity), v, _mm256_castsi256_ps(mask)), max1);
    min1 = _mm256_min_ps(_mm256_blendv_ps(_mm256_set1_ps(kInfinity), v, _mm256_castsi256_ps(mask)), min1);
  }
  NNJIT_AVX2 Range finish() const {
    return {horizontal_max8(_mm256_max_ps(max0, max1)), horizontal_min8(_mm256_min_ps(min0, min1))};
  }
};

// 2 e^(x - reference) for 8 lanes (see the file comment).
template <bool kExact, bool kMask>
struct Exp8 {
  __m256 magic, threshold;

  NNJIT_AVX2 explicit Exp8(const Reference& ref)
      : magic(_mm256_set1_ps(ref.magic)), threshold(_mm256_set1_ps(ref.threshold)) {}

  NNJIT_AVX2 __m256 operator()(__m256 x) const {
    __m256 t, r;  // t = 1.5 * 2^23 + n in float (n in the low bits), r = x - reference - n ln2/8
    if constexpr (kExact) {
      t = _mm256_fmadd_ps(x, splat8(kExp.log2e_x8), magic);
      const __m256 big_n = _mm256_sub_ps(t, magic);                          // N = n + q
      const __m256 r_hi = _mm256_fnmadd_ps(big_n, splat8(kExp.ln2_8_hi), x);  // exact
      r = _mm256_fnmadd_ps(big_n, splat8(kExp.ln2_8_lo), r_hi);
    } else {
      const __m256 d = _mm256_sub_ps(x, magic);
      const __m256 x_part = _mm256_add_ps(d, magic);
      const __m256 minus_m_part = _mm256_sub_ps(d, x_part);
      const __m256 error = _mm256_sub_ps(_mm256_sub_ps(x, x_part), _mm256_add_ps(magic, minus_m_part));
      t = _mm256_fmadd_ps(d, splat8(kExp.log2e_x8), splat8(kExp.magic));
      const __m256 n = _mm256_sub_ps(t, splat8(kExp.magic));
      const __m256 r_hi = _mm256_fnmadd_ps(n, splat8(kExp.ln2_8_hi), d);  // exact
      r = _mm256_add_ps(r_hi, _mm256_fnmadd_ps(n, splat8(kExp.ln2_8_lo), error));
    }
    // The table entry j (its bits less j << 20) plus n << 20 (= k << 23 + j << 20) puts k
    // into the exponent.
    const __m256i t_bits = _mm256_castps_si256(t);
    const __m256 scale = _mm256_castsi256_ps(_mm256_add_epi32(
        _mm256_castps_si256(_mm256_permutevar8x32_ps(splat8(reinterpret_cast<const float*>(kExp.table)), t_bits)),
        _mm256_slli_epi32(t_bits, 20)));
    const __m256 correction = _mm256_permutevar8x32_ps(splat8(kExp.corrections), t_bits);
    __m256 p = _mm256_fmadd_ps(splat8(kExp.c3), r, splat8(kExp.c2));
    p = _mm256_fmadd_ps(p, r, splat8(kExp.c1));
    p = _mm256_fmadd_ps(p, r, correction);
    const __m256 e = _mm256_fmadd_ps(scale, p, scale);
    if constexpr (kMask) return _mm256_and_ps(e, _mm256_cmp_ps(x, threshold, _CMP_NLT_UQ));  // NaN stays
    return e;
  }
};

// One pass over a row with 8 lanes (see RowPass). Sums: float trees over 8 vectors.
template <bool kExact, bool kMask, bool kFuse, bool kStream>
__attribute__((target("avx2,fma"), noinline)) double row_pass8(const RowPass& pass) {
  const RowPass a = pass;  // a copy: the vector stores below could alias the caller's
  const float* x = a.x;
  float* e = a.e;
  const size_t n = a.n;
  const Exp8<kExact, kMask> exp2x(*a.ref);
  const __m256 f = _mm256_set1_ps(a.prev_factor);
  const RowLines lines(a.prev_y, n);
  const size_t pipelined = n / 64 * 64;
  const size_t shift = lines.begin + pipelined <= n ? lines.begin : 0;  // scaling chunks start on lines
  Range8 range = Range8::start();
  __m256d sum = _mm256_setzero_pd();
  size_t i = 0;
  for (; i < pipelined; i += 64) {
    __m256 v[8];
    const size_t m = shift + pipelined - i - 64;  // the scaling in descending chunks (see row_pass16)
    for (size_t k = 0; k < 8; ++k) {
      if constexpr (kFuse) {
        store_row8<kStream>(a.prev_y, m + 8 * k, _mm256_mul_ps(_mm256_loadu_ps(a.prev_e + m + 8 * k), f), lines);
      }
      const __m256 xv = _mm256_loadu_ps(x + i + 8 * k);
      if (k % 2 == 0) range.max0 = _mm256_max_ps(xv, range.max0);
      else range.max1 = _mm256_max_ps(xv, range.max1);
      v[k] = exp2x(xv);
      _mm256_storeu_ps(e + i + 8 * k, v[k]);
    }
    const __m256 s0 = _mm256_add_ps(_mm256_add_ps(v[0], v[1]), _mm256_add_ps(v[2], v[3]));
    const __m256 s1 = _mm256_add_ps(_mm256_add_ps(v[4], v[5]), _mm256_add_ps(v[6], v[7]));
    sum = widen_add8(sum, _mm256_add_ps(s0, s1));
  }
  if constexpr (kFuse) {
    scale_span8<kStream>(a.prev_e, a.prev_y, 0, shift, f, lines);
    scale_span8<kStream>(a.prev_e, a.prev_y, shift + pipelined, n, f, lines);
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 xv = _mm256_loadu_ps(x + i);
    range.max0 = _mm256_max_ps(xv, range.max0);
    const __m256 v = exp2x(xv);
    _mm256_storeu_ps(e + i, v);
    sum = widen_add8(sum, v);
  }
  if (i < n) {
    const __m256i mask = tail_mask8(n - i);
    const __m256 xv = _mm256_maskload_ps(x + i, mask);
    range.add_masked(xv, mask);
    const __m256 v = _mm256_and_ps(exp2x(xv), _mm256_castsi256_ps(mask));
    _mm256_maskstore_ps(e + i, mask, v);
    sum = widen_add8(sum, v);
  }
  *a.max = range.finish().max;
  return horizontal_sum4(sum);
}

__attribute__((target("avx2,fma"), noinline)) Range scan8(const float* x, size_t n) {
  Range8 range = Range8::start(), range2 = Range8::start();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    range.add(_mm256_loadu_ps(x + i), _mm256_loadu_ps(x + i + 8));
    range2.add(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(x + i + 24));
  }
  for (; i + 8 <= n; i += 8) range.add(_mm256_loadu_ps(x + i));
  if (i < n) {
    const __m256i mask = tail_mask8(n - i);
    range.add_masked(_mm256_maskload_ps(x + i, mask), mask);
  }
  range.add(_mm256_max_ps(range2.max0, range2.max1));
  range.min0 = _mm256_min_ps(range.min0, _mm256_min_ps(range2.min0, range2.min1));
  return range.finish();
}

// y_i = e_i * factor over [0, n) with cached stores.
NNJIT_AVX2 void scale_cached8(const float* e, float* y, size_t n, __m256 f) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(e + i), f));
    _mm256_storeu_ps(y + i + 8, _mm256_mul_ps(_mm256_loadu_ps(e + i + 8), f));
    _mm256_storeu_ps(y + i + 16, _mm256_mul_ps(_mm256_loadu_ps(e + i + 16), f));
    _mm256_storeu_ps(y + i + 24, _mm256_mul_ps(_mm256_loadu_ps(e + i + 24), f));
  }
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(e + i), f));
  if (i < n) {
    const __m256i mask = tail_mask8(n - i);
    _mm256_maskstore_ps(y + i, mask, _mm256_mul_ps(_mm256_maskload_ps(e + i, mask), f));
  }
}

// y_i = e_i * factor (kStream: the row's whole lines with streaming stores, see RowLines).
template <bool kStream>
__attribute__((target("avx2,fma"), noinline)) void scale8(const float* e, float* y, size_t n, float factor) {
  const __m256 f = _mm256_set1_ps(factor);
  if constexpr (kStream) {
    const RowLines lines(y, n);
    scale_cached8(e, y, lines.begin, f);
    for (size_t i = lines.begin; i < lines.end; i += 16) {
      _mm256_stream_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(e + i), f));
      _mm256_stream_ps(y + i + 8, _mm256_mul_ps(_mm256_loadu_ps(e + i + 8), f));
    }
    scale_cached8(e + lines.end, y + lines.end, n - lines.end, f);
  } else {
    scale_cached8(e, y, n, f);
  }
}

__attribute__((target("avx2,fma"), noinline)) void stream_fence() { _mm_sfence(); }

// ---- AVX-512: 16 lanes, exact reduction only --------------------------------------------

// GCC 12 reports its own _mm512_undefined_ps() placeholders (in the unmasked AVX-512
// intrinsics) as maybe uninitialized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

// 2 e^(x - reference) for 16 lanes, in two stages (reduce, then finish) so that the loop
// can overlap the stages of successive vectors: the same operations as Exp8<true, kMask>.
template <bool kMask>
struct Exp16 {
  struct Reduced {
    __m512 t, r;
  };
  __m512 magic, threshold, log2e_x8, ln2_8_hi, ln2_8_lo, c1, c2, c3, table, corrections;

  NNJIT_AVX512 explicit Exp16(const Reference& ref)
      : magic(_mm512_set1_ps(ref.magic)),
        threshold(_mm512_set1_ps(ref.threshold)),
        log2e_x8(_mm512_load_ps(kExp.log2e_x8)),
        ln2_8_hi(_mm512_load_ps(kExp.ln2_8_hi)),
        ln2_8_lo(_mm512_load_ps(kExp.ln2_8_lo)),
        c1(_mm512_load_ps(kExp.c1)),
        c2(_mm512_load_ps(kExp.c2)),
        c3(_mm512_load_ps(kExp.c3)),
        table(_mm512_load_ps(reinterpret_cast<const float*>(kExp.table))),
        corrections(_mm512_load_ps(kExp.corrections)) {}

  NNJIT_AVX512 Reduced reduce(__m512 x) const {
    const __m512 t = _mm512_fmadd_ps(x, log2e_x8, magic);
    const __m512 big_n = _mm512_sub_ps(t, magic);
    const __m512 r_hi = _mm512_fnmadd_ps(big_n, ln2_8_hi, x);  // exact
    return {t, _mm512_fnmadd_ps(big_n, ln2_8_lo, r_hi)};
  }

  // `keep`: lanes to compute (the others give 0).
  NNJIT_AVX512 __m512 finish(const Reduced& in, __m512 x, __mmask16 keep = 0xffff) const {
    const __m512i t_bits = _mm512_castps_si512(in.t);
    const __m512 scale = _mm512_castsi512_ps(_mm512_add_epi32(
        _mm512_castps_si512(_mm512_permutexvar_ps(t_bits, table)), _mm512_slli_epi32(t_bits, 20)));
    const __m512 correction = _mm512_permutexvar_ps(t_bits, corrections);
    __m512 p = _mm512_fmadd_ps(c3, in.r, c2);
    p = _mm512_fmadd_ps(p, in.r, c1);
    p = _mm512_fmadd_ps(p, in.r, correction);
    if constexpr (kMask) keep = _mm512_mask_cmp_ps_mask(keep, x, threshold, _CMP_NLT_UQ);  // NaN stays
    return _mm512_maskz_fmadd_ps(keep, scale, p, scale);
  }
};

NNJIT_AVX512 __m512d widen_add16(__m512d sum, __m512 s) {
  const __m256 lo = _mm512_castps512_ps256(s);
  const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1));
  return _mm512_add_pd(sum, _mm512_add_pd(_mm512_cvtps_pd(lo), _mm512_cvtps_pd(hi)));
}

// One pass over a row with 16 lanes (see RowPass; the reference is exact, lanes below its
// threshold give 0). Sums: float trees over 8 vectors.
template <bool kFuse, bool kStream>
__attribute__((target("avx2,fma,avx512f"), noinline)) double row_pass16(const RowPass& pass) {
  const RowPass a = pass;  // a copy: the vector stores below could alias the caller's
  const float* x = a.x;
  float* e = a.e;
  const size_t n = a.n;
  const Exp16<true> exp2x(*a.ref);
  const __m256 f = _mm256_set1_ps(a.prev_factor);
  const __m512 f16 = _mm512_set1_ps(a.prev_factor);
  const RowLines lines(a.prev_y, n);
  __m512 max0 = _mm512_set1_ps(-kInfinity), max1 = max0;
  __m512d sum = _mm512_setzero_pd();
  const size_t pipelined = n / 32 * 32;
  const size_t shift = lines.begin + pipelined <= n ? lines.begin : 0;  // scaling chunks start on lines
  // The fused work of the step at elements [j, j + 32): scale the previous row's elements
  // [shift + pipelined - j - 32, shift + pipelined - j): whole lines, in descending order so
  // that these stores and the loads of x alias modulo 4 KiB (a false dependency) in at most a
  // step or two per row. (No software prefetch: the hardware's does better on these streams.)
  const bool lines_aligned = shift == lines.begin;  // the chunks are whole 64-byte lines
  auto other32 = [&](size_t j) __attribute__((target("avx2,fma,avx512f"), always_inline)) {
    if constexpr (kFuse) {
      const size_t m = shift + pipelined - j - 32;
      if (lines_aligned) {
        for (size_t k = 0; k < 32; k += 16) {
          const __m512 v = _mm512_mul_ps(_mm512_loadu_ps(a.prev_e + m + k), f16);
          if constexpr (kStream) {
            _mm512_stream_ps(a.prev_y + m + k, v);
          } else {
            _mm512_storeu_ps(a.prev_y + m + k, v);
          }
        }
      } else {
        for (size_t k = 0; k < 32; k += 8)
          store_row8<kStream>(a.prev_y, m + k, _mm256_mul_ps(_mm256_loadu_ps(a.prev_e + m + k), f), lines);
      }
    }
  };
  size_t i = 0;
  if (pipelined != 0) {
    // Software pipelined by pairs of vectors: finishing elements [j, j + 32) overlaps with
    // reducing [j + 32, j + 64). The empty asm keeps the compiler from regrouping the
    // operations of each vector into one long dependency chain.
    using Reduced = typename Exp16<true>::Reduced;
    __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
    Reduced a0 = exp2x.reduce(x0), a1 = exp2x.reduce(x1);
    auto step = [&](size_t j, bool more) __attribute__((target("avx2,fma,avx512f"), always_inline)) {
      other32(j);
      max0 = _mm512_max_ps(x0, max0);
      max1 = _mm512_max_ps(x1, max1);
      const __m512 v0 = exp2x.finish(a0, x0), v1 = exp2x.finish(a1, x1);
      _mm512_storeu_ps(e + j, v0);
      _mm512_storeu_ps(e + j + 16, v1);
      if (more) {
        x0 = _mm512_loadu_ps(x + j + 32);
        x1 = _mm512_loadu_ps(x + j + 48);
        a0 = exp2x.reduce(x0);
        a1 = exp2x.reduce(x1);
        asm volatile("" : "+v"(a0.t), "+v"(a0.r), "+v"(a1.t), "+v"(a1.r), "+v"(x0), "+v"(x1));
      }
      return _mm512_add_ps(v0, v1);
    };
    for (; i + 128 <= pipelined; i += 128) {  // float trees over 8 vectors
      const bool more = i + 128 < pipelined;
      const __m512 s0 = step(i, true), s1 = step(i + 32, true), s2 = step(i + 64, true);
      sum = widen_add16(sum, _mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, step(i + 96, more))));
    }
    // 32, 64 or 96 more: trees over what is left
    if (i + 96 == pipelined) {
      const __m512 s0 = step(i, true), s1 = step(i + 32, true);
      sum = widen_add16(sum, _mm512_add_ps(_mm512_add_ps(s0, s1), step(i + 64, false)));
    } else if (i + 64 == pipelined) {
      const __m512 s0 = step(i, true);
      sum = widen_add16(sum, _mm512_add_ps(s0, step(i + 32, false)));
    } else if (i + 32 == pipelined) {
      sum = widen_add16(sum, step(i, false));
    }
    i = pipelined;
  }
  if constexpr (kFuse) {
    scale_span8<kStream>(a.prev_e, a.prev_y, 0, shift, f, lines);
    scale_span8<kStream>(a.prev_e, a.prev_y, shift + pipelined, n, f, lines);
  }
  for (; i < n; i += 16) {
    const size_t count = std::min<size_t>(16, n - i);
    const __mmask16 lanes = static_cast<__mmask16>((1u << count) - 1);
    const __m512 xv = _mm512_mask_loadu_ps(_mm512_set1_ps(-kInfinity), lanes, x + i);
    max0 = _mm512_max_ps(xv, max0);
    const __m512 v = exp2x.finish(exp2x.reduce(xv), xv, lanes);
    _mm512_mask_storeu_ps(e + i, lanes, v);
    sum = widen_add16(sum, v);
  }
  *a.max = _mm512_reduce_max_ps(_mm512_max_ps(max0, max1));
  return _mm512_reduce_add_pd(sum);
}

#pragma GCC diagnostic pop

// ---- drivers --------------------------------------------------------------------------------

// The row pass for a reference: 16 lanes where allowed and the reduction is exact.
template <bool kFuse, bool kStream>
double row_pass(const RowPass& a, bool wide) {
  if (!a.ref->exact) return row_pass8<false, true, kFuse, kStream>(a);
  if (wide && a.ref->mask) return row_pass16<kFuse, kStream>(a);
  return a.ref->mask ? row_pass8<true, true, kFuse, kStream>(a) : row_pass8<true, false, kFuse, kStream>(a);
}

// A guess of the maximum of x[0, n): the maximum of the first 16 elements (at most the true
// maximum; NaN or -infinity when those are not numbers).
__attribute__((target("avx2,fma"))) float first_max(const float* x, size_t n) {
  if (n >= 16) return horizontal_max8(_mm256_max_ps(_mm256_loadu_ps(x), _mm256_loadu_ps(x + 8)));
  float m = -kInfinity;
  for (size_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// Consecutive rows of at most one block (see the file comment). The reference of a row
// comes from the maximum m of its first 16 elements (no separate pass over the row): it is
// then at most the row's maximum M (plus ln2/16), so no exponential that matters is flushed
// to 0, and the pass checks M - reference <= 75 (no overflow: e_i <= 2 e^75, k <= 108);
// rows failing that, or whose first elements are not finite numbers within 4096, take a
// range pass first and the reference of their maximum. The pass of row r also scales row
// r - 1 (kFuse; fused streaming needs every row 32-byte aligned), or else that is a separate
// pass.
template <bool kStream, bool kFuse>
void short_rows(const float* x, float* y, size_t rows, size_t channels, bool wide) {
  constexpr size_t kStride = kBlock + 16;  // keeps the two buffers apart modulo 4 KiB
  alignas(64) float scratch[2][kStride];
  float factor = 0.0f;  // of the previous row
  for (size_t row = 0; row < rows; ++row) {
    const float* row_x = x + row * channels;
    const float estimate = first_max(row_x, channels);
    const bool guess = std::fabs(estimate) <= kMaxExactReduction;  // false for NaN and infinities
    Reference ref = pick_reference(guess ? Range{estimate, -kInfinity} : scan8(row_x, channels));
    float* previous_y = row > 0 ? y + (row - 1) * channels : nullptr;
    float max;
    const RowPass pass{row_x, scratch[row % 2], channels, &ref, scratch[(row + 1) % 2], previous_y, factor, &max};
    double sum;
    if (kFuse && row > 0) {
      sum = row_pass<true, kStream>(pass, wide);
    } else {
      if (row > 0) scale8<kStream>(pass.prev_e, previous_y, channels, factor);
      sum = row_pass<false, false>(pass, wide);
    }
    if (guess && !(max - ref.value <= 75.0)) {  // the guess was too low (or the row has +infinity)
      ref = pick_reference(scan8(row_x, channels));
      sum = row_pass<false, false>(pass, wide);
    }
    factor = row_factor(Range{max, 0.0f}, sum);
  }
  scale8<kStream>(scratch[(rows - 1) % 2], y + (rows - 1) * channels, channels, factor);
  if constexpr (kStream) stream_fence();  // orders the streaming stores before the pool reports completion
}

// One block of a long row: its range, its exponentials into y, its statistics.
BlockStats block_exponentials(const float* x, float* y, size_t n) {
  const Range range = scan8(x, n);
  const Reference ref = pick_reference(range);
  float max;
  const double sum = row_pass<false, false>({x, y, n, &ref, nullptr, nullptr, 0.0f, &max}, false);
  return {range.max, ref.value, sum};
}

// One long row on the calling thread.
void long_row(const float* x, float* y, size_t channels) {
  const size_t blocks = block_count(channels);
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
    scale8<false>(y + first, y + first, std::min(kBlock, channels - first), factors[b]);
  }
}

}  // namespace

__attribute__((target("avx2,fma"))) double f32_exp_difference__avx2(const float x[8], float max, float result[8]) {
  const Reference ref = pick_reference(Range{max, -kInfinity});
  const __m256 v = _mm256_loadu_ps(x);
  const __m256 e = ref.exact ? Exp8<true, true>(ref)(v) : Exp8<false, true>(ref)(v);
  _mm256_storeu_ps(result, _mm256_mul_ps(e, _mm256_set1_ps(0.5f)));
  return ref.value;
}

void f32_softmax__avx2(size_t batch_size, size_t channels, const float* input, float* output,
                       const ExecutionContext& context) {
  const size_t total = batch_size * channels;
  pthreadpool_t pool = total < kSerialElements ? nullptr : context.threadpool;
  const size_t threads = pthreadpool_get_threads_count(pool);
  const size_t blocks = block_count(channels);

  if (blocks == 1) {
    const Hardware& hardware = *context.hardware;
    const bool wide = hardware.can_run(Isa::avx512) && hardware.x86_avx512f;
    // Streaming stores for outputs larger than the last-level cache, on rows long enough for
    // them to pay off (measured on Zen 4); misaligned rows need the separate scaling pass.
    const bool aligned = channels % 8 == 0 && reinterpret_cast<uintptr_t>(output) % 32 == 0;
    const bool stream = input != output && total * sizeof(float) > streaming_threshold_bytes(hardware) &&
                        channels >= 128;
    const size_t rows_per_task = std::max<size_t>(1, kElementsPerTask / channels);
    parallel_for_tiles(pool, batch_size, rows_per_task, [&](size_t first, size_t rows) {
      const float* x = input + first * channels;
      float* y = output + first * channels;
      if (!stream) short_rows<false, true>(x, y, rows, channels, wide);
      else if (aligned) short_rows<true, true>(x, y, rows, channels, wide);
      else short_rows<true, false>(x, y, rows, channels, wide);
    });
    return;
  }
  if (batch_size >= kRowsPerThreadForRowTasks * threads) {
    parallel_for(pool, batch_size, [&](size_t row) { long_row(input + row * channels, output + row * channels, channels); });
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
    scale8<false>(output + first, output + first, count, factors[item]);
  });
}

}  // namespace nnjit::activation

#undef NNJIT_AVX2
#undef NNJIT_AVX512

#endif  // __x86_64__
