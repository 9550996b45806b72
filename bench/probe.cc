// bench_probe: one convolution layer of bench/layers.tsv through the public API, timed call
// by call with bench_layers' own nnjit runner (runners.h), and the library's profile split
// (input / kernel / output transform, block multiplication). It prints one line, so that
// bench/ab.sh can alternate two builds of libnnpack (LD_LIBRARY_PATH) on a noisy machine and
// compare them pair by pair.
//
//   bench_probe [--algorithm auto|wt8x8|ft8x8|ft16x16|implicit_gemm]
//               [--strategy compute|reuse|output|input_gradient|kernel_gradient] [--threads N]
//               [--batch N] [--calls N] LAYER
//
// compute / reuse: nnp_convolution_inference at batch 1 (reuse: the kernel transformed once,
// before the timed calls); output, input_gradient, kernel_gradient: those functions at --batch
// (default 16).
// Output: "<layer> <strategy> b<batch> t<threads> min <GFLOPS> median <GFLOPS> | in <%> ker <%>
// out <%> mul <%>", GFLOPS = direct-convolution flops / wall time of one call.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common.h"
#include "runners.h"

namespace {

using namespace nnjit_bench;

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
               "bench_probe: %s\nusage: bench_probe [--algorithm auto|wt8x8|ft8x8|ft16x16|implicit_gemm] "
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
  if (o.strategy == "compute" || o.strategy == "reuse") o.batch = 1;
  return o;
}

NnjitConvMode mode_of(const Options& o) {
  NnjitConvMode mode;
  if (o.algorithm == "auto") mode.algorithm = NnjitAlgorithm::automatic;
  else if (o.algorithm == "wt8x8") mode.algorithm = NnjitAlgorithm::wt8x8;
  else if (o.algorithm == "ft8x8") mode.algorithm = NnjitAlgorithm::ft8x8;
  else if (o.algorithm == "ft16x16") mode.algorithm = NnjitAlgorithm::ft16x16;
  else if (o.algorithm == "implicit_gemm") mode.algorithm = NnjitAlgorithm::implicit_gemm;
  else usage("unknown algorithm");
  if (o.strategy == "reuse") mode.reuse = true;
  else if (o.strategy == "input_gradient") mode.operation = NnjitOperation::input_gradient;
  else if (o.strategy == "kernel_gradient") mode.operation = NnjitOperation::kernel_gradient;
  else if (o.strategy != "compute" && o.strategy != "output") usage("unknown strategy");
  return mode;
}

int run(const Options& o, const ConvLayer& l) {
  ConvTensors tensors(l, o.batch, 0.0f);
  nnp_profile profile{}, sum{};
  NnjitConvMode mode = mode_of(o);
  mode.profile = &profile;
  std::string error;
  const std::unique_ptr<Runner> runner = make_nnjit_conv(tensors, mode, o.threads, error);
  if (!runner) usage(error.c_str());

  wait_for_idle_comparison_threads();
  std::vector<double> seconds;
  for (size_t call = 0; call < o.calls + 2; ++call) {  // two warm-up calls
    const auto start = std::chrono::steady_clock::now();
    if (!runner->run()) usage(runner->error().c_str());
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (call < 2) continue;
    seconds.push_back(elapsed);
    sum.input_transform += profile.input_transform;
    sum.kernel_transform += profile.kernel_transform;
    sum.output_transform += profile.output_transform;
    sum.block_multiplication += profile.block_multiplication;
    sum.total += profile.total;
  }

  std::sort(seconds.begin(), seconds.end());
  const double flops = tensors.flops();
  const double total = sum.total > 0.0 ? sum.total : 1.0;
  auto share = [&](double part) { return 100.0 * part / total; };
  std::printf("%s %s b%zu t%zu min %.1f median %.1f | in %.0f%% ker %.0f%% out %.0f%% mul %.0f%%\n", l.name.c_str(),
              o.strategy.c_str(), o.batch, o.threads, flops / seconds.front() * 1e-9,
              flops / seconds[seconds.size() / 2] * 1e-9, share(sum.input_transform), share(sum.kernel_transform),
              share(sum.output_transform), share(sum.block_multiplication));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (nnp_initialize() != nnp_status_success) usage("nnp_initialize failed");
  LayerSet layers;
  std::string error;
  if (!load_layers(NNJIT_BENCH_LAYERS, layers, error)) usage(error.c_str());
  for (const ConvLayer& l : layers.conv)
    if (l.name == o.layer) return run(o, l);
  usage(("no convolution layer " + o.layer + " in " NNJIT_BENCH_LAYERS).c_str());
}
