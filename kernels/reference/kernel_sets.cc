#include "kernels/reference/kernel_sets.h"

#include <cstring>

#include "kernels/reference/reference.h"
#include "kernels/stage_timer.h"

namespace nnjit::reference {
namespace {

ConvolutionShape shape_of(const ConvolutionProblem& p) {
  return {p.batch_size, p.input_channels, p.output_channels, p.input_size,
          p.padding,    p.kernel_size,    p.stride};
}

size_t no_workspace(const ConvolutionProblem&, const Hardware&, size_t) { return 0; }

// The reference "transformed" kernel is the kernel itself, so precompute/reuse work
// for every algorithm that allows them.
size_t raw_kernel_bytes(const ConvolutionProblem& p, const Hardware&) {
  return p.output_channels * p.input_channels * p.kernel_size.height * p.kernel_size.width *
         sizeof(float);
}

void copy_kernel(const ConvolutionProblem& p, const float* kernel, void* transformed,
                 const ExecutionContext& context) {
  StageTimer timer(context.profile->kernel_transform);
  std::memcpy(transformed, kernel, raw_kernel_bytes(p, *context.hardware));
}

nnp_status run_convolution(const ConvolutionProblem& p, const ConvolutionTensors& t,
                           const ExecutionContext& context) {
  StageTimer timer(context.profile->block_multiplication);
  const ConvolutionShape shape = shape_of(p);
  switch (p.operation) {
    case ConvolutionOperation::output:
    case ConvolutionOperation::inference:
      convolution_output(shape, t.input, t.kernel, t.bias, t.output, p.relu, context.threadpool);
      break;
    case ConvolutionOperation::input_gradient:
      convolution_input_gradient(shape, t.input, t.kernel, t.output, context.threadpool);
      break;
    case ConvolutionOperation::kernel_gradient:
      convolution_kernel_gradient(shape, t.input, t.kernel, t.output, context.threadpool);
      break;
  }
  return nnp_status_success;
}

void fully_connected_output(size_t batch_size, size_t input_channels, size_t output_channels,
                            const float* input, const float* kernel, float* output,
                            const ExecutionContext& context) {
  StageTimer timer(context.profile->block_multiplication);
  fully_connected(batch_size, input_channels, output_channels, input, kernel, output,
                  context.threadpool);
}

void fully_connected_inference_f16(size_t input_channels, size_t output_channels,
                                   const float* input, const uint16_t* kernel, float* output,
                                   const ExecutionContext& context) {
  StageTimer timer(context.profile->block_multiplication);
  fully_connected_f16(input_channels, output_channels, input, kernel, output, context.threadpool);
}

void run_max_pooling(const PoolingShape& s, const float* input, float* output,
                     const ExecutionContext& context) {
  max_pooling(s.batch_size, s.channels, s.input_size, s.padding, s.pooling_size, s.pooling_stride,
              input, output, context.threadpool);
}

void run_relu(size_t count, const float* input, float* output, float negative_slope,
              const ExecutionContext& context) {
  relu(count, input, output, negative_slope, context.threadpool);
}

void run_relu_gradient(size_t count, const float* grad_output, const float* input,
                       float* grad_input, float negative_slope, const ExecutionContext& context) {
  relu_gradient(count, grad_output, input, grad_input, negative_slope, context.threadpool);
}

void run_softmax(size_t batch_size, size_t channels, const float* input, float* output,
                 const ExecutionContext& context) {
  softmax(batch_size, channels, input, output, context.threadpool);
}

}  // namespace

const ConvolutionKernelSet kConvolutionKernels = {
    "reference", nullptr, no_workspace, raw_kernel_bytes, copy_kernel, run_convolution};
const FullyConnectedKernelSet kFullyConnectedKernels = {
    "reference", fully_connected_output, fully_connected_inference_f16};
const MaxPoolingKernelSet kMaxPoolingKernels = {"reference", nullptr, run_max_pooling};
const ActivationKernelSet kActivationKernels = {"reference", run_relu, run_relu_gradient,
                                                run_softmax};

}  // namespace nnjit::reference
