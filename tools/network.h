// Whole-network forward passes on the public NNPACK API (nnpack.h, nnjit.h, pthreadpool.h only).
//
// AlexNet, VGG-16 and VGG-A, NCHW fp32, with random weights from a fixed seed. Each layer
// decides, as a framework integration does (MXNet's rule, API.md), whether it takes the
// library's fast path or the framework's own default implementation:
//   convolution     fast when it is 2-D with a bias, dilation 1, one group (always so here)
//                   and the batch is 1 or the stride is 1;
//   max pooling     fast for a 2x2 window, stride 2 and the "full" (ceil) convention;
//   fully connected always fast;
//   ReLU, softmax   fast (nnp_relu_output in place, nnp_softmax_output).
// Path::fallback runs every layer on the framework implementation: im2col + GEMM for
// convolutions, plain loops for pooling, ReLU, bias and softmax. The GEMM is our library's
// nnp_fully_connected_output on the patch matrix (the role BLAS sgemm plays in a framework),
// so the fallback's GEMM runs at library speed and a speedup measures the algorithms
// (Winograd, FFT, implicit GEMM without the patch matrix), not the GEMM.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nnpack.h>

namespace nnjit_tools {

enum class Path { fast, fallback };
const char* path_name(Path path);  // "fast", "fallback"

enum class LayerKind { convolution, relu, max_pooling, fully_connected, softmax };
const char* layer_kind_name(LayerKind kind);  // "conv", "relu", "pool", "fc", "softmax"

// One layer of a network definition. Pooling always uses the full (ceil) output rule.
struct LayerSpec {
  std::string name;
  LayerKind kind;
  size_t output_channels = 0;  // convolution and fully connected
  size_t kernel = 0;           // convolution kernel or pooling window (square)
  size_t stride = 1;
  size_t padding = 0;          // on every side
};

// The network names nnjit-bench accepts: "alexnet", "vgg16", "vgga".
const std::vector<std::string>& network_names();

struct NetworkOptions {
  size_t image_size = 224;     // input is batch x 3 x image_size x image_size
  size_t channel_divisor = 1;  // divides every channel count and fc width (reduced networks for tests)
  uint64_t seed = 20261125;    // weights, biases and inputs
};

// Whether the framework rule sends this layer to the library at this batch size.
bool takes_fast_path(const LayerSpec& layer, size_t batch_size);

// What one layer did in one forward pass.
struct LayerRecord {
  std::string name;
  LayerKind kind;
  bool fast = false;           // ran on the library's fast path
  std::string implementation;  // algorithm (e.g. "wt8x8"), "im2col+gemm", "nnp_max_pooling", "loop", ...
  double seconds = 0.0;
  double flops = 0.0;          // multiply-adds x 2 (convolution, fully connected); 0 otherwise
};

struct RunOptions {
  pthreadpool_t threadpool = nullptr;
  // Algorithm for fast-path convolutions. A named algorithm that cannot serve a layer (e.g.
  // wt8x8 on a 5x5 kernel) runs that layer with auto instead; the record says so.
  nnp_convolution_algorithm algorithm = nnp_convolution_algorithm_auto;
};

class Network {
 public:
  // nullptr and a message in *error for an unknown name or sizes too small for the network.
  static std::unique_ptr<Network> create(const std::string& name, const NetworkOptions& options,
                                         std::string* error);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  const std::string& name() const { return name_; }
  size_t input_size() const;  // floats per image
  size_t classes() const;     // floats per image of the output
  const std::vector<LayerSpec>& layers() const;

  // A reproducible input for `batch_size` images (uniform in [-1, 1), from the seed).
  std::vector<float> random_input(size_t batch_size) const;

  // One forward pass on `batch_size` images; `records` (may be NULL) receives one entry per
  // layer. Throws std::runtime_error when a library call fails.
  void forward(const float* input, size_t batch_size, Path path, const RunOptions& options,
               std::vector<LayerRecord>* records);

  // Results of the last forward pass: fc8's output and the softmax of it, batch x classes.
  const float* logits() const;
  const float* probabilities() const;

 private:
  struct Impl;
  explicit Network(std::unique_ptr<Impl> impl);
  std::string name_;
  std::unique_ptr<Impl> impl_;
};

// The thread count the environment asks for: NNJIT_NUM_THREADS, else the seed's
// MXNET_CPU_NNPACK_NTHREADS, else 0 (one thread per logical processor). A value that is
// not a positive integer sets *error (and returns 0).
size_t threads_from_environment(std::string* error);

}  // namespace nnjit_tools
