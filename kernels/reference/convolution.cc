// Reference convolutions: direct loops over the formulas in reference.h.
//
// Every output element is computed by exactly one task, and each task adds its
// terms in a fixed order, so results are bit-identical for any thread count:
//  - convolution_output, per output[n][co][y][x]:
//      bias[co] (or 0), then + input * kernel for ci ascending, then ky, then kx;
//      then max(., 0) as `v > 0 ? v : 0` when relu (NaN and -0 become +0,
//      the same as the SIMD instruction max(v, 0)).
//  - convolution_input_gradient, per grad_input[n][ci][y][x]:
//      0, then + grad_output * kernel for co ascending, then ky, then kx.
//  - convolution_kernel_gradient, per grad_kernel[co][ci][ky][kx]:
//      for each output column ox a partial sum starting at 0 over n ascending,
//      then oy ascending; then the partial sums are added in ascending ox.
// Each term is `acc += a * b`; whether the compiler fuses that into an FMA depends
// on the build flags (-ffp-contract), which changes the last bit but not the
// independence from the thread count.
//
// Loop order: the innermost loop runs over contiguous output x (columns of one
// output row), with the valid column range precomputed per kernel column, so it
// has no padding test and the compiler can vectorise it.
#include <algorithm>
#include <cassert>
#include <cstddef>
#include <vector>

#include "kernels/parallel.h"
#include "kernels/reference/reference.h"

namespace nnjit::reference {
namespace {

// A half-open range [begin, end) of positions.
struct Range {
  size_t begin;
  size_t end;
  size_t size() const { return end - begin; }
};

// The positions p in [0, count) whose source position p * stride + offset lies in
// [0, source_extent). `offset` is typically kernel tap minus padding and may be negative.
Range valid_positions(ptrdiff_t offset, size_t stride, size_t source_extent, size_t count) {
  const ptrdiff_t s = static_cast<ptrdiff_t>(stride);
  // p * s + offset >= 0                 <=>  p >= ceil(-offset / s)
  const ptrdiff_t first = offset >= 0 ? 0 : (-offset + s - 1) / s;
  // p * s + offset <= source_extent - 1 <=>  p <= floor((source_extent - 1 - offset) / s)
  const ptrdiff_t last_source = static_cast<ptrdiff_t>(source_extent) - 1 - offset;
  if (last_source < 0) {
    return {0, 0};
  }
  const ptrdiff_t end = std::min(last_source / s + 1, static_cast<ptrdiff_t>(count));
  if (first >= end) {
    return {0, 0};
  }
  return {static_cast<size_t>(first), static_cast<size_t>(end)};
}

// The loops below are written in blocks of kBlock independent elements so that
// even the cautious vectoriser of -O2 turns each block into SIMD instructions;
// elements are independent, so this does not change any result.
constexpr size_t kBlock = 8;

// y[i] += x[i * x_stride] * a for i in [0, n).
void multiply_add(float* __restrict y, const float* __restrict x, size_t x_stride, size_t n,
                  float a) {
  size_t i = 0;
  if (x_stride == 1) {
    for (; i + kBlock <= n; i += kBlock) {
      for (size_t j = 0; j < kBlock; j++) {
        y[i + j] += x[i + j] * a;
      }
    }
  }
  for (; i < n; i++) {
    y[i] += x[i * x_stride] * a;
  }
}

// y[i] += a[i] * b[i] for i in [0, n).
void multiply_accumulate(float* __restrict y, const float* __restrict a,
                         const float* __restrict b, size_t n) {
  size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    for (size_t j = 0; j < kBlock; j++) {
      y[i + j] += a[i + j] * b[i + j];
    }
  }
  for (; i < n; i++) {
    y[i] += a[i] * b[i];
  }
}

}  // namespace

nnp_size ConvolutionShape::output_size() const {
  assert(stride.width > 0 && stride.height > 0);
  assert(padding.left + input_size.width + padding.right >= kernel_size.width);
  assert(padding.top + input_size.height + padding.bottom >= kernel_size.height);
  nnp_size output;
  output.width = (padding.left + input_size.width + padding.right - kernel_size.width) /
                     stride.width + 1;
  output.height = (padding.top + input_size.height + padding.bottom - kernel_size.height) /
                      stride.height + 1;
  return output;
}

void convolution_output(const ConvolutionShape& shape, const float* input, const float* kernel,
                        const float* bias, float* output, bool relu, pthreadpool_t threadpool) {
  const size_t input_channels = shape.input_channels;
  const size_t output_channels = shape.output_channels;
  const size_t input_height = shape.input_size.height;
  const size_t input_width = shape.input_size.width;
  const size_t kernel_height = shape.kernel_size.height;
  const size_t kernel_width = shape.kernel_size.width;
  const size_t stride_y = shape.stride.height;
  const size_t stride_x = shape.stride.width;
  const ptrdiff_t pad_top = static_cast<ptrdiff_t>(shape.padding.top);
  const ptrdiff_t pad_left = static_cast<ptrdiff_t>(shape.padding.left);
  const nnp_size output_size = shape.output_size();
  const size_t output_height = output_size.height;
  const size_t output_width = output_size.width;

  // For kernel column kx: the output columns x whose input column x*sx + kx - pad.left exists.
  std::vector<Range> columns(kernel_width);
  for (size_t kx = 0; kx < kernel_width; kx++) {
    columns[kx] = valid_positions(static_cast<ptrdiff_t>(kx) - pad_left, stride_x, input_width,
                                  output_width);
  }

  parallel_for_2d(threadpool, shape.batch_size, output_channels, [&](size_t n, size_t co) {
    const float* image = input + n * input_channels * input_height * input_width;
    const float* filter = kernel + co * input_channels * kernel_height * kernel_width;
    float* plane = output + (n * output_channels + co) * output_height * output_width;
    const float initial = bias != nullptr ? bias[co] : 0.0f;

    for (size_t y = 0; y < output_height; y++) {
      float* row = plane + y * output_width;
      std::fill(row, row + output_width, initial);
      for (size_t ci = 0; ci < input_channels; ci++) {
        for (size_t ky = 0; ky < kernel_height; ky++) {
          const ptrdiff_t iy = static_cast<ptrdiff_t>(y * stride_y + ky) - pad_top;
          if (iy < 0 || iy >= static_cast<ptrdiff_t>(input_height)) {
            continue;  // this kernel row reads the zero padding
          }
          const float* input_row =
              image + (ci * input_height + static_cast<size_t>(iy)) * input_width;
          for (size_t kx = 0; kx < kernel_width; kx++) {
            const Range x = columns[kx];
            if (x.size() == 0) {
              continue;
            }
            const size_t ix = x.begin * stride_x + kx - static_cast<size_t>(pad_left);
            multiply_add(row + x.begin, input_row + ix, stride_x, x.size(),
                         filter[(ci * kernel_height + ky) * kernel_width + kx]);
          }
        }
      }
      if (relu) {
        for (size_t x = 0; x < output_width; x++) {
          row[x] = row[x] > 0.0f ? row[x] : 0.0f;
        }
      }
    }
  });
}

void convolution_input_gradient(const ConvolutionShape& shape, const float* grad_output,
                                const float* kernel, float* grad_input, pthreadpool_t threadpool) {
  assert(shape.stride.width == 1 && shape.stride.height == 1);
  const size_t input_channels = shape.input_channels;
  const size_t output_channels = shape.output_channels;
  const size_t input_height = shape.input_size.height;
  const size_t input_width = shape.input_size.width;
  const size_t kernel_height = shape.kernel_size.height;
  const size_t kernel_width = shape.kernel_size.width;
  const ptrdiff_t pad_top = static_cast<ptrdiff_t>(shape.padding.top);
  const ptrdiff_t pad_left = static_cast<ptrdiff_t>(shape.padding.left);
  const nnp_size output_size = shape.output_size();
  const size_t output_height = output_size.height;
  const size_t output_width = output_size.width;

  // For kernel column kx: the input columns x whose output column x + pad.left - kx exists.
  std::vector<Range> columns(kernel_width);
  for (size_t kx = 0; kx < kernel_width; kx++) {
    columns[kx] = valid_positions(pad_left - static_cast<ptrdiff_t>(kx), 1, output_width,
                                  input_width);
  }

  parallel_for_2d(threadpool, shape.batch_size, input_channels, [&](size_t n, size_t ci) {
    const float* gradients = grad_output + n * output_channels * output_height * output_width;
    float* plane = grad_input + (n * input_channels + ci) * input_height * input_width;

    for (size_t y = 0; y < input_height; y++) {
      float* row = plane + y * input_width;
      std::fill(row, row + input_width, 0.0f);
      for (size_t co = 0; co < output_channels; co++) {
        const float* filter = kernel + (co * input_channels + ci) * kernel_height * kernel_width;
        for (size_t ky = 0; ky < kernel_height; ky++) {
          const ptrdiff_t oy = static_cast<ptrdiff_t>(y) + pad_top - static_cast<ptrdiff_t>(ky);
          if (oy < 0 || oy >= static_cast<ptrdiff_t>(output_height)) {
            continue;  // no output row received this input row through kernel row ky
          }
          const float* gradient_row =
              gradients + (co * output_height + static_cast<size_t>(oy)) * output_width;
          for (size_t kx = 0; kx < kernel_width; kx++) {
            const Range x = columns[kx];
            if (x.size() == 0) {
              continue;
            }
            const size_t ox = x.begin + static_cast<size_t>(pad_left) - kx;
            multiply_add(row + x.begin, gradient_row + ox, 1, x.size(),
                         filter[ky * kernel_width + kx]);
          }
        }
      }
    }
  });
}

void convolution_kernel_gradient(const ConvolutionShape& shape, const float* input,
                                 const float* grad_output, float* grad_kernel,
                                 pthreadpool_t threadpool) {
  assert(shape.stride.width == 1 && shape.stride.height == 1);
  const size_t batch_size = shape.batch_size;
  const size_t input_channels = shape.input_channels;
  const size_t output_channels = shape.output_channels;
  const size_t input_height = shape.input_size.height;
  const size_t input_width = shape.input_size.width;
  const size_t kernel_height = shape.kernel_size.height;
  const size_t kernel_width = shape.kernel_size.width;
  const ptrdiff_t pad_top = static_cast<ptrdiff_t>(shape.padding.top);
  const ptrdiff_t pad_left = static_cast<ptrdiff_t>(shape.padding.left);
  const nnp_size output_size = shape.output_size();
  const size_t output_height = output_size.height;
  const size_t output_width = output_size.width;

  // For kernel column kx: the output columns ox whose input column ox + kx - pad.left exists.
  std::vector<Range> columns(kernel_width);
  for (size_t kx = 0; kx < kernel_width; kx++) {
    columns[kx] = valid_positions(static_cast<ptrdiff_t>(kx) - pad_left, 1, input_width,
                                  output_width);
  }

  parallel_for_2d(threadpool, output_channels, input_channels, [&](size_t co, size_t ci) {
    // partial[ox]: the sum over n and oy for one output column.
    std::vector<float> partial(output_width);
    float* result = grad_kernel + (co * input_channels + ci) * kernel_height * kernel_width;

    for (size_t ky = 0; ky < kernel_height; ky++) {
      for (size_t kx = 0; kx < kernel_width; kx++) {
        std::fill(partial.begin(), partial.end(), 0.0f);
        const Range x = columns[kx];
        for (size_t n = 0; n < batch_size; n++) {
          const float* gradients =
              grad_output + (n * output_channels + co) * output_height * output_width;
          const float* image = input + (n * input_channels + ci) * input_height * input_width;
          for (size_t oy = 0; oy < output_height; oy++) {
            const ptrdiff_t iy = static_cast<ptrdiff_t>(oy + ky) - pad_top;
            if (iy < 0 || iy >= static_cast<ptrdiff_t>(input_height) || x.size() == 0) {
              continue;  // this output row met only zero padding through kernel tap (ky, kx)
            }
            const float* gradient_row = gradients + oy * output_width;
            const float* input_row = image + static_cast<size_t>(iy) * input_width;
            const size_t ix = x.begin + kx - static_cast<size_t>(pad_left);
            multiply_accumulate(partial.data() + x.begin, gradient_row + x.begin, input_row + ix,
                                x.size());
          }
        }
        float sum = 0.0f;
        for (size_t ox = 0; ox < output_width; ox++) {
          sum += partial[ox];
        }
        result[ky * kernel_width + kx] = sum;
      }
    }
  });
}

}  // namespace nnjit::reference
