// The interface between the runtime (validation, selection, dispatch) and kernel
// families. A family offers kernel sets — tables of functions for one algorithm on
// one instruction set — and the runtime's dispatch tables (runtime/dispatch.cc) map
// (operation, algorithm, ISA) to them. Kernels never look at API-level concerns:
// arguments arrive validated, the workspace sized as they asked, and the thread
// pool and hardware description as arguments.
#pragma once

#include <cstddef>
#include <cstdint>

#include <nnpack.h>

#include "kernels/hardware.h"

namespace nnjit {

enum class ConvolutionOperation : uint8_t { output, input_gradient, kernel_gradient, inference };

// The geometry of one convolution call, after validation.
struct ConvolutionProblem {
  ConvolutionOperation operation;
  size_t batch_size;  // 1 for inference
  size_t input_channels;
  size_t output_channels;
  nnp_size input_size;
  nnp_padding padding;
  nnp_size kernel_size;
  nnp_size stride;  // output_subsampling for inference; {1, 1} otherwise
  bool relu;        // fused ReLU on the output (output and inference only)
  nnp_convolution_transform_strategy strategy;  // compute for the training functions

  nnp_size output_size() const {
    return {(padding.left + input_size.width + padding.right - kernel_size.width) / stride.width + 1,
            (padding.top + input_size.height + padding.bottom - kernel_size.height) / stride.height + 1};
  }
};

// The tensors of one call. Meaning by operation:
//   output, inference:  input, kernel, bias (may be NULL) -> output
//   input_gradient:     input = grad_output, kernel       -> output = grad_input
//   kernel_gradient:    input, kernel = grad_output       -> output = grad_kernel
// With the reuse strategy, `kernel` holds what transform_kernel wrote.
struct ConvolutionTensors {
  const float* input;
  const float* kernel;
  const float* bias;
  float* output;
};

// Where a kernel set runs: scratch memory (64-byte aligned, at least the bytes it
// asked for), the pool, the hardware, and the per-stage times it adds to.
struct ExecutionContext {
  void* workspace;
  size_t workspace_bytes;
  pthreadpool_t threadpool;
  const Hardware* hardware;
  nnp_profile* profile;  // never NULL; stage fields are added to, `total` is the runtime's
};

struct ConvolutionKernelSet {
  const char* name;
  // Whether this set serves the problem; NULL means always. For the precompute and
  // reuse strategies the answer must not depend on the input size or padding,
  // because the transformed kernel must be usable for any input.
  bool (*applies)(const ConvolutionProblem&, const Hardware&);
  // Scratch bytes `run` needs (0: none) when it runs on `threads` threads.
  size_t (*workspace_bytes)(const ConvolutionProblem&, const Hardware&, size_t threads);
  // Bytes of a transformed kernel (precompute/reuse); independent of the input size.
  size_t (*transformed_kernel_bytes)(const ConvolutionProblem&, const Hardware&);
  // Writes the transformed kernel for the precompute strategy.
  void (*transform_kernel)(const ConvolutionProblem&, const float* kernel, void* transformed,
                           const ExecutionContext&);
  // Computes the call.
  nnp_status (*run)(const ConvolutionProblem&, const ConvolutionTensors&, const ExecutionContext&);
};

struct FullyConnectedKernelSet {
  const char* name;
  // output[b][o] = sum_i input[b][i] * kernel[o][i]; batch_size 1 is the inference call.
  void (*output)(size_t batch_size, size_t input_channels, size_t output_channels,
                 const float* input, const float* kernel, float* output, const ExecutionContext&);
  // The same with IEEE binary16 weights, batch 1.
  void (*inference_f16)(size_t input_channels, size_t output_channels, const float* input,
                        const uint16_t* kernel, float* output, const ExecutionContext&);
};

struct PoolingShape {
  size_t batch_size;
  size_t channels;
  nnp_size input_size;
  nnp_padding padding;
  nnp_size pooling_size;
  nnp_size pooling_stride;
};

struct MaxPoolingKernelSet {
  const char* name;
  bool (*applies)(const PoolingShape&, const Hardware&);  // NULL: always
  void (*run)(const PoolingShape&, const float* input, float* output, const ExecutionContext&);
};

struct ActivationKernelSet {
  const char* name;
  void (*relu)(size_t count, const float* input, float* output, float negative_slope,
               const ExecutionContext&);
  void (*relu_gradient)(size_t count, const float* grad_output, const float* input,
                        float* grad_input, float negative_slope, const ExecutionContext&);
  void (*softmax)(size_t batch_size, size_t channels, const float* input, float* output,
                  const ExecutionContext&);
};

}  // namespace nnjit
