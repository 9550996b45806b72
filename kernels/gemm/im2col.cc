#include "kernels/gemm/im2col.h"

#include <algorithm>
#include <cstring>

namespace nnjit::gemm {
namespace {

// Writes `run` consecutive columns of one patch row that lie in one output row:
// dst[t] = image_row[base + t * stride] where that index is inside [0, width), else 0.
void gather_run(const float* image_row, ptrdiff_t base, size_t stride, size_t width, size_t run,
                float* dst) {
  if (image_row == nullptr) {  // the input row is in the padding
    std::fill(dst, dst + run, 0.0f);
    return;
  }
  const auto s = static_cast<ptrdiff_t>(stride);
  const auto w = static_cast<ptrdiff_t>(width);
  const auto r = static_cast<ptrdiff_t>(run);
  // The common case: a whole 16-column panel row inside the image, stride 1. A
  // fixed-length copy (a few vector moves) instead of library calls.
  if (s == 1 && r == 16 && base >= 0 && base + 16 <= w) {
    const float* source = image_row + base;
    for (int t = 0; t < 16; ++t) dst[t] = source[t];
    return;
  }
  // Valid t: 0 <= base + t*s <= w - 1.
  ptrdiff_t lo = base >= 0 ? 0 : (-base + s - 1) / s;
  ptrdiff_t hi = base > w - 1 ? 0 : (w - 1 - base) / s + 1;
  lo = std::min(lo, r);
  hi = std::clamp(hi, lo, r);
  for (ptrdiff_t t = 0; t < lo; ++t) dst[t] = 0.0f;
  for (ptrdiff_t t = lo; t < hi; ++t) dst[t] = image_row[base + t * s];
  for (ptrdiff_t t = hi; t < r; ++t) dst[t] = 0.0f;
}

const float* im2col_panel(const void* context, size_t j0, size_t k0, size_t kc, float* scratch) {
  const auto& p = *static_cast<const Im2colB*>(context);
  const size_t taps = p.kernel_height * p.kernel_width;
  const size_t j_end = std::min(j0 + p.nr, p.n);
  for (size_t kk = 0; kk < kc; ++kk) {
    const size_t k = k0 + kk;
    const size_t channel = k / taps, ky = k % taps / p.kernel_width, kx = k % p.kernel_width;
    const float* plane = p.input + channel * p.height * p.width;
    float* dst = scratch + kk * p.nr;
    size_t j = j0;
    while (j < j_end) {
      const size_t oy = j / p.output_width, ox = j % p.output_width;
      const size_t run = std::min(j_end, (oy + 1) * p.output_width) - j;
      const ptrdiff_t iy = static_cast<ptrdiff_t>(oy * p.stride_height + ky) - static_cast<ptrdiff_t>(p.pad_top);
      const float* row = (iy >= 0 && iy < static_cast<ptrdiff_t>(p.height)) ? plane + iy * p.width : nullptr;
      const ptrdiff_t base = static_cast<ptrdiff_t>(ox * p.stride_width + kx) - static_cast<ptrdiff_t>(p.pad_left);
      gather_run(row, base, p.stride_width, p.width, run, dst + (j - j0));
      j += run;
    }
    std::fill(dst + (j_end - j0), dst + p.nr, 0.0f);
  }
  return scratch;
}

}  // namespace

PanelSource Im2colB::source() const { return {im2col_panel, this}; }

}  // namespace nnjit::gemm
