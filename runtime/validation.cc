#include "runtime/validation.h"

#include <cmath>

#include "runtime/library.h"

namespace nnjit {
namespace {

bool is_zero(nnp_size size) { return size.width == 0 || size.height == 0; }

// Padding on an axis must be smaller than the window on that axis.
bool padding_fits(nnp_padding padding, nnp_size window) {
  return padding.top < window.height && padding.bottom < window.height &&
         padding.left < window.width && padding.right < window.width;
}

bool is_training(ConvolutionOperation operation) {
  return operation == ConvolutionOperation::input_gradient ||
         operation == ConvolutionOperation::kernel_gradient;
}

// 14 and 15: the activation and its parameters, as every convolution checks them.
nnp_status validate_activation(int activation, const void* parameters) {
  switch (activation) {
    case nnp_activation_identity:
      return parameters == nullptr ? nnp_status_success : nnp_status_invalid_activation_parameters;
    case nnp_activation_relu:
      if (parameters != nullptr) {
        const float negative_slope = *static_cast<const float*>(parameters);
        if (!std::isfinite(negative_slope) || negative_slope < 0.0f)
          return nnp_status_invalid_activation_parameters;
      }
      return nnp_status_success;
  }
  return nnp_status_invalid_activation;
}

bool is_known_algorithm(int algorithm) {
  switch (algorithm) {
    case nnp_convolution_algorithm_auto:
    case nnp_convolution_algorithm_ft8x8:
    case nnp_convolution_algorithm_ft16x16:
    case nnp_convolution_algorithm_wt8x8:
    case nnp_convolution_algorithm_implicit_gemm:
    case nnp_convolution_algorithm_direct:
    case nnp_convolution_algorithm_wt8x8_fp16:
      return true;
  }
  return false;
}

bool is_known_strategy(int strategy) {
  switch (strategy) {
    case nnp_convolution_transform_strategy_compute:
    case nnp_convolution_transform_strategy_precompute:
    case nnp_convolution_transform_strategy_reuse:
      return true;
  }
  return false;
}

}  // namespace

nnp_status validate_convolution(const ConvolutionCall& c) {
  if (const nnp_status status = library_status(); status != nnp_status_success) return status;
  if (c.batch_size == 0) return nnp_status_invalid_batch_size;
  if (c.input_channels == 0) return nnp_status_invalid_input_channels;
  if (c.output_channels == 0) return nnp_status_invalid_output_channels;
  if (is_zero(c.input_size)) return nnp_status_invalid_input_size;
  if (!padding_fits(c.padding, c.kernel_size)) return nnp_status_invalid_input_padding;
  if (is_zero(c.kernel_size)) return nnp_status_invalid_kernel_size;
  if (is_zero(c.subsampling)) return nnp_status_invalid_output_subsampling;
  if (const nnp_status status = validate_activation(c.activation, c.activation_parameters);
      status != nnp_status_success)
    return status;
  if (is_training(c.operation)) {
    if (c.activation != nnp_activation_identity) return nnp_status_unsupported_activation;
  } else if (c.activation_parameters != nullptr) {
    return nnp_status_unsupported_activation_parameters;
  }
  if (!is_known_algorithm(c.algorithm)) return nnp_status_invalid_algorithm;
  if (!is_known_strategy(c.strategy)) return nnp_status_invalid_transform_strategy;
  if (c.padding.top + c.input_size.height + c.padding.bottom < c.kernel_size.height ||
      c.padding.left + c.input_size.width + c.padding.right < c.kernel_size.width)
    return nnp_status_unsupported_input_size;
  return nnp_status_success;
}

nnp_status validate_fully_connected(size_t batch_size, size_t input_channels,
                                    size_t output_channels) {
  if (const nnp_status status = library_status(); status != nnp_status_success) return status;
  if (batch_size == 0) return nnp_status_invalid_batch_size;
  if (input_channels == 0) return nnp_status_invalid_input_channels;
  if (output_channels == 0) return nnp_status_invalid_output_channels;
  return nnp_status_success;
}

nnp_status validate_max_pooling(nnp_size input_size, nnp_padding padding, nnp_size pooling_size,
                                nnp_size pooling_stride) {
  if (const nnp_status status = library_status(); status != nnp_status_success) return status;
  if (is_zero(input_size)) return nnp_status_invalid_input_size;
  if (is_zero(pooling_size)) return nnp_status_invalid_pooling_size;
  if (is_zero(pooling_stride) || pooling_stride.height > pooling_size.height ||
      pooling_stride.width > pooling_size.width)
    return nnp_status_invalid_pooling_stride;
  if (!padding_fits(padding, pooling_size)) return nnp_status_invalid_input_padding;
  return nnp_status_success;
}

nnp_status validate_activation_call(size_t batch_size, size_t channels) {
  if (const nnp_status status = library_status(); status != nnp_status_success) return status;
  if (batch_size == 0) return nnp_status_invalid_batch_size;
  if (channels == 0) return nnp_status_invalid_channels;
  return nnp_status_success;
}

}  // namespace nnjit
