// The FFT algorithms of the ft8x8 / ft16x16 convolutions, written once against an
// abstract arithmetic "builder" and instantiated twice:
//   - with a builder that computes on 8 float lanes (the reference transforms, plain C++);
//   - with a builder that records the operations (fft_trace.h), from which the JIT
//     emits AVX2+FMA code, one vector lane per lane of the reference.
// Both therefore execute the same operations in the same order.
//
// ---- Builder interface ---------------------------------------------------------------
//   using V = ...;                     a value (8 lanes)
//   V zero(); V constant(float);
//   V add(V, V); V sub(V, V); V mul(V, V); V neg(V);
//   V fma(a, b, c)  = a * b + c        (one rounding)
//   V fms(a, b, c)  = a * b - c
//   V fnma(a, b, c) = c - a * b
//
// ---- 1-D complex FFT (size 2, 4, 8 or 16) ----------------------------------------------
// Radix-2 decimation in time, recursive: X = E + w^k O, X[k + n/2] = E - w^k O, where E
// and O are the half-size transforms of the even and odd samples and w = exp(s 2 pi i / n)
// (s = -1 forward, +1 inverse; unnormalised). Butterflies are evaluated innermost stage
// first (size 2, then 4, ...), and within a stage for k = 0, 1, ... . Twiddles 1, +-i and
// (+-1 +-i)/sqrt(2) are special-cased (adds only, or one add and a fused multiply-add per
// component); the builder folds operations on known zeros, so zero inputs (zero-padded
// tiles) cost nothing.
//
// ---- 2-D real FFT of a T x T tile and its packed half spectrum ---------------------------
// Forward (tile x[y][x] -> 2 X[k1][k2], the transform scaled by 2; T = 8 or 16):
//   Pass 1 (rows): rows 2j and 2j+1 form one complex row z = x[2j] + i x[2j+1]; its FFT Z
//     gives both real rows' spectra for k2 = 0..T/2:  2A[k] = Z[k] + conj(Z[-k]),
//     2B[k] = -i (Z[k] - conj(Z[-k])). (A row without a partner is transformed alone and
//     doubled.) Result R[y][k2] = 2 * (row FFT), k2 = 0..T/2; R[y][0] and R[y][T/2] are real.
//   Pass 2 (columns): for k2 = 1..T/2-1 a complex FFT along y of R[.][k2]. The two real
//     columns k2 = 0 and k2 = T/2 are packed into one complex column R[.][0] + i R[.][T/2],
//     transformed once and separated (with a factor 1/2 to keep the overall scale 2).
// Packed layout: T*T/2 "slots" of two reals (re, im), T*T reals in all:
//   slot 0                : (X[0][0],   X[0][T/2])     two real bins  (pointwise product)
//   slot 1                : (X[T/2][0], X[T/2][T/2])   two real bins  (pointwise product)
//   slot 1 + k1           : X[k1][0],   k1 = 1..T/2-1  complex
//   slot T/2 + k1         : X[k1][T/2], k1 = 1..T/2-1  complex
//   slot T + (k2-1) T + k1: X[k1][k2],  k2 = 1..T/2-1, k1 = 0..T-1  complex
// Every other bin is the conjugate of one of these (X[-k1][-k2] = conj X[k1][k2]), so no
// work or storage goes to redundant coefficients.
//
// Inverse (packed spectrum Y -> y = T^2 * IDFT(Y), the unnormalised inverse):
//   Pass 2^-1 (columns): complex inverse FFT along k1 for k2 = 1..T/2-1; columns 0 and T/2
//     are rebuilt over all k1 from their half spectra as Z = Y[.][0] + i Y[.][T/2] and
//     inverted together (real part: column 0, imaginary part: column T/2).
//   Pass 1^-1 (rows): two rows a, b become Z[k] = Ra[k] + i Rb[k] over all k (from their
//     half spectra) and one complex inverse FFT yields row a (real part) and b (imaginary).
// Only the requested output rows/columns are computed (the builder drops unused work).
//
// ---- Convolution by these transforms ---------------------------------------------------
// Cross-correlation y[n] = sum_m x[n + m] w[m] (NNPACK's convolution) of a T-tile x with a
// K-tap w is read off the circular correlation, whose spectrum is X conj(W): outputs
// n = 0..T-K are free of wrap-around. So kernels are transformed with their imaginary
// parts negated (conjugated), the channel sum is a plain complex multiply-accumulate per
// slot (the two real-bin slots multiply lane by lane), and the inverse gives
// 4 T^2 y (both transforms carry the factor 2): the output transform scales by 1/(4 T^2),
// a power of two, so exactly.
#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>

namespace nnjit::fft {

inline constexpr size_t kMaxTile = 16;

template <class V>
struct Cplx {
  V re, im;
};

// Number of slots (complex pairs) of a packed T x T spectrum.
constexpr size_t slot_count(size_t tile) { return tile * tile / 2; }

// Slot of X[k1][k2] for the bins stored as complex values (see the layout above).
constexpr size_t column0_slot(size_t /*tile*/, size_t k1) { return 1 + k1; }           // X[k1][0]
constexpr size_t column_half_slot(size_t tile, size_t k1) { return tile / 2 + k1; }  // X[k1][T/2]
constexpr size_t inner_slot(size_t tile, size_t k1, size_t k2) { return tile + (k2 - 1) * tile + k1; }

namespace detail {

// E + w O and E - w O with w = exp(sign 2 pi i k / n).
template <class B, class V>
void butterfly(B& b, const Cplx<V>& e, const Cplx<V>& o, size_t k, size_t n, int sign, Cplx<V>* plus,
               Cplx<V>* minus) {
  if (k == 0) {
    *plus = {b.add(e.re, o.re), b.add(e.im, o.im)};
    *minus = {b.sub(e.re, o.re), b.sub(e.im, o.im)};
    return;
  }
  if (4 * k == n) {
    // w = sign * i: w O = sign * (-O.im + i O.re).
    if (sign < 0) {
      *plus = {b.add(e.re, o.im), b.sub(e.im, o.re)};
      *minus = {b.sub(e.re, o.im), b.add(e.im, o.re)};
    } else {
      *plus = {b.sub(e.re, o.im), b.add(e.im, o.re)};
      *minus = {b.add(e.re, o.im), b.sub(e.im, o.re)};
    }
    return;
  }
  if (8 * k == n || 8 * k == 3 * n) {
    // w = c (+-1 + sign i), c = sqrt(1/2): w O = c (p + i q) with p, q sums of O.re, O.im.
    const V c = b.constant(static_cast<float>(std::numbers::sqrt2 / 2.0));
    const V sum = b.add(o.re, o.im);   // O.re + O.im
    const V diff = b.sub(o.re, o.im);  // O.re - O.im
    V p, q;
    bool p_negated = false, q_negated = false;
    if (8 * k == n) {
      if (sign < 0) {  // c (1 - i): p = re + im, q = im - re
        p = sum;
        q = diff;
        q_negated = true;
      } else {  // c (1 + i): p = re - im, q = re + im
        p = diff;
        q = sum;
      }
    } else {
      if (sign < 0) {  // c (-1 - i): p = im - re, q = -(re + im)
        p = diff;
        p_negated = true;
        q = sum;
        q_negated = true;
      } else {  // c (-1 + i): p = -(re + im), q = re - im
        p = sum;
        p_negated = true;
        q = diff;
      }
    }
    // E + c p and E - c p (sign of p folded into fma / fnma).
    plus->re = p_negated ? b.fnma(c, p, e.re) : b.fma(c, p, e.re);
    minus->re = p_negated ? b.fma(c, p, e.re) : b.fnma(c, p, e.re);
    plus->im = q_negated ? b.fnma(c, q, e.im) : b.fma(c, q, e.im);
    minus->im = q_negated ? b.fma(c, q, e.im) : b.fnma(c, q, e.im);
    return;
  }
  const double angle = 2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(n);
  const V wr = b.constant(static_cast<float>(std::cos(angle)));
  const V wi = b.constant(static_cast<float>(sign * std::sin(angle)));
  // t = w O
  const V tr = b.fms(o.re, wr, b.mul(o.im, wi));
  const V ti = b.fma(o.im, wr, b.mul(o.re, wi));
  *plus = {b.add(e.re, tr), b.add(e.im, ti)};
  *minus = {b.sub(e.re, tr), b.sub(e.im, ti)};
}

}  // namespace detail

// In-place complex FFT of x[0..n), n a power of two <= 16, natural order in and out,
// unnormalised, sign -1 (forward) or +1 (inverse).
template <class B, class V>
void complex_fft(B& b, Cplx<V>* x, size_t n, int sign) {
  if (n == 1) return;
  Cplx<V> even[kMaxTile / 2], odd[kMaxTile / 2];
  for (size_t k = 0; k < n / 2; ++k) {
    even[k] = x[2 * k];
    odd[k] = x[2 * k + 1];
  }
  complex_fft(b, even, n / 2, sign);
  complex_fft(b, odd, n / 2, sign);
  for (size_t k = 0; k < n / 2; ++k) detail::butterfly(b, even[k], odd[k], k, n, sign, &x[k], &x[k + n / 2]);
}

// Forward 2-D real FFT of a T x T tile whose rows >= rows and columns >= cols are zero.
//   load(r, c) -> V       for r < rows, c < cols
//   store(slot, re, im)   once per slot, in increasing slot order within each pass
// With `conjugate`, the complex slots receive conj(2X) (the two real-bin slots are real).
template <class B, class Load, class Store>
void forward_2d(B& b, size_t tile, size_t rows, size_t cols, bool conjugate, Load&& load, Store&& store) {
  using V = typename B::V;
  const size_t half = tile / 2;
  Cplx<V> r[kMaxTile][kMaxTile / 2 + 1];  // r[y][k2] = 2 * (FFT of row y)[k2]

  // Pass 1: rows, two at a time.
  for (size_t y = 0; y < tile; y += 2) {
    if (y >= rows) {
      for (size_t k = 0; k <= half; ++k) r[y][k] = r[y + 1][k] = {b.zero(), b.zero()};
      continue;
    }
    const bool pair = y + 1 < rows;
    Cplx<V> z[kMaxTile];
    for (size_t x = 0; x < tile; ++x) {
      z[x].re = x < cols ? load(y, x) : b.zero();
      z[x].im = (pair && x < cols) ? load(y + 1, x) : b.zero();
    }
    complex_fft(b, z, tile, -1);
    for (size_t k = 0; k <= half; ++k) {
      if (!pair) {
        r[y][k] = {b.add(z[k].re, z[k].re), b.add(z[k].im, z[k].im)};
        r[y + 1][k] = {b.zero(), b.zero()};
        continue;
      }
      const Cplx<V>& zk = z[k];
      const Cplx<V>& zm = z[(tile - k) % tile];
      r[y][k] = {b.add(zk.re, zm.re), b.sub(zk.im, zm.im)};
      r[y + 1][k] = {b.add(zk.im, zm.im), b.sub(zm.re, zk.re)};
    }
  }

  auto store_complex = [&](size_t slot, const Cplx<V>& v) {
    store(slot, v.re, conjugate ? b.neg(v.im) : v.im);
  };

  // Pass 2a: the two real columns k2 = 0 and k2 = T/2, packed into one complex column.
  {
    Cplx<V> z[kMaxTile];
    for (size_t y = 0; y < tile; ++y) z[y] = {r[y][0].re, r[y][half].re};
    complex_fft(b, z, tile, -1);
    store(0, z[0].re, z[0].im);
    store(1, z[half].re, z[half].im);
    const V one_half = b.constant(0.5f);
    for (size_t k1 = 1; k1 < half; ++k1) {
      const Cplx<V>& zk = z[k1];
      const Cplx<V>& zm = z[tile - k1];
      store_complex(column0_slot(tile, k1),
                    {b.mul(b.add(zk.re, zm.re), one_half), b.mul(b.sub(zk.im, zm.im), one_half)});
    }
    for (size_t k1 = 1; k1 < half; ++k1) {
      const Cplx<V>& zk = z[k1];
      const Cplx<V>& zm = z[tile - k1];
      store_complex(column_half_slot(tile, k1),
                    {b.mul(b.add(zk.im, zm.im), one_half), b.mul(b.sub(zm.re, zk.re), one_half)});
    }
  }
  // Pass 2b: the complex columns.
  for (size_t k2 = 1; k2 < half; ++k2) {
    Cplx<V> z[kMaxTile];
    for (size_t y = 0; y < tile; ++y) z[y] = r[y][k2];
    complex_fft(b, z, tile, -1);
    for (size_t k1 = 0; k1 < tile; ++k1) store_complex(inner_slot(tile, k1, k2), z[k1]);
  }
}

// Inverse 2-D FFT of a packed spectrum, unnormalised (T^2 * IDFT), rows < rows and
// columns < cols only.
//   load(slot) -> Cplx<V>
//   store(r, c, V)        once per requested element, row pairs in increasing order
template <class B, class Load, class Store>
void inverse_2d(B& b, size_t tile, size_t rows, size_t cols, Load&& load, Store&& store) {
  using V = typename B::V;
  const size_t half = tile / 2;
  Cplx<V> r[kMaxTile][kMaxTile / 2 + 1];  // r[y][k2]: row y's half spectrum

  // Pass 2^-1a: the real columns k2 = 0 and T/2 together.
  {
    Cplx<V> z[kMaxTile];
    z[0] = load(0);
    z[half] = load(1);
    for (size_t k1 = 1; k1 < half; ++k1) {
      const Cplx<V> a = load(column0_slot(tile, k1));
      const Cplx<V> c = load(column_half_slot(tile, k1));
      z[k1] = {b.sub(a.re, c.im), b.add(a.im, c.re)};
      z[tile - k1] = {b.add(a.re, c.im), b.sub(c.re, a.im)};
    }
    complex_fft(b, z, tile, +1);
    for (size_t y = 0; y < tile; ++y) {
      r[y][0] = {z[y].re, b.zero()};
      r[y][half] = {z[y].im, b.zero()};
    }
  }
  // Pass 2^-1b: the complex columns.
  for (size_t k2 = 1; k2 < half; ++k2) {
    Cplx<V> z[kMaxTile];
    for (size_t k1 = 0; k1 < tile; ++k1) z[k1] = load(inner_slot(tile, k1, k2));
    complex_fft(b, z, tile, +1);
    for (size_t y = 0; y < tile; ++y) r[y][k2] = z[y];
  }
  // Pass 1^-1: rows, two at a time.
  for (size_t y = 0; y < rows; y += 2) {
    const bool pair = y + 1 < rows;
    Cplx<V> z[kMaxTile];
    for (size_t k = 0; k <= half; ++k) {
      const Cplx<V>& ra = r[y][k];
      if (!pair) {
        z[k] = ra;
        if (k != 0 && k != half) z[tile - k] = {ra.re, b.neg(ra.im)};
        continue;
      }
      const Cplx<V>& rb = r[y + 1][k];
      z[k] = {b.sub(ra.re, rb.im), b.add(ra.im, rb.re)};
      if (k != 0 && k != half) z[tile - k] = {b.add(ra.re, rb.im), b.sub(rb.re, ra.im)};
    }
    complex_fft(b, z, tile, +1);
    for (size_t x = 0; x < cols; ++x) {
      store(y, x, z[x].re);
      if (pair) store(y + 1, x, z[x].im);
    }
  }
}

}  // namespace nnjit::fft
