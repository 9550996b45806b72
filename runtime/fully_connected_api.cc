// Fully connected entry points: validate and dispatch.
#include <chrono>

#include <nnpack.h>

#include "runtime/dispatch.h"
#include "runtime/export.h"
#include "runtime/library.h"
#include "runtime/validation.h"

using namespace nnjit;

NNJIT_EXPORT nnp_status nnp_fully_connected_output(size_t batch_size, size_t input_channels,
                                                   size_t output_channels, const float input[],
                                                   const float kernel[], float output[],
                                                   pthreadpool_t threadpool, nnp_profile* profile) {
  const auto start = std::chrono::steady_clock::now();
  const nnp_status status = validate_fully_connected(batch_size, input_channels, output_channels);
  if (status != nnp_status_success) return status;
  nnp_profile stages{};
  const ExecutionContext context{nullptr, 0, threadpool, &hardware(), &stages};
  fully_connected_kernels(hardware()).output(batch_size, input_channels, output_channels, input,
                                             kernel, output, context);
  if (profile != nullptr) {
    stages.total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    *profile = stages;
  }
  return nnp_status_success;
}

NNJIT_EXPORT nnp_status nnp_fully_connected_inference(size_t input_channels, size_t output_channels,
                                                      const float* input, const float* kernel,
                                                      float* output, pthreadpool_t threadpool) {
  return nnp_fully_connected_output(1, input_channels, output_channels, input, kernel, output,
                                    threadpool, nullptr);
}

NNJIT_EXPORT nnp_status nnp_fully_connected_inference_f16f32(size_t input_channels,
                                                             size_t output_channels,
                                                             const float* input, const void* kernel,
                                                             float* output,
                                                             pthreadpool_t threadpool) {
  const nnp_status status = validate_fully_connected(1, input_channels, output_channels);
  if (status != nnp_status_success) return status;
  nnp_profile stages{};
  const ExecutionContext context{nullptr, 0, threadpool, &hardware(), &stages};
  fully_connected_kernels(hardware()).inference_f16(input_channels, output_channels, input,
                                                    static_cast<const uint16_t*>(kernel), output,
                                                    context);
  return nnp_status_success;
}
