// bench_probe: one convolution layer of bench/layers.tsv through the public API, timed call
// by call, with the library's own profile split (input / kernel / output transform, block
// multiplication). It prints one line, so that bench/ab.sh can alternate two builds of
// libnnpack (LD_LIBRARY_PATH) on a noisy machine and compare them pair by pair.
//
//   bench_probe [--algorithm auto|wt8x8|ft8x8|ft16x16|implicit_gemm|direct]
//               [--strategy compute|reuse|output|input_gradient|kernel_gradient] [--threads N]
//               [--batch N] [--calls N] LAYER
//
// compute / reuse: nnp_convolution_inference at batch 1 (reuse: the kernel transformed once,
// before the timed calls); output, input_gradient, kernel_gradient: those functions at --batch
// (default 16).
// Output: "<layer> <strategy> b<batch> t<threads> min <GFLOPS> median <GFLOPS> | in <%> ker <%>
// out <%> mul <%>", GFLOPS = direct-convolution flops / wall time of one call.
#include <nnpack.h>
#include <pthreadpool.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common.h"

namespace {

using nnjit_bench::ConvLayer;

struct Options {
  std::string layer;
  std::string algorithm = "auto";
  std::string strategy = "compute";
  size_t threads = 1;
  size_t batch = 16;
  size_t calls = 15;
};

[[noreturn]] void usage(const char* problem) {
  std::fprintf(stderr,
               "bench_probe: %s\nusage: bench_probe [--algorithm A] "
               "[--strategy compute|reuse|output|input_gradient|kernel_gradient] "
               "[--threads N] [--batch N] [--calls N] LAYER\n",
               problem);
  std::exit(2);
}

size_t positive(const char* text) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || v == 0) usage("expected a positive number");
  return static_cast<size_t>(v);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--algorithm" && has_value) o.algorithm = argv[++i];
    else if (arg == "--strategy" && has_value) o.strategy = argv[++i];
    else if (arg == "--threads" && has_value) o.threads = positive(argv[++i]);
    else if (arg == "--batch" && has_value) o.batch = positive(argv[++i]);
    else if (arg == "--calls" && has_value) o.calls = positive(argv[++i]);
    else if (!arg.empty() && arg[0] != '-' && o.layer.empty()) o.layer = arg;
    else usage(("unexpected argument " + arg).c_str());
  }
  if (o.layer.empty()) usage("no layer named");
  const bool batched = o.strategy == "output" || o.strategy == "input_gradient" || o.strategy == "kernel_gradient";
  if (!batched && o.strategy != "compute" && o.strategy != "reuse") usage("unknown strategy");
  if (!batched) o.batch = 1;
  return o;
}

nnp_convolution_algorithm algorithm_named(const std::string& name) {
  if (name == "auto") return nnp_convolution_algorithm_auto;
  if (name == "wt8x8") return nnp_convolution_algorithm_wt8x8;
  if (name == "ft8x8") return nnp_convolution_algorithm_ft8x8;
  if (name == "ft16x16") return nnp_convolution_algorithm_ft16x16;
  if (name == "implicit_gemm") return nnp_convolution_algorithm_implicit_gemm;
  if (name == "direct") return nnp_convolution_algorithm_direct;
  usage("unknown algorithm");
}

struct Run {
  std::vector<double> seconds;
  nnp_profile profile{};  // summed over the timed calls
};

int run(const Options& o, const ConvLayer& l) {
  if (nnp_initialize() != nnp_status_success) usage("nnp_initialize failed");
  pthreadpool_t pool = o.threads > 1 ? pthreadpool_create(o.threads) : nullptr;
  const nnp_convolution_algorithm algorithm = algorithm_named(o.algorithm);
  const nnp_size input{l.width, l.height}, kernel_size{l.kernel_width, l.kernel_height}, stride{l.stride, l.stride};
  const nnp_padding padding{l.padding, l.padding, l.padding, l.padding};
  auto input_data = nnjit_bench::random_buffer(o.batch * l.input_floats(), 1);
  auto kernel = nnjit_bench::random_buffer(l.kernel_floats(), 2);
  auto bias = nnjit_bench::random_buffer(l.output_channels, 3);
  auto output = nnjit_bench::filled_buffer(o.batch * l.output_floats(), 0.0f);

  // Reuse: the transformed kernel, precomputed once.
  nnjit_bench::Buffer<char> transformed = nnjit_bench::allocate<char>(1);
  const void* reused_kernel = kernel.get();
  nnp_convolution_transform_strategy strategy = nnp_convolution_transform_strategy_compute;
  if (o.strategy == "reuse") {
    size_t bytes = 0;
    nnp_status s = nnp_convolution_inference(algorithm, nnp_convolution_transform_strategy_precompute,
                                             l.input_channels, l.output_channels, input, padding, kernel_size,
                                             stride, nullptr, kernel.get(), nullptr, nullptr, nullptr, &bytes,
                                             nnp_activation_identity, nullptr, pool, nullptr);
    if (s != nnp_status_success) usage("this algorithm cannot precompute the kernel of this layer");
    transformed = nnjit_bench::allocate<char>(bytes);
    s = nnp_convolution_inference(algorithm, nnp_convolution_transform_strategy_precompute, l.input_channels,
                                  l.output_channels, input, padding, kernel_size, stride, nullptr, kernel.get(),
                                  nullptr, nullptr, transformed.get(), &bytes, nnp_activation_identity, nullptr, pool,
                                  nullptr);
    if (s != nnp_status_success) usage("precomputing the kernel failed");
    reused_kernel = transformed.get();
    strategy = nnp_convolution_transform_strategy_reuse;
  }

  Run r;
  for (size_t call = 0; call < o.calls + 2; ++call) {  // two warm-up calls
    nnp_profile profile{};
    const auto start = std::chrono::steady_clock::now();
    nnp_status s;
    if (o.strategy == "output")
      s = nnp_convolution_output(algorithm, o.batch, l.input_channels, l.output_channels, input, padding,
                                 kernel_size, input_data.get(), kernel.get(), bias.get(), output.get(), nullptr,
                                 nullptr, nnp_activation_identity, nullptr, pool, &profile);
    else if (o.strategy == "input_gradient")  // grad_output in `output`, grad_input in `input_data`
      s = nnp_convolution_input_gradient(algorithm, o.batch, l.input_channels, l.output_channels, input, padding,
                                         kernel_size, output.get(), kernel.get(), input_data.get(), nullptr, nullptr,
                                         nnp_activation_identity, nullptr, pool, &profile);
    else if (o.strategy == "kernel_gradient")  // grad_output in `output`, grad_kernel in `kernel`
      s = nnp_convolution_kernel_gradient(algorithm, o.batch, l.input_channels, l.output_channels, input, padding,
                                          kernel_size, input_data.get(), output.get(), kernel.get(), nullptr, nullptr,
                                          nnp_activation_identity, nullptr, pool, &profile);
    else
      s = nnp_convolution_inference(algorithm, strategy, l.input_channels, l.output_channels, input, padding,
                                    kernel_size, stride, input_data.get(), static_cast<const float*>(reused_kernel),
                                    bias.get(), output.get(), nullptr, nullptr, nnp_activation_identity, nullptr,
                                    pool, &profile);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (s != nnp_status_success) {
      std::fprintf(stderr, "bench_probe: the call returned status %d\n", int(s));
      return 1;
    }
    if (call < 2) continue;
    r.seconds.push_back(seconds);
    r.profile.input_transform += profile.input_transform;
    r.profile.kernel_transform += profile.kernel_transform;
    r.profile.output_transform += profile.output_transform;
    r.profile.block_multiplication += profile.block_multiplication;
    r.profile.total += profile.total;
  }
  if (pool != nullptr) pthreadpool_destroy(pool);

  std::sort(r.seconds.begin(), r.seconds.end());
  const double flops = double(o.batch) * l.flops_per_image();
  const double total = r.profile.total > 0.0 ? r.profile.total : 1.0;
  auto share = [&](double part) { return 100.0 * part / total; };
  std::printf("%s %s b%zu t%zu min %.1f median %.1f | in %.0f%% ker %.0f%% out %.0f%% mul %.0f%%\n", l.name.c_str(),
              o.strategy.c_str(), o.batch, o.threads, flops / r.seconds.front() * 1e-9,
              flops / r.seconds[r.seconds.size() / 2] * 1e-9, share(r.profile.input_transform),
              share(r.profile.kernel_transform), share(r.profile.output_transform),
              share(r.profile.block_multiplication));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  nnjit_bench::LayerSet layers;
  std::string error;
  if (!nnjit_bench::load_layers(NNJIT_BENCH_LAYERS, layers, error)) usage(error.c_str());
  for (const ConvLayer& l : layers.conv)
    if (l.name == o.layer) return run(o, l);
  usage(("no convolution layer " + o.layer + " in " NNJIT_BENCH_LAYERS).c_str());
}
