// Implicit GEMM: a convolution as C[Cout][OH*OW] = K[Cout][Cin*kh*kw] * P, where the
// patch matrix P[(ci, ky, kx)][(oy, ox)] = input[ci][oy*sh + ky - pad_top][ox*sw + kx - pad_left]
// (zero outside the image) is never built: this panel source gathers each kc x NR
// panel of P straight from the image when the GEMM asks for it.
#pragma once

#include <cstddef>

#include "kernels/gemm/gemm.h"
#include "kernels/hardware.h"

namespace nnjit::gemm {

struct Im2colB {
  const float* input;  // one image [channels][height][width]
  size_t channels, height, width;
  size_t kernel_height, kernel_width;
  size_t stride_height, stride_width;
  size_t pad_top, pad_left;
  size_t output_width;
  size_t n;  // output_height * output_width
  size_t nr;
  // The panel gatherer for `isa`: vector code for stride-1 patches where the ISA has
  // it, else portable code. Every gatherer writes the same panels (a copy: no arithmetic).
  PanelSource source(Isa isa = Isa::reference) const;
};

// A stretch of panel columns that lie in one output row.
struct Im2colRun {
  size_t offset;  // first panel column
  size_t length;
  size_t oy, ox;  // output position of the first column
};

// Splits the panel starting at column j0 into runs (at most nr); returns their number.
size_t im2col_runs(const Im2colB& patches, size_t j0, Im2colRun* runs);

// Walks the patch rows k = (channel, ky, kx) without divisions per row.
struct PatchRowCursor {
  size_t channel, ky, kx;
  PatchRowCursor(const Im2colB& p, size_t k) {
    const size_t taps = p.kernel_height * p.kernel_width;
    channel = k / taps;
    ky = k % taps / p.kernel_width;
    kx = k % p.kernel_width;
  }
  void advance(const Im2colB& p) {
    if (++kx == p.kernel_width) {
      kx = 0;
      if (++ky == p.kernel_height) {
        ky = 0;
        ++channel;
      }
    }
  }
};

// The AVX2 gatherer for stride_width == 1, nr a multiple of 8 up to 64 and kernels
// at most kIm2colMaxKernelWidth wide (x86-64 builds with the JIT only).
inline constexpr size_t kIm2colMaxKernelWidth = 16;
const float* im2col_panel_stride1__avx2(const void* context, size_t j0, size_t k0, size_t kc,
                                        float* scratch);

}  // namespace nnjit::gemm
