// Reference max pooling with a general window, stride and padding.
//
// Each output is the maximum over the window cells that lie inside the input;
// padding and the overhang of the last window take no part, and a window that
// covers no input cell gives -infinity. The maximum is taken with the plain
// comparison `if (v > max) max = v` starting from -infinity, in row-major window
// order, so a NaN input never wins (a window of only NaNs gives -infinity).
// One task per (image, channel) plane.
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "kernels/parallel.h"
#include "kernels/reference/reference.h"

namespace nnjit::reference {
namespace {

// ceil(doz(pad_before + input + pad_after, pool) / stride) + 1, doz(a, b) = a > b ? a - b : 0.
size_t pooling_output_extent(size_t pad_before, size_t input, size_t pad_after, size_t pool,
                             size_t stride) {
  const size_t padded = pad_before + input + pad_after;
  const size_t span = padded > pool ? padded - pool : 0;
  return (span + stride - 1) / stride + 1;
}

// The input cells [begin, end) covered by window `index` along one axis.
struct Window {
  size_t begin;
  size_t end;
};

Window window_cells(size_t index, size_t stride, size_t pad_before, size_t pool, size_t input) {
  const ptrdiff_t first =
      static_cast<ptrdiff_t>(index * stride) - static_cast<ptrdiff_t>(pad_before);
  const ptrdiff_t begin = std::max<ptrdiff_t>(first, 0);
  const ptrdiff_t end =
      std::min<ptrdiff_t>(first + static_cast<ptrdiff_t>(pool), static_cast<ptrdiff_t>(input));
  if (begin >= end) {
    return {0, 0};
  }
  return {static_cast<size_t>(begin), static_cast<size_t>(end)};
}

}  // namespace

nnp_size max_pooling_output_size(nnp_size input_size, nnp_padding padding, nnp_size pooling_size,
                                 nnp_size pooling_stride) {
  nnp_size output;
  output.width = pooling_output_extent(padding.left, input_size.width, padding.right,
                                       pooling_size.width, pooling_stride.width);
  output.height = pooling_output_extent(padding.top, input_size.height, padding.bottom,
                                        pooling_size.height, pooling_stride.height);
  return output;
}

void max_pooling(size_t batch_size, size_t channels, nnp_size input_size, nnp_padding padding,
                 nnp_size pooling_size, nnp_size pooling_stride, const float* input,
                 float* output, pthreadpool_t threadpool) {
  const size_t input_height = input_size.height;
  const size_t input_width = input_size.width;
  const nnp_size output_size =
      max_pooling_output_size(input_size, padding, pooling_size, pooling_stride);
  const size_t output_height = output_size.height;
  const size_t output_width = output_size.width;

  parallel_for(threadpool, batch_size * channels, [&](size_t plane) {
    const float* source = input + plane * input_height * input_width;
    float* destination = output + plane * output_height * output_width;
    for (size_t oy = 0; oy < output_height; oy++) {
      const Window rows = window_cells(oy, pooling_stride.height, padding.top,
                                       pooling_size.height, input_height);
      for (size_t ox = 0; ox < output_width; ox++) {
        const Window columns = window_cells(ox, pooling_stride.width, padding.left,
                                            pooling_size.width, input_width);
        float maximum = -INFINITY;
        for (size_t y = rows.begin; y < rows.end; y++) {
          for (size_t x = columns.begin; x < columns.end; x++) {
            const float value = source[y * input_width + x];
            if (value > maximum) {
              maximum = value;
            }
          }
        }
        destination[oy * output_width + ox] = maximum;
      }
    }
  });
}

}  // namespace nnjit::reference
