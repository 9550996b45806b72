// One prepared call per library under comparison, shared by the benchmarks and by
// the --check mode so that both run exactly the same code.
//
// A factory does what a framework does once per layer: it creates primitives,
// reorders or transforms the weights, queries the workspace size and allocates it
// (64-byte aligned). Runner::run() is what a framework pays per inference.
#pragma once

#include <nnpack.h>

#include <memory>
#include <string>

#include "common.h"

namespace nnjit_bench {

// NCHW tensors of one convolution over a batch. The same layer and seed give the
// same input, kernel and bias in every instance, whoever computes with them.
struct ConvTensors {
  ConvTensors(const ConvLayer& layer, size_t batch, float output_fill);
  ConvLayer layer;
  size_t batch;
  Buffer<float> input, kernel, bias, output;
  size_t output_count() const { return batch * layer.output_floats(); }
  double flops() const { return double(batch) * layer.flops_per_image(); }
};

// input[batch][in], kernel[out][in], output[batch][out].
struct FcTensors {
  FcTensors(const FcLayer& layer, size_t batch, float output_fill);
  FcLayer layer;
  size_t batch;
  Buffer<float> input, kernel, output;
  size_t output_count() const { return batch * layer.output_channels; }
  double flops() const { return 2.0 * double(batch) * double(layer.input_channels) * double(layer.output_channels); }
};

// Max pooling without padding; output extent ceil((H - pool) / stride) + 1 per axis.
struct PoolTensors {
  PoolTensors(const PoolLayer& layer, size_t batch);
  PoolLayer layer;
  size_t batch;
  size_t output_height, output_width;
  Buffer<float> input, output;
  // Elements read by all pooling windows (pool * pool per output, overhang included).
  double window_elements() const {
    return double(batch) * double(layer.channels) * double(output_height) * double(output_width) *
           double(layer.pool) * double(layer.pool);
  }
};

class Runner {
 public:
  virtual ~Runner() = default;
  // One inference. False, with error() set, if the library refused or failed.
  virtual bool run() = 0;
  const std::string& label() const { return label_; }
  const std::string& error() const { return error_; }

 protected:
  std::string label_;
  std::string error_;
};

// How nnjit is called. Forward: nnp_convolution_inference at batch 1 (strategy compute, or
// with `reuse` one precompute outside the timed loop, then reuse), nnp_convolution_output
// at batch > 1. The gradients: nnp_convolution_input_gradient / _kernel_gradient from a
// random output gradient into buffers of the runner's own (the layer's forward flops count
// for them too).
enum class NnjitAlgorithm { automatic, implicit_gemm, wt8x8, ft8x8, ft16x16 };
enum class NnjitOperation { forward, input_gradient, kernel_gradient };
struct NnjitConvMode {
  NnjitAlgorithm algorithm = NnjitAlgorithm::automatic;
  bool reuse = false;
  NnjitOperation operation = NnjitOperation::forward;
  nnp_profile* profile = nullptr;  // where set, each run() writes the library's profile of its call here
};

enum class OneDnnConvMode {
  direct,          // convolution_direct, NCHW src/dst reordered to and from oneDNN's layout in each call
  direct_blocked,  // convolution_direct, src/dst stay in oneDNN's layout (no reorders timed)
  winograd,        // convolution_winograd, NCHW reorders in each call, like `direct`
};

// Factories: nullptr, with `error` set, when the case cannot run (library refuses
// the shape, comparison library not built in, ...). The tensors must outlive the runner.
std::unique_ptr<Runner> make_nnjit_conv(ConvTensors& t, NnjitConvMode mode, size_t threads, std::string& error);
std::unique_ptr<Runner> make_im2col_openblas_conv(ConvTensors& t, size_t threads, std::string& error);
std::unique_ptr<Runner> make_onednn_conv(ConvTensors& t, OneDnnConvMode mode, size_t threads, std::string& error);

std::unique_ptr<Runner> make_nnjit_fc(FcTensors& t, size_t threads, std::string& error);
std::unique_ptr<Runner> make_openblas_fc(FcTensors& t, size_t threads, std::string& error);
std::unique_ptr<Runner> make_onednn_fc(FcTensors& t, size_t threads, std::string& error);

std::unique_ptr<Runner> make_nnjit_pool(PoolTensors& t, size_t threads, std::string& error);

// OpenBLAS's workers spin (sched_yield) for about 2^28 cycles after it loads and after
// each multi-threaded call before they sleep, taking a core from whatever is measured
// then (seen on Zen 5: the first ~0.13 s of a two-thread run at half speed). This waits
// them out; a no-op without OpenBLAS.
void wait_for_idle_comparison_threads();

bool have_openblas();
bool have_onednn();

// "key=value" lines describing the comparison libraries (OpenBLAS core, oneDNN ISA, ...).
std::vector<std::pair<std::string, std::string>> library_context();

}  // namespace nnjit_bench
