// Argument validation for every API function, in the order API.md fixes: the
// first failing check decides the status.
#pragma once

#include <cstddef>
#include <cstring>

#include <nnpack.h>

#include "kernels/kernel_set.h"

namespace nnjit {

// The value a caller passed for an enum parameter, read as bytes: C callers may pass
// numbers outside the enum, and loading those as the enum type is undefined in C++.
template <class Enum>
int raw_enum(const Enum& value) {
  static_assert(sizeof(Enum) == sizeof(int));
  int raw;
  std::memcpy(&raw, &value, sizeof raw);
  return raw;
}

// Everything a convolution entry point receives except data pointers and workspace.
// The enum arguments are kept as raw values until validation has vetted them.
struct ConvolutionCall {
  ConvolutionOperation operation;
  int algorithm;  // nnp_convolution_algorithm
  int strategy;   // nnp_convolution_transform_strategy; compute for the training functions
  size_t batch_size;                            // 1 for inference
  size_t input_channels;
  size_t output_channels;
  nnp_size input_size;
  nnp_padding padding;
  nnp_size kernel_size;
  nnp_size subsampling;  // {1, 1} for the training functions
  int activation;  // nnp_activation
  const void* activation_parameters;

  // Valid after validate_convolution succeeded.
  nnp_convolution_algorithm algorithm_enum() const { return static_cast<nnp_convolution_algorithm>(algorithm); }
  nnp_convolution_transform_strategy strategy_enum() const {
    return static_cast<nnp_convolution_transform_strategy>(strategy);
  }
};

// Library state (50/51), then the shape and activation checks (2, 4, 5, 10, 12,
// 13, 14, 15, 29 or 28), the enums (16, 17), and finally 20 when the padded input
// is smaller than the kernel, so that no output exists. Algorithm eligibility
// (26/27) is the selector's.
nnp_status validate_convolution(const ConvolutionCall& call);

// Library state, batch (2), input channels (4), output channels (5).
nnp_status validate_fully_connected(size_t batch_size, size_t input_channels,
                                    size_t output_channels);

// Library state, input size (10), pooling size (14), stride (15), padding (12).
nnp_status validate_max_pooling(nnp_size input_size, nnp_padding padding, nnp_size pooling_size,
                                nnp_size pooling_stride);

// Library state, batch (2), channels (3): ReLU, its gradient and softmax.
nnp_status validate_activation_call(size_t batch_size, size_t channels);

}  // namespace nnjit
