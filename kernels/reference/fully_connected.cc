// Reference fully connected layers and the binary16 -> binary32 conversion.
//
// Accumulation order of every output element (a dot product over input channels):
// kDotLanes interleaved float partial sums, lane k adding the products of channels
// i = k, k + kDotLanes, k + 2 * kDotLanes, ... in ascending order, each starting at 0;
// then the lanes are added in order 0, 1, ..., kDotLanes - 1 onto 0. This is the
// order a SIMD loop would use, so the compiler can vectorise it without reordering,
// and it does not depend on the thread count (one task computes each element).
//
// fully_connected_f16 converts each weight exactly (fp16_to_fp32) and then uses the
// same dot product, so its result equals fully_connected on the converted weights.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/parallel.h"
#include "kernels/reference/reference.h"

namespace nnjit::reference {
namespace {

constexpr size_t kDotLanes = 8;

// Output channels per task: enough work per task to amortise the pool's dispatch,
// and a block of kernel rows that stays in cache across the batch.
constexpr size_t kOutputChannelsPerTask = 16;

float dot(const float* a, const float* b, size_t n) {
  float lanes[kDotLanes] = {};
  size_t i = 0;
  for (; i + kDotLanes <= n; i += kDotLanes) {
    for (size_t k = 0; k < kDotLanes; k++) {
      lanes[k] += a[i + k] * b[i + k];
    }
  }
  for (; i < n; i++) {
    lanes[i % kDotLanes] += a[i] * b[i];
  }
  float sum = 0.0f;
  for (size_t k = 0; k < kDotLanes; k++) {
    sum += lanes[k];
  }
  return sum;
}

}  // namespace

void fully_connected(size_t batch_size, size_t input_channels, size_t output_channels,
                     const float* input, const float* kernel, float* output,
                     pthreadpool_t threadpool) {
  parallel_for_tiles(threadpool, output_channels, kOutputChannelsPerTask,
                     [&](size_t first, size_t count) {
                       for (size_t b = 0; b < batch_size; b++) {
                         const float* row = input + b * input_channels;
                         for (size_t o = first; o < first + count; o++) {
                           output[b * output_channels + o] =
                               dot(row, kernel + o * input_channels, input_channels);
                         }
                       }
                     });
}

void fully_connected_f16(size_t input_channels, size_t output_channels, const float* input,
                         const uint16_t* kernel, float* output, pthreadpool_t threadpool) {
  parallel_for_tiles(threadpool, output_channels, kOutputChannelsPerTask,
                     [&](size_t first, size_t count) {
                       std::vector<float> weights(input_channels);
                       for (size_t o = first; o < first + count; o++) {
                         const uint16_t* row = kernel + o * input_channels;
                         for (size_t i = 0; i < input_channels; i++) {
                           weights[i] = fp16_to_fp32(row[i]);
                         }
                         output[o] = dot(input, weights.data(), input_channels);
                       }
                     });
}

// binary16: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits.
// binary32: 1 sign bit, 8 exponent bits (bias 127), 23 fraction bits.
// Every binary16 value is exactly representable in binary32.
float fp16_to_fp32(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1Fu;
  const uint32_t fraction = bits & 0x3FFu;

  if (exponent == 0x1F) {
    // Infinity keeps its sign. A NaN keeps its sign and payload and comes out quiet
    // (quiet bit set), as the F16C instruction vcvtph2ps converts it.
    const uint32_t quiet = fraction != 0 ? 0x00400000u : 0;
    return std::bit_cast<float>(sign | 0x7F800000u | quiet | (fraction << 13));
  }
  if (exponent == 0) {
    // Zero or subnormal: fraction * 2^-24, exact in binary32 (a normal number there).
    const float magnitude = static_cast<float>(fraction) * 0x1p-24f;
    return std::bit_cast<float>(sign | std::bit_cast<uint32_t>(magnitude));
  }
  // Normal: rebias the exponent (127 - 15 = 112) and widen the fraction.
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (fraction << 13));
}

}  // namespace nnjit::reference
