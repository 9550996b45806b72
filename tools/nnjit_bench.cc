// nnjit-bench: times the layers of a layer set through the public NNPACK API.
//
// With no arguments it runs every layer of the built-in set (bench/layers.tsv) once
// at batch 1 on all cores and prints, per layer, the algorithm chosen, the time and
// the effective GFLOPS (direct-convolution flops, whatever the algorithm).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nnjit.h>
#include <nnpack.h>

#include "default_layers.inc"

namespace {

struct Layer {
  std::string name;
  std::string kind;  // conv, fc, pool
  size_t in = 0, out = 0, height = 0, width = 0, kernel_h = 0, kernel_w = 0, pad = 0, stride = 1;
};

struct Options {
  size_t threads = 0;  // 0: one per logical processor
  size_t batch = 1;
  nnp_convolution_algorithm algorithm = nnp_convolution_algorithm_auto;
  std::string layers_file;  // empty: the built-in set
  std::string only;         // run only layers whose name contains this
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr,
               "nnjit-bench: %s\n"
               "usage: nnjit-bench [--threads N] [--batch N] [--algorithm NAME] [--file LAYERS.tsv]\n"
               "                   [--only SUBSTRING]\n"
               "  --algorithm: auto ft8x8 ft16x16 wt8x8 implicit_gemm direct wt8x8_fp16\n",
               message.c_str());
  std::exit(2);
}

size_t parse_count(const char* text, const char* option, size_t minimum) {
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || value < minimum)
    usage_error(std::string("bad value for ") + option + ": '" + text + "'");
  return static_cast<size_t>(value);
}

nnp_convolution_algorithm parse_algorithm(const char* text) {
  for (int a = nnp_convolution_algorithm_auto; a <= nnp_convolution_algorithm_wt8x8_fp16; ++a) {
    const auto algorithm = static_cast<nnp_convolution_algorithm>(a);
    if (std::strcmp(text, nnp_ext_algorithm_name(algorithm)) == 0) return algorithm;
  }
  usage_error(std::string("unknown algorithm '") + text + "'");
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage_error("missing value for " + arg);
      return argv[++i];
    };
    if (arg == "--threads") options.threads = parse_count(value(), "--threads", 1);
    else if (arg == "--batch") options.batch = parse_count(value(), "--batch", 1);
    else if (arg == "--algorithm") options.algorithm = parse_algorithm(value());
    else if (arg == "--file") options.layers_file = value();
    else if (arg == "--only") options.only = value();
    else if (arg == "--help" || arg == "-h") usage_error("help");
    else usage_error("unknown option '" + arg + "'");
  }
  return options;
}

std::vector<Layer> parse_layers(const std::string& text) {
  std::vector<Layer> layers;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Layer l;
    fields >> l.name >> l.kind;
    if (l.kind == "conv") {
      fields >> l.in >> l.out >> l.height >> l.width >> l.kernel_h >> l.kernel_w >> l.pad >> l.stride;
    } else if (l.kind == "fc") {
      fields >> l.in >> l.out;
    } else if (l.kind == "pool") {
      fields >> l.in >> l.height >> l.width >> l.kernel_h >> l.stride;
      l.kernel_w = l.kernel_h;
      l.out = l.in;
    } else {
      continue;
    }
    if (!fields) usage_error("malformed layer line: " + line);
    layers.push_back(l);
  }
  return layers;
}

std::vector<float> random_floats(size_t count, std::mt19937& rng) {
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> v(count);
  for (float& x : v) x = uniform(rng);
  return v;
}

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};

struct Result {
  const char* algorithm;
  double seconds;
  double work;  // flops, or window elements for pooling
  nnp_status status;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Result run_conv(const Layer& l, const Options& o, pthreadpool_t pool, std::mt19937& rng) {
  const nnp_size input_size{l.width, l.height};
  const nnp_padding padding{l.pad, l.pad, l.pad, l.pad};
  const nnp_size kernel_size{l.kernel_w, l.kernel_h};
  const nnp_size stride{l.stride, l.stride};
  const size_t out_h = (l.height + 2 * l.pad - l.kernel_h) / l.stride + 1;
  const size_t out_w = (l.width + 2 * l.pad - l.kernel_w) / l.stride + 1;
  // Batch 1 (or any stride) goes through inference per image, as PyTorch does; larger
  // stride-1 batches through convolution_output.
  const bool per_image = o.batch == 1 || l.stride != 1;
  const auto operation = per_image ? nnp_ext_convolution_inference : nnp_ext_convolution_output;

  nnp_convolution_algorithm chosen = o.algorithm;
  Result r{nullptr, 0.0, 2.0 * o.batch * l.in * l.out * out_h * out_w * l.kernel_h * l.kernel_w,
           nnp_status_success};
  r.status = nnp_ext_convolution_algorithm(operation, o.algorithm, nnp_convolution_transform_strategy_compute,
                                           o.batch, l.in, l.out, input_size, padding, kernel_size,
                                           stride, &chosen);
  r.algorithm = nnp_ext_algorithm_name(chosen);
  if (r.status != nnp_status_success) return r;

  const std::vector<float> input = random_floats(o.batch * l.in * l.height * l.width, rng);
  const std::vector<float> kernel = random_floats(l.out * l.in * l.kernel_h * l.kernel_w, rng);
  const std::vector<float> bias = random_floats(l.out, rng);
  std::vector<float> output(o.batch * l.out * out_h * out_w);

  auto call = [&](void* workspace, size_t* size, size_t image) {
    if (per_image) {
      return nnp_convolution_inference(o.algorithm, nnp_convolution_transform_strategy_compute, l.in,
                                       l.out, input_size, padding, kernel_size, stride,
                                       input.data() + image * l.in * l.height * l.width,
                                       kernel.data(), bias.data(),
                                       output.data() + image * l.out * out_h * out_w, workspace,
                                       size, nnp_activation_identity, nullptr, pool, nullptr);
    }
    return nnp_convolution_output(o.algorithm, o.batch, l.in, l.out, input_size, padding,
                                  kernel_size, input.data(), kernel.data(), bias.data(),
                                  output.data(), workspace, size, nnp_activation_identity, nullptr,
                                  pool, nullptr);
  };
  // Query the workspace once and keep it, as framework integrations do.
  size_t workspace_size = 0;
  r.status = call(nullptr, &workspace_size, 0);
  if (r.status != nnp_status_success) return r;
  std::unique_ptr<void, AlignedFree> workspace(std::aligned_alloc(64, workspace_size));
  const auto start = std::chrono::steady_clock::now();
  for (size_t image = 0; image < (per_image ? o.batch : 1); ++image) {
    r.status = call(workspace.get(), &workspace_size, image);
    if (r.status != nnp_status_success) return r;
  }
  r.seconds = seconds_since(start);
  return r;
}

Result run_fc(const Layer& l, const Options& o, pthreadpool_t pool, std::mt19937& rng) {
  const std::vector<float> input = random_floats(o.batch * l.in, rng);
  const std::vector<float> kernel = random_floats(l.out * l.in, rng);
  std::vector<float> output(o.batch * l.out);
  Result r{"gemm", 0.0, 2.0 * o.batch * l.in * l.out, nnp_status_success};
  const auto start = std::chrono::steady_clock::now();
  r.status = o.batch == 1
                 ? nnp_fully_connected_inference(l.in, l.out, input.data(), kernel.data(),
                                                 output.data(), pool)
                 : nnp_fully_connected_output(o.batch, l.in, l.out, input.data(), kernel.data(),
                                              output.data(), pool, nullptr);
  r.seconds = seconds_since(start);
  return r;
}

Result run_pool(const Layer& l, const Options& o, pthreadpool_t pool, std::mt19937& rng) {
  const size_t out_h = (l.height - l.kernel_h + l.stride - 1) / l.stride + 1;
  const size_t out_w = (l.width - l.kernel_w + l.stride - 1) / l.stride + 1;
  const std::vector<float> input = random_floats(o.batch * l.in * l.height * l.width, rng);
  std::vector<float> output(o.batch * l.in * out_h * out_w);
  Result r{"max_pooling", 0.0, 1.0 * o.batch * l.in * out_h * out_w * l.kernel_h * l.kernel_w,
           nnp_status_success};
  const auto start = std::chrono::steady_clock::now();
  r.status = nnp_max_pooling_output(o.batch, l.in, {l.width, l.height}, {0, 0, 0, 0},
                                    {l.kernel_w, l.kernel_h}, {l.stride, l.stride}, input.data(),
                                    output.data(), pool);
  r.seconds = seconds_since(start);
  return r;
}

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) usage_error("cannot read " + path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  const std::vector<Layer> layers =
      parse_layers(options.layers_file.empty() ? std::string(kDefaultLayers) : read_file(options.layers_file));
  if (nnp_initialize() != nnp_status_success) {
    std::fprintf(stderr, "nnjit-bench: nnp_initialize failed\n");
    return 1;
  }
  pthreadpool_t pool = pthreadpool_create(options.threads);
  std::printf("nnjit-bench: isa %s, %zu threads, batch %zu, algorithm %s\n", nnp_ext_isa_name(),
              pthreadpool_get_threads_count(pool), options.batch,
              nnp_ext_algorithm_name(options.algorithm));
  std::printf("%-16s %-5s %-14s %12s %10s\n", "layer", "kind", "algorithm", "time_ms", "GFLOPS");
  std::mt19937 rng(20261125);
  int failures = 0;
  for (const Layer& layer : layers) {
    if (!options.only.empty() && layer.name.find(options.only) == std::string::npos) continue;
    const Result r = layer.kind == "conv" ? run_conv(layer, options, pool, rng)
                     : layer.kind == "fc" ? run_fc(layer, options, pool, rng)
                                          : run_pool(layer, options, pool, rng);
    if (r.status != nnp_status_success) {
      std::printf("%-16s %-5s %-14s   status %d\n", layer.name.c_str(), layer.kind.c_str(),
                  r.algorithm ? r.algorithm : "-", static_cast<int>(r.status));
      ++failures;
      continue;
    }
    // Pooling reports giga window-elements per second in the GFLOPS column.
    std::printf("%-16s %-5s %-14s %12.3f %10.2f\n", layer.name.c_str(), layer.kind.c_str(),
                r.algorithm, r.seconds * 1e3, r.work / r.seconds * 1e-9);
  }
  pthreadpool_destroy(pool);
  nnp_deinitialize();
  return failures == 0 ? 0 : 1;
}
