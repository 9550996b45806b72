// Reference kernels: the slow, obviously-correct definition of every operation.
//
// Each function computes its result directly from the formula, with float
// accumulation in a fixed order, so results do not depend on the thread count.
// Work is spread over the given pool (NULL: calling thread) by output element
// groups only; no two threads ever write the same element.
//
// These kernels serve every API call until a faster kernel set is registered
// for an algorithm (runtime/dispatch), and they are what fast kernels are tested
// against.
#pragma once

#include <cstddef>
#include <cstdint>

#include <nnpack.h>

namespace nnjit::reference {

// The geometry of one convolution call. `stride` is {1, 1} except in inference.
struct ConvolutionShape {
  size_t batch_size;
  size_t input_channels;
  size_t output_channels;
  nnp_size input_size;
  nnp_padding padding;
  nnp_size kernel_size;
  nnp_size stride;

  // (pad_before + input + pad_after - kernel) / stride + 1 per axis.
  // Requires the padded input to be at least as large as the kernel.
  nnp_size output_size() const;
};

// output[n][co][y][x] = act(bias[co] + sum over ci, ky, kx of
//   input[n][ci][y*sh + ky - pad.top][x*sw + kx - pad.left] * kernel[co][ci][ky][kx]),
// reading zeros outside the input. bias may be NULL (zeros). act is max(., 0) when relu.
void convolution_output(const ConvolutionShape& shape, const float* input, const float* kernel,
                        const float* bias, float* output, bool relu, pthreadpool_t threadpool);

// grad_input[n][ci][y][x] = sum over co, ky, kx of
//   grad_output[n][co][(y + pad.top - ky)][(x + pad.left - kx)] * kernel[co][ci][ky][kx]
// over the output positions that exist (stride 1).
void convolution_input_gradient(const ConvolutionShape& shape, const float* grad_output,
                                const float* kernel, float* grad_input, pthreadpool_t threadpool);

// grad_kernel[co][ci][ky][kx] = sum over n, oy, ox of
//   grad_output[n][co][oy][ox] * input[n][ci][oy + ky - pad.top][ox + kx - pad.left] (stride 1).
void convolution_kernel_gradient(const ConvolutionShape& shape, const float* input,
                                 const float* grad_output, float* grad_kernel,
                                 pthreadpool_t threadpool);

// output[b][o] = sum over i of input[b][i] * kernel[o][i].
void fully_connected(size_t batch_size, size_t input_channels, size_t output_channels,
                     const float* input, const float* kernel, float* output,
                     pthreadpool_t threadpool);

// The same for one input row with IEEE 754 binary16 weights.
void fully_connected_f16(size_t input_channels, size_t output_channels, const float* input,
                         const uint16_t* kernel, float* output, pthreadpool_t threadpool);

// Exact conversion of an IEEE 754 binary16 value (normals, subnormals, zeros, inf, NaN).
float fp16_to_fp32(uint16_t bits);

// Max pooling with the general window/stride/padding rule of the API:
// output extent per axis = ceil((pad_before + input + pad_after - pool) / stride) + 1,
// with a negative numerator counted as zero. Each output is the maximum over the
// window cells that lie inside the input; padding and overhang take no part
// (a window that covers no input cell gives -infinity).
void max_pooling(size_t batch_size, size_t channels, nnp_size input_size, nnp_padding padding,
                 nnp_size pooling_size, nnp_size pooling_stride, const float* input,
                 float* output, pthreadpool_t threadpool);
nnp_size max_pooling_output_size(nnp_size input_size, nnp_padding padding, nnp_size pooling_size,
                                 nnp_size pooling_stride);

// Leaky ReLU on `count` elements: x where the sign bit of x is clear, else x * negative_slope.
// input == output is allowed.
void relu(size_t count, const float* input, float* output, float negative_slope,
          pthreadpool_t threadpool);

// grad_input = grad_output where the sign bit of input is clear, else grad_output * negative_slope.
// Any of the three arrays may alias.
void relu_gradient(size_t count, const float* grad_output, const float* input, float* grad_input,
                   float negative_slope, pthreadpool_t threadpool);

// Per row of `channels` values: exp(x - max) / sum(exp(x - max)). input == output is allowed.
void softmax(size_t batch_size, size_t channels, const float* input, float* output,
             pthreadpool_t threadpool);

}  // namespace nnjit::reference
