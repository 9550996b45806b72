// Implicit GEMM: a convolution as C[Cout][OH*OW] = K[Cout][Cin*kh*kw] * P, where the
// patch matrix P[(ci, ky, kx)][(oy, ox)] = input[ci][oy*sh + ky - pad_top][ox*sw + kx - pad_left]
// (zero outside the image) is never built: this panel source gathers each kc x NR
// panel of P straight from the image when the GEMM asks for it.
#pragma once

#include <cstddef>

#include "kernels/gemm/gemm.h"

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
  PanelSource source() const;
};

}  // namespace nnjit::gemm
