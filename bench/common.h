// Shared helpers of nnjit's benchmarks: aligned buffers, deterministic data, the
// FLOPS counter, and the layer set of bench/layers.tsv.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace nnjit_bench {

// ---- buffers --------------------------------------------------------------------

inline constexpr size_t kAlignment = 64;

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// A 64-byte-aligned block of `count` elements of T (at least one), as a framework
// allocates its tensors and workspaces. Uninitialised.
template <typename T>
using Buffer = std::unique_ptr<T[], FreeDeleter>;

template <typename T = float>
Buffer<T> allocate(size_t count) {
  const size_t bytes = (std::max<size_t>(count, 1) * sizeof(T) + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, bytes);
  if (p == nullptr) throw std::bad_alloc();
  return Buffer<T>(static_cast<T*>(p));
}

// Deterministic uniform values in [lo, hi): the same seed gives the same data in
// every run and every library under comparison.
inline void fill_uniform(float* data, size_t count, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
  const float scale = (hi - lo) / 16777216.0f;  // 2^24
  for (size_t i = 0; i < count; ++i) {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    const uint32_t r = static_cast<uint32_t>((state * 0x2545F4914F6CDD1Dull) >> 40);  // 24 bits
    data[i] = lo + scale * static_cast<float>(r);
  }
}

inline Buffer<float> random_buffer(size_t count, uint64_t seed) {
  Buffer<float> b = allocate<float>(count);
  fill_uniform(b.get(), count, seed);
  return b;
}

// Touches every page (and sets a value) so that no timed call pays first-touch faults.
inline Buffer<float> filled_buffer(size_t count, float value) {
  Buffer<float> b = allocate<float>(count);
  for (size_t i = 0; i < count; ++i) b[i] = value;
  return b;
}

// ---- counters ---------------------------------------------------------------------

// "GFLOPS": `flops` per iteration divided by the measured time (real time when
// the benchmark uses UseRealTime, as every threaded benchmark here does), in 1e9/s.
inline void set_gflops(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOPS"] =
      benchmark::Counter(flops_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

inline void set_threads(benchmark::State& state, size_t threads) {
  state.counters["threads"] = benchmark::Counter(static_cast<double>(threads));
}

// ---- the layer set ------------------------------------------------------------------

struct ConvLayer {
  std::string name;
  size_t input_channels, output_channels;
  size_t height, width;
  size_t kernel_height, kernel_width;
  size_t padding, stride;

  size_t output_height() const { return (height + 2 * padding - kernel_height) / stride + 1; }
  size_t output_width() const { return (width + 2 * padding - kernel_width) / stride + 1; }
  // Direct-convolution flops of one image: 2*Cin*Cout*OH*OW*KH*KW.
  double flops_per_image() const {
    return 2.0 * double(input_channels) * double(output_channels) * double(output_height()) *
           double(output_width()) * double(kernel_height) * double(kernel_width);
  }
  size_t input_floats() const { return input_channels * height * width; }
  size_t output_floats() const { return output_channels * output_height() * output_width(); }
  size_t kernel_floats() const { return output_channels * input_channels * kernel_height * kernel_width; }
};

struct FcLayer {
  std::string name;
  size_t input_channels, output_channels;
};

struct PoolLayer {
  std::string name;
  size_t channels, height, width, pool, stride;
};

struct LayerSet {
  std::vector<ConvLayer> conv;
  std::vector<FcLayer> fc;
  std::vector<PoolLayer> pool;
};

// Parses layers.tsv ('#' comments; tab-separated rows "name kind fields...").
// Returns false and sets `error` on an unreadable file or a malformed row.
bool load_layers(const char* path, LayerSet& layers, std::string& error);

}  // namespace nnjit_bench
