// Reference activations: leaky ReLU, its gradient, and softmax.
//
// relu and relu_gradient decide by the sign bit (std::signbit), so -0.0 and NaNs
// with the sign bit set take the negative_slope branch: -0.0 * slope and NaN * slope.
// Each element is read before it is written, so any of the arrays may alias.
//
// softmax, per row of `channels` values (one task per row), in double precision:
//   max   = the largest x, by `if (x > max) max = x` from -infinity (NaNs never win);
//   sum   = exp(x_0 - max) + exp(x_1 - max) + ... in ascending order, in double;
//   out_i = exp(x_i - max) / sum, in double, rounded once to float.
// Every exponent is <= 0, so large inputs (1e30) cannot overflow. The first two passes
// only read the row, and the third reads x_i just before writing out_i, so
// input == output works. Equal inputs give exp(0) = 1, sum = channels, and
// out_i = 1.0f / channels exactly (double rounding cannot occur below 2^28 channels).
// A NaN in the row makes the whole row NaN; a row of -infinity, or containing
// +infinity, gives NaN (infinity - infinity).
#include <cmath>
#include <cstddef>

#include "kernels/parallel.h"
#include "kernels/reference/reference.h"

namespace nnjit::reference {
namespace {

// Elements per task for the element-wise functions (64 KiB of floats).
constexpr size_t kElementsPerTask = 16384;

}  // namespace

void relu(size_t count, const float* input, float* output, float negative_slope,
          pthreadpool_t threadpool) {
  parallel_for_tiles(threadpool, count, kElementsPerTask, [&](size_t first, size_t extent) {
    for (size_t i = first; i < first + extent; i++) {
      const float x = input[i];
      output[i] = std::signbit(x) ? x * negative_slope : x;
    }
  });
}

void relu_gradient(size_t count, const float* grad_output, const float* input, float* grad_input,
                   float negative_slope, pthreadpool_t threadpool) {
  parallel_for_tiles(threadpool, count, kElementsPerTask, [&](size_t first, size_t extent) {
    for (size_t i = first; i < first + extent; i++) {
      const float gradient = grad_output[i];
      grad_input[i] = std::signbit(input[i]) ? gradient * negative_slope : gradient;
    }
  });
}

void softmax(size_t batch_size, size_t channels, const float* input, float* output,
             pthreadpool_t threadpool) {
  parallel_for(threadpool, batch_size, [&](size_t b) {
    const float* x = input + b * channels;
    float* y = output + b * channels;

    float maximum = -INFINITY;
    for (size_t c = 0; c < channels; c++) {
      if (x[c] > maximum) {
        maximum = x[c];
      }
    }

    double sum = 0.0;
    for (size_t c = 0; c < channels; c++) {
      sum += std::exp(static_cast<double>(x[c]) - maximum);
    }

    for (size_t c = 0; c < channels; c++) {
      y[c] = static_cast<float>(std::exp(static_cast<double>(x[c]) - maximum) / sum);
    }
  });
}

}  // namespace nnjit::reference
