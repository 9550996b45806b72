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
  // The common case: a whole panel row (16 or 24 columns) inside the image, stride 1.
  // A fixed-length copy (a few vector moves) instead of library calls.
  if (s == 1 && base >= 0 && base + r <= w && (r == 16 || r == 24)) {
    const float* source = image_row + base;
    if (r == 16) {
      for (int t = 0; t < 16; ++t) dst[t] = source[t];
    } else {
      for (int t = 0; t < 24; ++t) dst[t] = source[t];
    }
    return;
  }
  // Valid t: 0 <= base + t*s <= w - 1 (no divisions for stride 1: this runs per panel row).
  ptrdiff_t lo, hi;
  if (s == 1) {
    lo = base >= 0 ? 0 : -base;
    hi = w - base;
  } else {
    lo = base >= 0 ? 0 : (-base + s - 1) / s;
    hi = base > w - 1 ? 0 : (w - 1 - base) / s + 1;
  }
  lo = std::min(lo, r);
  hi = std::clamp(hi, lo, r);
  for (ptrdiff_t t = 0; t < lo; ++t) dst[t] = 0.0f;
  for (ptrdiff_t t = lo; t < hi; ++t) dst[t] = image_row[base + t * s];
  for (ptrdiff_t t = hi; t < r; ++t) dst[t] = 0.0f;
}

const float* im2col_panel(const void* context, size_t j0, size_t k0, size_t kc, float* scratch) {
  const auto& p = *static_cast<const Im2colB*>(context);
  const size_t j_end = std::min(j0 + p.nr, p.n);
  // Split the panel's columns by output row once; every patch row reuses the split.
  Im2colRun runs[64];
  const size_t run_count = im2col_runs(p, j0, runs);
  PatchRowCursor cursor(p, k0);
  const ptrdiff_t height = static_cast<ptrdiff_t>(p.height);
  for (size_t kk = 0; kk < kc; ++kk) {
    const size_t channel = cursor.channel, ky = cursor.ky, kx = cursor.kx;
    const float* plane = p.input + channel * p.height * p.width;
    float* dst = scratch + kk * p.nr;
    for (size_t r = 0; r < run_count; ++r) {
      const Im2colRun& run = runs[r];
      const ptrdiff_t iy = static_cast<ptrdiff_t>(run.oy * p.stride_height + ky) - static_cast<ptrdiff_t>(p.pad_top);
      const float* row = (iy >= 0 && iy < height) ? plane + iy * static_cast<ptrdiff_t>(p.width) : nullptr;
      const ptrdiff_t base = static_cast<ptrdiff_t>(run.ox * p.stride_width + kx) - static_cast<ptrdiff_t>(p.pad_left);
      gather_run(row, base, p.stride_width, p.width, run.length, dst + run.offset);
    }
    for (size_t j = j_end - j0; j < p.nr; ++j) dst[j] = 0.0f;
    cursor.advance(p);
  }
  return scratch;
}

}  // namespace

size_t im2col_runs(const Im2colB& p, size_t j0, Im2colRun* runs) {
  const size_t j_end = std::min(j0 + p.nr, p.n);
  size_t count = 0;
  for (size_t j = j0; j < j_end; ++count) {
    const size_t oy = j / p.output_width, ox = j % p.output_width;
    const size_t length = std::min(j_end, (oy + 1) * p.output_width) - j;
    runs[count] = {j - j0, length, oy, ox};
    j += length;
  }
  return count;
}

PanelSource Im2colB::source(Isa isa) const {
#if defined(NNJIT_X64_JIT)
  if (isa_includes(isa, Isa::avx2) && stride_width == 1 && nr % 8 == 0 &&
      nr <= 64 && kernel_width <= kIm2colMaxKernelWidth)
    return {im2col_panel_stride1__avx2, this};
#endif
  (void)isa;
  return {im2col_panel, this};
}

}  // namespace nnjit::gemm
