#include "im2col.h"

#include <cstring>

namespace nnjit_bench {

bool im2col_is_identity(const Im2colShape& s) {
  return s.kernel_height == 1 && s.kernel_width == 1 && s.stride == 1 && s.padding == 0;
}

void im2col(const Im2colShape& s, const float* image, float* columns) {
  const size_t ow = s.output_width, oh = s.output_height;
  const ptrdiff_t h = ptrdiff_t(s.height), w = ptrdiff_t(s.width), pad = ptrdiff_t(s.padding),
                  stride = ptrdiff_t(s.stride);
  float* row = columns;
  for (size_t c = 0; c < s.channels; ++c) {
    const float* plane = image + c * s.height * s.width;
    for (size_t ky = 0; ky < s.kernel_height; ++ky) {
      for (size_t kx = 0; kx < s.kernel_width; ++kx) {
        for (size_t oy = 0; oy < oh; ++oy) {
          float* out = row + oy * ow;
          const ptrdiff_t iy = ptrdiff_t(oy) * stride - pad + ptrdiff_t(ky);
          if (iy < 0 || iy >= h) {
            std::memset(out, 0, ow * sizeof(float));
            continue;
          }
          const float* in = plane + iy * w;
          const ptrdiff_t x0 = ptrdiff_t(kx) - pad;  // input column of output column 0
          if (stride == 1) {
            // Output columns [first, last) read input columns x0 + ox, all in range.
            ptrdiff_t first = x0 < 0 ? -x0 : 0;
            if (first > ptrdiff_t(ow)) first = ptrdiff_t(ow);
            ptrdiff_t last = w - x0;
            if (last > ptrdiff_t(ow)) last = ptrdiff_t(ow);
            if (last < first) last = first;
            if (first > 0) std::memset(out, 0, size_t(first) * sizeof(float));
            if (last > first) std::memcpy(out + first, in + x0 + first, size_t(last - first) * sizeof(float));
            if (ptrdiff_t(ow) > last) std::memset(out + last, 0, (ow - size_t(last)) * sizeof(float));
          } else {
            for (size_t ox = 0; ox < ow; ++ox) {
              const ptrdiff_t ix = x0 + ptrdiff_t(ox) * stride;
              out[ox] = ix >= 0 && ix < w ? in[ix] : 0.0f;
            }
          }
        }
        row += oh * ow;
      }
    }
  }
}

}  // namespace nnjit_bench
