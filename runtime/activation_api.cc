// ReLU, its gradient and softmax: validate and dispatch.
#include <nnpack.h>

#include "runtime/dispatch.h"
#include "runtime/export.h"
#include "runtime/library.h"
#include "runtime/validation.h"

using namespace nnjit;

NNJIT_EXPORT nnp_status nnp_relu_output(size_t batch_size, size_t channels, const float input[],
                                        float output[], float negative_slope,
                                        pthreadpool_t threadpool) {
  const nnp_status status = validate_activation_call(batch_size, channels);
  if (status != nnp_status_success) return status;
  nnp_profile stages{};
  const ExecutionContext context{nullptr, 0, threadpool, &hardware(), &stages};
  activation_kernels(hardware()).relu(batch_size * channels, input, output, negative_slope, context);
  return nnp_status_success;
}

NNJIT_EXPORT nnp_status nnp_relu_input_gradient(size_t batch_size, size_t channels,
                                                const float grad_output[], const float input[],
                                                float grad_input[], float negative_slope,
                                                pthreadpool_t threadpool) {
  const nnp_status status = validate_activation_call(batch_size, channels);
  if (status != nnp_status_success) return status;
  nnp_profile stages{};
  const ExecutionContext context{nullptr, 0, threadpool, &hardware(), &stages};
  activation_kernels(hardware()).relu_gradient(batch_size * channels, grad_output, input,
                                               grad_input, negative_slope, context);
  return nnp_status_success;
}

NNJIT_EXPORT nnp_status nnp_softmax_output(size_t batch_size, size_t channels, const float input[],
                                           float output[], pthreadpool_t threadpool) {
  const nnp_status status = validate_activation_call(batch_size, channels);
  if (status != nnp_status_success) return status;
  nnp_profile stages{};
  const ExecutionContext context{nullptr, 0, threadpool, &hardware(), &stages};
  activation_kernels(hardware()).softmax(batch_size, channels, input, output, context);
  return nnp_status_success;
}
