// The four convolution entry points: validate, select, dispatch. No arithmetic here.
#include <chrono>

#include <nnjit.h>
#include <nnpack.h>

#include "runtime/dispatch.h"
#include "runtime/export.h"
#include "runtime/library.h"
#include "runtime/selector.h"
#include "runtime/validation.h"
#include "runtime/workspace.h"

namespace nnjit {
namespace {

constexpr nnp_size kUnitStride = {1, 1};

// Everything after argument checks: selection, workspace protocol, the kernel set.
nnp_status run_convolution(const ConvolutionCall& call, const ConvolutionTensors& tensors,
                           void* workspace_buffer, size_t* workspace_size,
                           pthreadpool_t threadpool, nnp_profile* profile) {
  const auto start = std::chrono::steady_clock::now();
  nnp_status status = validate_convolution(call);
  if (status != nnp_status_success) return status;
  const Hardware& hw = hardware();
  nnp_convolution_algorithm algorithm;
  status = select_convolution_algorithm(call, hw, &algorithm);
  if (status != nnp_status_success) return status;

  const ConvolutionProblem problem = problem_of(call);
  const ConvolutionKernelSet& kernels = convolution_kernels(algorithm, problem, hw);
  const bool precompute = call.strategy == nnp_convolution_transform_strategy_precompute;
  // Precompute writes the transformed kernel into the caller's buffer, which must exist.
  if (precompute && workspace_buffer == nullptr && workspace_size == nullptr)
    return nnp_status_insufficient_buffer;

  Workspace workspace;
  const size_t needed = precompute ? kernels.transformed_kernel_bytes(problem, hw)
                                   : kernels.workspace_bytes(problem, hw,
                                                             pthreadpool_get_threads_count(threadpool));
  status = workspace.acquire(workspace_buffer, workspace_size, needed);
  nnp_profile stages{};
  if (status == nnp_status_success && !workspace.size_reported()) {
    const ExecutionContext context{workspace.data(), workspace.bytes(), threadpool, &hw, &stages};
    if (precompute) {
      kernels.transform_kernel(problem, tensors.kernel, workspace.data(), context);
    } else {
      status = kernels.run(problem, tensors, context);
    }
  }
  if (status == nnp_status_success && profile != nullptr) {
    stages.total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    *profile = stages;
  }
  return status;
}

}  // namespace
}  // namespace nnjit

using namespace nnjit;

NNJIT_EXPORT nnp_status nnp_convolution_output(
    nnp_convolution_algorithm algorithm, size_t batch_size, size_t input_channels,
    size_t output_channels, nnp_size input_size, nnp_padding input_padding, nnp_size kernel_size,
    const float* input, const float* kernel, const float* bias, float* output,
    void* workspace_buffer, size_t* workspace_size, nnp_activation activation,
    const void* activation_parameters, pthreadpool_t threadpool, nnp_profile* profile) {
  const ConvolutionCall call{ConvolutionOperation::output, raw_enum(algorithm),
                             nnp_convolution_transform_strategy_compute, batch_size,
                             input_channels, output_channels, input_size, input_padding,
                             kernel_size, kUnitStride, raw_enum(activation), activation_parameters};
  return run_convolution(call, {input, kernel, bias, output}, workspace_buffer, workspace_size,
                         threadpool, profile);
}

NNJIT_EXPORT nnp_status nnp_convolution_input_gradient(
    nnp_convolution_algorithm algorithm, size_t batch_size, size_t input_channels,
    size_t output_channels, nnp_size input_size, nnp_padding input_padding, nnp_size kernel_size,
    const float* grad_output, const float* kernel, float* grad_input, void* workspace_buffer,
    size_t* workspace_size, nnp_activation activation, const void* activation_parameters,
    pthreadpool_t threadpool, nnp_profile* profile) {
  const ConvolutionCall call{ConvolutionOperation::input_gradient, raw_enum(algorithm),
                             nnp_convolution_transform_strategy_compute, batch_size,
                             input_channels, output_channels, input_size, input_padding,
                             kernel_size, kUnitStride, raw_enum(activation), activation_parameters};
  return run_convolution(call, {grad_output, kernel, nullptr, grad_input}, workspace_buffer,
                         workspace_size, threadpool, profile);
}

NNJIT_EXPORT nnp_status nnp_convolution_kernel_gradient(
    nnp_convolution_algorithm algorithm, size_t batch_size, size_t input_channels,
    size_t output_channels, nnp_size input_size, nnp_padding input_padding, nnp_size kernel_size,
    const float* input, const float* grad_output, float* grad_kernel, void* workspace_buffer,
    size_t* workspace_size, nnp_activation activation, const void* activation_parameters,
    pthreadpool_t threadpool, nnp_profile* profile) {
  const ConvolutionCall call{ConvolutionOperation::kernel_gradient, raw_enum(algorithm),
                             nnp_convolution_transform_strategy_compute, batch_size,
                             input_channels, output_channels, input_size, input_padding,
                             kernel_size, kUnitStride, raw_enum(activation), activation_parameters};
  return run_convolution(call, {input, grad_output, nullptr, grad_kernel}, workspace_buffer,
                         workspace_size, threadpool, profile);
}

NNJIT_EXPORT nnp_status nnp_convolution_inference(
    nnp_convolution_algorithm algorithm, nnp_convolution_transform_strategy transform_strategy,
    size_t input_channels, size_t output_channels, nnp_size input_size, nnp_padding input_padding,
    nnp_size kernel_size, nnp_size output_subsampling, const float* input, const float* kernel,
    const float* bias, float* output, void* workspace_buffer, size_t* workspace_size,
    nnp_activation activation, const void* activation_parameters, pthreadpool_t threadpool,
    nnp_profile* profile) {
  const ConvolutionCall call{ConvolutionOperation::inference, raw_enum(algorithm),
                             raw_enum(transform_strategy), 1, input_channels, output_channels,
                             input_size, input_padding, kernel_size, output_subsampling,
                             raw_enum(activation), activation_parameters};
  return run_convolution(call, {input, kernel, bias, output}, workspace_buffer, workspace_size,
                         threadpool, profile);
}

NNJIT_EXPORT nnp_status nnp_ext_convolution_algorithm(
    nnp_ext_convolution_operation operation, nnp_convolution_algorithm algorithm,
    nnp_convolution_transform_strategy transform_strategy, size_t batch_size,
    size_t input_channels, size_t output_channels, nnp_size input_size, nnp_padding input_padding,
    nnp_size kernel_size, nnp_size output_subsampling, nnp_convolution_algorithm* chosen) {
  const int raw_operation = raw_enum(operation);
  const bool inference = raw_operation == nnp_ext_convolution_inference;
  ConvolutionOperation op;
  switch (raw_operation) {
    case nnp_ext_convolution_output: op = ConvolutionOperation::output; break;
    case nnp_ext_convolution_input_gradient: op = ConvolutionOperation::input_gradient; break;
    case nnp_ext_convolution_kernel_gradient: op = ConvolutionOperation::kernel_gradient; break;
    case nnp_ext_convolution_inference: op = ConvolutionOperation::inference; break;
    default: return nnp_status_invalid_algorithm;
  }
  const ConvolutionCall call{op,
                             raw_enum(algorithm),
                             inference ? raw_enum(transform_strategy) : nnp_convolution_transform_strategy_compute,
                             inference ? 1 : batch_size,
                             input_channels,
                             output_channels,
                             input_size,
                             input_padding,
                             kernel_size,
                             inference ? output_subsampling : kUnitStride,
                             nnp_activation_identity,
                             nullptr};
  nnp_status status = validate_convolution(call);
  if (status != nnp_status_success) return status;
  nnp_convolution_algorithm selected;
  status = select_convolution_algorithm(call, hardware(), &selected);
  // The public enumeration has one Winograd for 3x3 kernels: F(4x4, 3x3) on small images
  // (our own choice under auto) is reported as wt8x8.
  if (status == nnp_status_success && chosen != nullptr)
    *chosen = selected == kAlgorithmWt6x6 ? nnp_convolution_algorithm_wt8x8 : selected;
  return status;
}

NNJIT_EXPORT const char* nnp_ext_algorithm_name(nnp_convolution_algorithm algorithm) {
  switch (raw_enum(algorithm)) {
    case nnp_convolution_algorithm_auto: return "auto";
    case nnp_convolution_algorithm_ft8x8: return "ft8x8";
    case nnp_convolution_algorithm_ft16x16: return "ft16x16";
    case nnp_convolution_algorithm_wt8x8: return "wt8x8";
    case nnp_convolution_algorithm_implicit_gemm: return "implicit_gemm";
    case nnp_convolution_algorithm_direct: return "direct";
    case nnp_convolution_algorithm_wt8x8_fp16: return "wt8x8_fp16";
  }
  return nullptr;
}
