// A plain im2col, as frameworks without NNPACK ran convolutions (Caffe, MXNet):
// unfold one NCHW image into the patch matrix, then one SGEMM per image.
#pragma once

#include <cstddef>

namespace nnjit_bench {

struct Im2colShape {
  size_t channels, height, width;
  size_t kernel_height, kernel_width;
  size_t padding, stride;
  size_t output_height, output_width;
};

// columns[(c*KH + ky)*KW + kx][oy*OW + ox] = image[c][oy*s - p + ky][ox*s - p + kx], or 0
// outside the image. `columns` holds C*KH*KW rows of OH*OW floats.
void im2col(const Im2colShape& shape, const float* image, float* columns);

// True when the patch matrix is the image itself (1x1 kernel, stride 1, no
// padding), so the unfolding can be skipped, as Caffe and MXNet do.
bool im2col_is_identity(const Im2colShape& shape);

}  // namespace nnjit_bench
