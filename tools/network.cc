// Network definitions, weights, and the two ways of running each layer (see network.h).
#include "network.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <nnjit.h>
#include <pthreadpool.h>

namespace nnjit_tools {
namespace {

// ---- network definitions ---------------------------------------------------------

LayerSpec conv(const char* name, size_t channels, size_t kernel, size_t stride, size_t padding) {
  return {name, LayerKind::convolution, channels, kernel, stride, padding};
}
LayerSpec relu(const char* name) { return {name, LayerKind::relu}; }
LayerSpec pool(const char* name, size_t window, size_t stride) {
  return {name, LayerKind::max_pooling, 0, window, stride, 0};
}
LayerSpec fc(const char* name, size_t outputs) { return {name, LayerKind::fully_connected, outputs}; }
LayerSpec softmax() { return {"prob", LayerKind::softmax}; }

// AlexNet as in the seed's benchmarks (convnet-benchmarks / torchvision: 64-192-384-256-256
// channels, no LRN, dropout omitted at inference), overlapping 3x3/2 pooling.
std::vector<LayerSpec> alexnet() {
  return {conv("conv1", 64, 11, 4, 2), relu("relu1"), pool("pool1", 3, 2),
          conv("conv2", 192, 5, 1, 2), relu("relu2"), pool("pool2", 3, 2),
          conv("conv3", 384, 3, 1, 1), relu("relu3"),
          conv("conv4", 256, 3, 1, 1), relu("relu4"),
          conv("conv5", 256, 3, 1, 1), relu("relu5"), pool("pool5", 3, 2),
          fc("fc6", 4096),             relu("relu6"),
          fc("fc7", 4096),             relu("relu7"),
          fc("fc8", 1000),             softmax()};
}

// VGG (Simonyan & Zisserman): `blocks` lists the 3x3 convolutions per block of
// 64, 128, 256, 512, 512 channels; each block ends in 2x2/2 max pooling.
std::vector<LayerSpec> vgg(const std::vector<size_t>& blocks) {
  static const size_t kChannels[] = {64, 128, 256, 512, 512};
  std::vector<LayerSpec> layers;
  for (size_t b = 0; b < blocks.size(); ++b) {
    for (size_t c = 0; c < blocks[b]; ++c) {
      const std::string suffix = std::to_string(b + 1) + "_" + std::to_string(c + 1);
      layers.push_back({"conv" + suffix, LayerKind::convolution, kChannels[b], 3, 1, 1});
      layers.push_back({"relu" + suffix, LayerKind::relu});
    }
    layers.push_back({"pool" + std::to_string(b + 1), LayerKind::max_pooling, 0, 2, 2, 0});
  }
  layers.push_back(fc("fc6", 4096));
  layers.push_back(relu("relu6"));
  layers.push_back(fc("fc7", 4096));
  layers.push_back(relu("relu7"));
  layers.push_back(fc("fc8", 1000));
  layers.push_back(softmax());
  return layers;
}

bool definition(const std::string& name, std::vector<LayerSpec>* layers) {
  if (name == "alexnet") *layers = alexnet();
  else if (name == "vgg16") *layers = vgg({2, 2, 3, 3, 3});  // configuration D
  else if (name == "vgga") *layers = vgg({1, 1, 2, 2, 2});   // configuration A (VGG-11)
  else return false;
  return true;
}

// ---- helpers ------------------------------------------------------------------------

// SplitMix64: a small, fast, fixed-seed generator (values do not depend on the platform).
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform(float lo, float hi) {  // [lo, hi)
    return lo + (hi - lo) * static_cast<float>(next() >> 40) * 0x1.0p-24f;
  }

 private:
  uint64_t state_;
};

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};

// A 64-byte aligned float buffer that only grows.
class Buffer {
 public:
  float* get(size_t floats) {
    if (floats > capacity_) {
      const size_t bytes = (std::max<size_t>(floats, 16) * sizeof(float) + 63) / 64 * 64;
      data_.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
      if (!data_) throw std::runtime_error("out of memory");
      std::memset(data_.get(), 0, bytes);  // touch the pages now, not inside a timed layer
      capacity_ = bytes / sizeof(float);
    }
    return data_.get();
  }

 private:
  std::unique_ptr<float, FreeDeleter> data_;
  size_t capacity_ = 0;
};

// body(i) for i in [0, range) on the pool (the framework's own loops use the same threads).
template <class Body>
void parallel(pthreadpool_t pool, size_t range, const Body& body) {
  pthreadpool_parallelize_1d(
      pool, [](void* context, size_t i) { (*static_cast<const Body*>(context))(i); },
      const_cast<void*>(static_cast<const void*>(&body)), range, 0);
}

void check(nnp_status status, const std::string& layer, const char* call) {
  if (status != nnp_status_success)
    throw std::runtime_error(layer + ": " + call + " failed with status " + std::to_string(status));
}

size_t pooled_extent(size_t input, size_t padding, size_t window, size_t stride) {
  const size_t padded = input + 2 * padding;
  const size_t span = padded > window ? padded - window : 0;
  return (span + stride - 1) / stride + 1;  // the full (ceil) convention
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

// ---- names and rules ------------------------------------------------------------------

const char* path_name(Path path) { return path == Path::fast ? "fast" : "fallback"; }

const char* layer_kind_name(LayerKind kind) {
  switch (kind) {
    case LayerKind::convolution: return "conv";
    case LayerKind::relu: return "relu";
    case LayerKind::max_pooling: return "pool";
    case LayerKind::fully_connected: return "fc";
    case LayerKind::softmax: return "softmax";
  }
  return "?";
}

const std::vector<std::string>& network_names() {
  static const std::vector<std::string> names = {"alexnet", "vgg16", "vgga"};
  return names;
}

bool takes_fast_path(const LayerSpec& layer, size_t batch_size) {
  switch (layer.kind) {
    case LayerKind::convolution:
      // 2-D, bias, dilation 1 and one group hold for every layer defined here.
      return batch_size == 1 || layer.stride == 1;
    case LayerKind::max_pooling:
      return layer.kernel == 2 && layer.stride == 2;  // pooling here always uses the full convention
    case LayerKind::fully_connected:
    case LayerKind::relu:
    case LayerKind::softmax:
      return true;
  }
  return false;
}

size_t threads_from_environment(std::string* error) {
  for (const char* variable : {"NNJIT_NUM_THREADS", "MXNET_CPU_NNPACK_NTHREADS"}) {
    const char* text = std::getenv(variable);
    if (text == nullptr || *text == '\0') continue;
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text, &end, 10);
    if (*end != '\0' || value == 0 || value > 4096 || text[0] == '-') {
      *error = std::string(variable) + "='" + text + "' is not a positive thread count";
      return 0;
    }
    return static_cast<size_t>(value);
  }
  return 0;
}

// ---- the network ----------------------------------------------------------------------

struct Network::Impl {
  struct Layer {
    LayerSpec spec;
    size_t in_c, in_h, in_w;     // per image
    size_t out_c, out_h, out_w;  // per image
    std::vector<float> weights;  // conv [out][in][k][k]; fc [out][in]
    std::vector<float> bias;
    size_t in_size() const { return in_c * in_h * in_w; }
    size_t out_size() const { return out_c * out_h * out_w; }
  };

  std::vector<LayerSpec> specs;
  std::vector<Layer> layers;
  size_t image_size, input_floats, max_floats = 0;
  uint64_t seed;
  Buffer ping, pong, probabilities, patches, workspace;
  size_t workspace_bytes = 0;
  const float* logits = nullptr;
  size_t batch = 0;

  // ---- convolution ----

  void convolution_fast(const Layer& l, const float* in, float* out, size_t n, const RunOptions& o,
                        LayerRecord* r) {
    const nnp_size input_size{l.in_w, l.in_h};
    const nnp_padding padding{l.spec.padding, l.spec.padding, l.spec.padding, l.spec.padding};
    const nnp_size kernel_size{l.spec.kernel, l.spec.kernel};
    const nnp_size stride{l.spec.stride, l.spec.stride};
    // As PyTorch does: batch 1 (or any stride) through inference per image, else output.
    const bool per_image = n == 1 || l.spec.stride != 1;
    const auto operation = per_image ? nnp_ext_convolution_inference : nnp_ext_convolution_output;
    nnp_convolution_algorithm algorithm = o.algorithm;
    nnp_convolution_algorithm chosen = algorithm;
    nnp_status status = nnp_ext_convolution_algorithm(operation, algorithm, nnp_convolution_transform_strategy_compute,
                                                      n, l.in_c, l.out_c, input_size, padding, kernel_size, stride,
                                                      &chosen);
    std::string note;
    if (status == nnp_status_unsupported_algorithm && algorithm != nnp_convolution_algorithm_auto) {
      algorithm = nnp_convolution_algorithm_auto;  // the named algorithm cannot serve this layer
      status = nnp_ext_convolution_algorithm(operation, algorithm, nnp_convolution_transform_strategy_compute, n,
                                             l.in_c, l.out_c, input_size, padding, kernel_size, stride, &chosen);
      note = " (auto)";
    }
    check(status, l.spec.name, "nnp_ext_convolution_algorithm");
    if (r) r->implementation = std::string(nnp_ext_algorithm_name(chosen)) + note;

    auto call = [&](void* buffer, size_t* size, size_t image) {
      if (per_image) {
        return nnp_convolution_inference(algorithm, nnp_convolution_transform_strategy_compute, l.in_c, l.out_c,
                                         input_size, padding, kernel_size, stride, in + image * l.in_size(),
                                         l.weights.data(), l.bias.data(), out + image * l.out_size(), buffer, size,
                                         nnp_activation_identity, nullptr, o.threadpool, nullptr);
      }
      return nnp_convolution_output(algorithm, n, l.in_c, l.out_c, input_size, padding, kernel_size, in,
                                    l.weights.data(), l.bias.data(), out, buffer, size, nnp_activation_identity,
                                    nullptr, o.threadpool, nullptr);
    };
    // The workspace protocol as frameworks use it: query, grow a kept buffer, run.
    size_t bytes = 0;
    check(call(nullptr, &bytes, 0), l.spec.name, "workspace query");
    float* buffer = workspace.get((bytes + sizeof(float) - 1) / sizeof(float));
    for (size_t image = 0; image < (per_image ? n : 1); ++image) {
      size_t size = bytes;
      check(call(buffer, &size, image), l.spec.name, per_image ? "nnp_convolution_inference" : "nnp_convolution_output");
    }
  }

  // The framework default: per image, gather the patch matrix (one row of Cin*k*k values per
  // output pixel), multiply by the weights with our GEMM, then add the bias.
  void convolution_fallback(const Layer& l, const float* in, float* out, size_t n, const RunOptions& o,
                            LayerRecord* r) {
    if (r) r->implementation = "im2col+gemm";
    const size_t k = l.spec.kernel, s = l.spec.stride, pad = l.spec.padding;
    const size_t pixels = l.out_h * l.out_w, depth = l.in_c * k * k;
    float* columns = patches.get(pixels * depth);
    for (size_t image = 0; image < n; ++image) {
      const float* x = in + image * l.in_size();
      float* y = out + image * l.out_size();
      // im2col: columns[oy*OW + ox][(ci*k + ky)*k + kx] = x[ci][oy*s + ky - pad][ox*s + kx - pad], 0 outside.
      parallel(o.threadpool, l.out_h, [&](size_t oy) {
        for (size_t ox = 0; ox < l.out_w; ++ox) {
          float* row = columns + (oy * l.out_w + ox) * depth;
          for (size_t ci = 0; ci < l.in_c; ++ci) {
            for (size_t ky = 0; ky < k; ++ky) {
              const ptrdiff_t iy = static_cast<ptrdiff_t>(oy * s + ky) - static_cast<ptrdiff_t>(pad);
              for (size_t kx = 0; kx < k; ++kx) {
                const ptrdiff_t ix = static_cast<ptrdiff_t>(ox * s + kx) - static_cast<ptrdiff_t>(pad);
                const bool inside = iy >= 0 && iy < static_cast<ptrdiff_t>(l.in_h) && ix >= 0 &&
                                    ix < static_cast<ptrdiff_t>(l.in_w);
                *row++ = inside ? x[(ci * l.in_h + iy) * l.in_w + ix] : 0.0f;
              }
            }
          }
        }
      });
      // y[co][p] = sum_d weights[co][d] * columns[p][d]: a fully-connected layer with the
      // output channels as its batch and the pixels as its outputs.
      check(nnp_fully_connected_output(l.out_c, depth, pixels, l.weights.data(), columns, y, o.threadpool, nullptr),
            l.spec.name, "nnp_fully_connected_output (GEMM)");
      parallel(o.threadpool, l.out_c, [&](size_t co) {
        float* plane = y + co * pixels;
        for (size_t p = 0; p < pixels; ++p) plane[p] += l.bias[co];
      });
    }
  }

  // ---- pooling ----

  // The framework default: a plain loop over windows, padding and overhang ignored.
  void pooling_fallback(const Layer& l, const float* in, float* out, size_t n, const RunOptions& o) {
    const size_t k = l.spec.kernel, s = l.spec.stride, pad = l.spec.padding;
    parallel(o.threadpool, n * l.in_c, [&](size_t plane) {
      const float* x = in + plane * l.in_h * l.in_w;
      float* y = out + plane * l.out_h * l.out_w;
      for (size_t oy = 0; oy < l.out_h; ++oy) {
        for (size_t ox = 0; ox < l.out_w; ++ox) {
          float m = -std::numeric_limits<float>::infinity();
          for (size_t ky = 0; ky < k; ++ky) {
            const ptrdiff_t iy = static_cast<ptrdiff_t>(oy * s + ky) - static_cast<ptrdiff_t>(pad);
            if (iy < 0 || iy >= static_cast<ptrdiff_t>(l.in_h)) continue;
            for (size_t kx = 0; kx < k; ++kx) {
              const ptrdiff_t ix = static_cast<ptrdiff_t>(ox * s + kx) - static_cast<ptrdiff_t>(pad);
              if (ix < 0 || ix >= static_cast<ptrdiff_t>(l.in_w)) continue;
              m = std::max(m, x[iy * l.in_w + ix]);
            }
          }
          y[oy * l.out_w + ox] = m;
        }
      }
    });
  }

  // ---- the rest ----

  void add_bias(const Layer& l, float* out, size_t n) {
    for (size_t b = 0; b < n; ++b)
      for (size_t c = 0; c < l.out_c; ++c) out[b * l.out_c + c] += l.bias[c];
  }

  static void relu_fallback(float* data, size_t count, pthreadpool_t pool) {
    constexpr size_t kChunk = 64 * 1024;
    parallel(pool, (count + kChunk - 1) / kChunk, [&](size_t chunk) {
      const size_t end = std::min(count, (chunk + 1) * kChunk);
      for (size_t i = chunk * kChunk; i < end; ++i) data[i] = data[i] > 0.0f ? data[i] : 0.0f;
    });
  }

  static void softmax_fallback(const float* in, float* out, size_t n, size_t classes, pthreadpool_t pool) {
    parallel(pool, n, [&](size_t b) {
      const float* x = in + b * classes;
      float* y = out + b * classes;
      const float m = *std::max_element(x, x + classes);
      float sum = 0.0f;
      for (size_t c = 0; c < classes; ++c) sum += y[c] = std::exp(x[c] - m);
      for (size_t c = 0; c < classes; ++c) y[c] /= sum;
    });
  }

  void run_layer(const Layer& l, const float* in, float* out, size_t n, Path path, const RunOptions& o,
                 LayerRecord* r) {
    const bool fast = path == Path::fast && takes_fast_path(l.spec, n);
    if (r) r->fast = fast;
    switch (l.spec.kind) {
      case LayerKind::convolution:
        if (r) r->flops = 2.0 * n * l.out_c * l.out_h * l.out_w * l.in_c * l.spec.kernel * l.spec.kernel;
        if (fast) convolution_fast(l, in, out, n, o, r);
        else convolution_fallback(l, in, out, n, o, r);
        break;
      case LayerKind::relu:  // in place (in == out)
        if (r) r->implementation = fast ? "nnp_relu" : "loop";
        if (fast) check(nnp_relu_output(n, l.in_size(), in, out, 0.0f, o.threadpool), l.spec.name, "nnp_relu_output");
        else relu_fallback(out, n * l.in_size(), o.threadpool);
        break;
      case LayerKind::max_pooling:
        if (r) r->implementation = fast ? "nnp_max_pooling" : "loop";
        if (fast) {
          const nnp_padding padding{l.spec.padding, l.spec.padding, l.spec.padding, l.spec.padding};
          check(nnp_max_pooling_output(n, l.in_c, nnp_size{l.in_w, l.in_h}, padding,
                                       nnp_size{l.spec.kernel, l.spec.kernel}, nnp_size{l.spec.stride, l.spec.stride},
                                       in, out, o.threadpool),
                l.spec.name, "nnp_max_pooling_output");
        } else {
          pooling_fallback(l, in, out, n, o);
        }
        break;
      case LayerKind::fully_connected: {
        if (r) r->flops = 2.0 * n * l.in_size() * l.out_c;
        if (fast && n == 1) {
          if (r) r->implementation = "nnp_fc_inference";
          check(nnp_fully_connected_inference(l.in_size(), l.out_c, in, l.weights.data(), out, o.threadpool),
                l.spec.name, "nnp_fully_connected_inference");
        } else {
          if (r) r->implementation = fast ? "nnp_fc_output" : "gemm";
          check(nnp_fully_connected_output(n, l.in_size(), l.out_c, in, l.weights.data(), out, o.threadpool, nullptr),
                l.spec.name, "nnp_fully_connected_output");
        }
        add_bias(l, out, n);  // bias after the product, as MXNet does
        break;
      }
      case LayerKind::softmax:
        if (r) r->implementation = fast ? "nnp_softmax" : "loop";
        if (fast) check(nnp_softmax_output(n, l.in_size(), in, out, o.threadpool), l.spec.name, "nnp_softmax_output");
        else softmax_fallback(in, out, n, l.in_size(), o.threadpool);
        break;
    }
  }
};

Network::Network(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Network::~Network() = default;

std::unique_ptr<Network> Network::create(const std::string& name, const NetworkOptions& options,
                                         std::string* error) {
  auto impl = std::make_unique<Impl>();
  if (!definition(name, &impl->specs)) {
    *error = "unknown network '" + name + "'";
    return nullptr;
  }
  if (options.channel_divisor == 0 || options.image_size == 0) {
    *error = "image size and channel divisor must be positive";
    return nullptr;
  }
  impl->image_size = options.image_size;
  impl->seed = options.seed;
  impl->input_floats = 3 * options.image_size * options.image_size;
  impl->max_floats = impl->input_floats;
  Random random(options.seed);
  size_t c = 3, h = options.image_size, w = options.image_size;
  for (const LayerSpec& spec : impl->specs) {
    Impl::Layer l{spec, c, h, w, c, h, w, {}, {}};
    const size_t outputs = std::max<size_t>(1, spec.output_channels / options.channel_divisor);
    size_t fan_in = 0;
    switch (spec.kind) {
      case LayerKind::convolution:
        if (h + 2 * spec.padding < spec.kernel || w + 2 * spec.padding < spec.kernel) {
          *error = name + ": image size " + std::to_string(options.image_size) + " is too small for " + spec.name;
          return nullptr;
        }
        l.out_c = outputs;
        l.out_h = (h + 2 * spec.padding - spec.kernel) / spec.stride + 1;
        l.out_w = (w + 2 * spec.padding - spec.kernel) / spec.stride + 1;
        fan_in = c * spec.kernel * spec.kernel;
        break;
      case LayerKind::max_pooling:
        l.out_h = pooled_extent(h, spec.padding, spec.kernel, spec.stride);
        l.out_w = pooled_extent(w, spec.padding, spec.kernel, spec.stride);
        break;
      case LayerKind::fully_connected:
        l.out_c = outputs;
        l.out_h = l.out_w = 1;
        fan_in = c * h * w;
        break;
      case LayerKind::relu:
      case LayerKind::softmax:
        break;
    }
    if (fan_in != 0) {
      // He-uniform weights keep activations at a stable scale through ReLU layers.
      const float bound = std::sqrt(6.0f / static_cast<float>(fan_in));
      l.weights.resize(l.out_c * fan_in);
      for (float& v : l.weights) v = random.uniform(-bound, bound);
      l.bias.resize(l.out_c);
      for (float& v : l.bias) v = random.uniform(-0.05f, 0.05f);
    }
    c = l.out_c, h = l.out_h, w = l.out_w;
    impl->max_floats = std::max(impl->max_floats, l.out_size());
    impl->layers.push_back(std::move(l));
  }
  std::unique_ptr<Network> network(new Network(std::move(impl)));
  network->name_ = name;
  return network;
}

size_t Network::input_size() const { return impl_->input_floats; }
size_t Network::classes() const { return impl_->layers.back().out_size(); }
const std::vector<LayerSpec>& Network::layers() const { return impl_->specs; }
const float* Network::logits() const { return impl_->logits; }
const float* Network::probabilities() const { return impl_->probabilities.get(0); }

std::vector<float> Network::random_input(size_t batch_size) const {
  Random random(impl_->seed ^ 0x5eed1234abcdull);
  std::vector<float> input(batch_size * input_size());
  for (float& v : input) v = random.uniform(-1.0f, 1.0f);
  return input;
}

void Network::forward(const float* input, size_t batch_size, Path path, const RunOptions& options,
                      std::vector<LayerRecord>* records) {
  Impl& m = *impl_;
  if (records) records->assign(m.layers.size(), LayerRecord{});
  float* buffers[2] = {m.ping.get(batch_size * m.max_floats), m.pong.get(batch_size * m.max_floats)};
  float* probabilities = m.probabilities.get(batch_size * classes());
  const float* in = input;
  size_t next = 0;
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const Impl::Layer& l = m.layers[i];
    LayerRecord* r = records ? &(*records)[i] : nullptr;
    if (r) r->name = l.spec.name, r->kind = l.spec.kind;
    float* out;
    if (l.spec.kind == LayerKind::relu) {
      out = const_cast<float*>(in);  // in place; `in` is always one of our buffers here
    } else if (l.spec.kind == LayerKind::softmax) {
      m.logits = in;
      out = probabilities;
    } else {
      out = buffers[next];
      next ^= 1;
    }
    const auto start = std::chrono::steady_clock::now();
    m.run_layer(l, in, out, batch_size, path, options, r);
    if (r) r->seconds = seconds_since(start);
    in = out;
  }
}

}  // namespace nnjit_tools
