// The layer-set mode of nnjit-bench (see layer_set.h). Batch 1 (or any stride) goes through
// nnp_convolution_inference per image, as PyTorch does; larger stride-1 batches through
// nnp_convolution_output. Pooling reports giga window-elements per second in the GFLOPS column.
#include "layer_set.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>

#include <nnjit.h>
#include <pthreadpool.h>

#include "default_layers.inc"

namespace nnjit_tools {
namespace {

struct Layer {
  std::string name;
  std::string kind;  // conv, fc, pool
  size_t in = 0, out = 0, height = 0, width = 0, kernel_h = 0, kernel_w = 0, pad = 0, stride = 1;
};

bool parse_layers(const std::string& text, std::vector<Layer>* layers, std::string* error) {
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
    if (!fields) {
      *error = "malformed layer line: " + line;
      return false;
    }
    layers->push_back(l);
  }
  return true;
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

Result run_conv(const Layer& l, size_t batch, nnp_convolution_algorithm algorithm, pthreadpool_t pool,
                std::mt19937& rng) {
  const nnp_size input_size{l.width, l.height};
  const nnp_padding padding{l.pad, l.pad, l.pad, l.pad};
  const nnp_size kernel_size{l.kernel_w, l.kernel_h};
  const nnp_size stride{l.stride, l.stride};
  const size_t out_h = (l.height + 2 * l.pad - l.kernel_h) / l.stride + 1;
  const size_t out_w = (l.width + 2 * l.pad - l.kernel_w) / l.stride + 1;
  const bool per_image = batch == 1 || l.stride != 1;
  const auto operation = per_image ? nnp_ext_convolution_inference : nnp_ext_convolution_output;

  nnp_convolution_algorithm chosen = algorithm;
  Result r{nullptr, 0.0, 2.0 * batch * l.in * l.out * out_h * out_w * l.kernel_h * l.kernel_w, nnp_status_success};
  r.status = nnp_ext_convolution_algorithm(operation, algorithm, nnp_convolution_transform_strategy_compute, batch,
                                           l.in, l.out, input_size, padding, kernel_size, stride, &chosen);
  r.algorithm = nnp_ext_algorithm_name(chosen);
  if (r.status != nnp_status_success) return r;

  const std::vector<float> input = random_floats(batch * l.in * l.height * l.width, rng);
  const std::vector<float> kernel = random_floats(l.out * l.in * l.kernel_h * l.kernel_w, rng);
  const std::vector<float> bias = random_floats(l.out, rng);
  std::vector<float> output(batch * l.out * out_h * out_w);

  auto call = [&](void* workspace, size_t* size, size_t image) {
    if (per_image) {
      return nnp_convolution_inference(algorithm, nnp_convolution_transform_strategy_compute, l.in, l.out, input_size,
                                       padding, kernel_size, stride, input.data() + image * l.in * l.height * l.width,
                                       kernel.data(), bias.data(), output.data() + image * l.out * out_h * out_w,
                                       workspace, size, nnp_activation_identity, nullptr, pool, nullptr);
    }
    return nnp_convolution_output(algorithm, batch, l.in, l.out, input_size, padding, kernel_size, input.data(),
                                  kernel.data(), bias.data(), output.data(), workspace, size, nnp_activation_identity,
                                  nullptr, pool, nullptr);
  };
  // Query the workspace once and keep it, as framework integrations do.
  size_t workspace_size = 0;
  r.status = call(nullptr, &workspace_size, 0);
  if (r.status != nnp_status_success) return r;
  std::unique_ptr<void, AlignedFree> workspace(std::aligned_alloc(64, (workspace_size + 63) / 64 * 64));
  const auto start = std::chrono::steady_clock::now();
  for (size_t image = 0; image < (per_image ? batch : 1); ++image) {
    r.status = call(workspace.get(), &workspace_size, image);
    if (r.status != nnp_status_success) return r;
  }
  r.seconds = seconds_since(start);
  return r;
}

Result run_fc(const Layer& l, size_t batch, pthreadpool_t pool, std::mt19937& rng) {
  const std::vector<float> input = random_floats(batch * l.in, rng);
  const std::vector<float> kernel = random_floats(l.out * l.in, rng);
  std::vector<float> output(batch * l.out);
  Result r{"gemm", 0.0, 2.0 * batch * l.in * l.out, nnp_status_success};
  const auto start = std::chrono::steady_clock::now();
  r.status = batch == 1 ? nnp_fully_connected_inference(l.in, l.out, input.data(), kernel.data(), output.data(), pool)
                        : nnp_fully_connected_output(batch, l.in, l.out, input.data(), kernel.data(), output.data(),
                                                     pool, nullptr);
  r.seconds = seconds_since(start);
  return r;
}

Result run_pool(const Layer& l, size_t batch, pthreadpool_t pool, std::mt19937& rng) {
  const size_t out_h = (l.height - l.kernel_h + l.stride - 1) / l.stride + 1;
  const size_t out_w = (l.width - l.kernel_w + l.stride - 1) / l.stride + 1;
  const std::vector<float> input = random_floats(batch * l.in * l.height * l.width, rng);
  std::vector<float> output(batch * l.in * out_h * out_w);
  Result r{"max_pooling", 0.0, 1.0 * batch * l.in * out_h * out_w * l.kernel_h * l.kernel_w, nnp_status_success};
  const auto start = std::chrono::steady_clock::now();
  r.status = nnp_max_pooling_output(batch, l.in, {l.width, l.height}, {0, 0, 0, 0}, {l.kernel_w, l.kernel_h},
                                    {l.stride, l.stride}, input.data(), output.data(), pool);
  r.seconds = seconds_since(start);
  return r;
}

bool read_file(const std::string& path, std::string* text) {
  std::ifstream file(path);
  if (!file) return false;
  std::stringstream content;
  content << file.rdbuf();
  *text = content.str();
  return true;
}

}  // namespace

int run_layer_set(const LayerSetOptions& options, std::string* error) {
  std::string text = kDefaultLayers;
  if (!options.layers_file.empty() && !read_file(options.layers_file, &text)) {
    *error = "cannot read " + options.layers_file;
    return 2;
  }
  std::vector<Layer> layers;
  if (!parse_layers(text, &layers, error)) return 2;
  if (nnp_initialize() != nnp_status_success) {
    std::fprintf(stderr, "nnjit-bench: nnp_initialize failed\n");
    return 1;
  }
  pthreadpool_t pool = pthreadpool_create(options.threads);
  int failures = 0;
  for (size_t batch : options.batches) {
    std::printf("nnjit-bench: layer set, isa %s, %zu threads, batch %zu, algorithm %s\n", nnp_ext_isa_name(),
                pthreadpool_get_threads_count(pool), batch, nnp_ext_algorithm_name(options.algorithm));
    std::printf("%-16s %-5s %-14s %12s %10s\n", "layer", "kind", "algorithm", "time_ms", "GFLOPS");
    std::mt19937 rng(20261125);
    for (const Layer& layer : layers) {
      if (!options.only.empty() && layer.name.find(options.only) == std::string::npos) continue;
      const Result r = layer.kind == "conv" ? run_conv(layer, batch, options.algorithm, pool, rng)
                       : layer.kind == "fc" ? run_fc(layer, batch, pool, rng)
                                            : run_pool(layer, batch, pool, rng);
      if (r.status != nnp_status_success) {
        std::printf("%-16s %-5s %-14s   status %d\n", layer.name.c_str(), layer.kind.c_str(),
                    r.algorithm ? r.algorithm : "-", static_cast<int>(r.status));
        ++failures;
        continue;
      }
      std::printf("%-16s %-5s %-14s %12.3f %10.2f\n", layer.name.c_str(), layer.kind.c_str(), r.algorithm,
                  r.seconds * 1e3, r.work / r.seconds * 1e-9);
    }
  }
  pthreadpool_destroy(pool);
  nnp_deinitialize();
  return failures == 0 ? 0 : 1;
}

}  // namespace nnjit_tools
