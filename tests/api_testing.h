// api_testing.h — helpers shared by the public-API tests (tests/api_*.cc).
//
// Everything here is written against the specification (shared/API.md) only: the
// double-precision convolutions below are the tests' own loops, independent of the
// library's kernels, so a shared misunderstanding cannot make both agree.
#pragma once

#include <nnpack.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace api_test {

inline constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
inline constexpr double kUnitRoundoff = 0x1.0p-24;  // 2^-24: half an ulp of 1.0f

// ---- library initialization for every test binary but the "uninitialized" one ----

class InitializeEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { ASSERT_EQ(nnp_initialize(), nnp_status_success); }
};

// Call once per test binary, from a namespace-scope initializer:
//   static const bool kInitialized = api_test::InitializeLibraryForAllTests();
inline bool InitializeLibraryForAllTests() {
  ::testing::AddGlobalTestEnvironment(new InitializeEnvironment);
  return true;
}

// ---- seeds and random data ----

// Seeds are fixed; each test prints the one it uses so that a failure can be replayed.
inline void PrintSeed(const std::string& what, uint32_t seed) {
  std::printf("[   seed   ] %s: %u\n", what.c_str(), seed);
}

class Rng {
 public:
  explicit Rng(uint32_t seed) : engine_(seed) {}
  float Uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(engine_); }
  uint32_t Bits() { return static_cast<uint32_t>(engine_()); }
  std::vector<float> Vector(size_t n, float lo = -1.0f, float hi = 1.0f) {
    std::vector<float> v(n);
    for (float& x : v) x = Uniform(lo, hi);
    return v;
  }

 private:
  std::mt19937 engine_;
};

// ---- bit-level comparisons ----

inline uint32_t Bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

// Empty when a and b are identical bit for bit; else a description of the first differences.
inline std::string BitDifferences(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return "sizes differ";
  std::ostringstream out;
  size_t count = 0;
  for (size_t i = 0; i < a.size(); i++) {
    if (Bits(a[i]) != Bits(b[i])) {
      if (count < 5) out << " [" << i << "] " << a[i] << " vs " << b[i] << ";";
      count++;
    }
  }
  if (count == 0) return std::string();
  return std::to_string(count) + " of " + std::to_string(a.size()) + " elements differ:" + out.str();
}

inline bool AllNaN(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return std::isnan(x); });
}

// ---- memory ----

// A 64-byte-aligned block with slack behind it, so a test can also pass misaligned
// pointers into it (data() + 4) without leaving the allocation.
class AlignedBytes {
 public:
  explicit AlignedBytes(size_t bytes) : bytes_(bytes) {
    const size_t rounded = (bytes + 64 + 63) / 64 * 64;
    memory_.reset(static_cast<uint8_t*>(std::aligned_alloc(64, rounded)));
    std::memset(memory_.get(), 0xFF, rounded);  // 0xFFFFFFFF is a NaN: stale reads show
  }
  uint8_t* data() { return memory_.get(); }
  size_t size() const { return bytes_; }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> memory_;
  size_t bytes_;
};

// ---- thread pools ----

struct PoolDeleter {
  void operator()(pthreadpool* pool) const { pthreadpool_destroy(pool); }
};
using Pool = std::unique_ptr<pthreadpool, PoolDeleter>;

// Pools shared by all tests of a binary, created on first use. threads 0 means "no pool" (NULL).
inline pthreadpool_t SharedPool(size_t threads) {
  if (threads == 0) return nullptr;
  static std::mutex mutex;
  static std::map<size_t, Pool> pools;
  std::lock_guard<std::mutex> lock(mutex);
  Pool& pool = pools[threads];
  if (!pool) pool.reset(pthreadpool_create(threads));
  return pool.get();
}

// The thread configurations every numeric test compares: NULL pool, then pools of 1, 2 and 4.
inline constexpr size_t kThreadCounts[] = {0, 1, 2, 4};

inline std::string PoolName(size_t threads) {
  return threads == 0 ? std::string("NULL pool") : std::to_string(threads) + "-thread pool";
}

// ---- sizes ----

// Difference or zero: max(a - b, 0) for unsigned sizes.
inline size_t Doz(size_t a, size_t b) { return a > b ? a - b : 0; }

// ---- convolution problems and their exact results ----

struct ConvShape {
  size_t batch = 1;
  size_t input_channels = 1;
  size_t output_channels = 1;
  nnp_size input{1, 1};        // width, height
  nnp_padding padding{0, 0, 0, 0};  // top, right, bottom, left
  nnp_size kernel{1, 1};       // width, height
  nnp_size stride{1, 1};       // width, height (inference only)

  size_t padded_height() const { return padding.top + input.height + padding.bottom; }
  size_t padded_width() const { return padding.left + input.width + padding.right; }
  size_t output_height() const { return Doz(padded_height(), kernel.height) / stride.height + 1; }
  size_t output_width() const { return Doz(padded_width(), kernel.width) / stride.width + 1; }
  size_t input_elements() const { return batch * input_channels * input.height * input.width; }
  size_t kernel_elements() const { return output_channels * input_channels * kernel.height * kernel.width; }
  size_t output_elements() const { return batch * output_channels * output_height() * output_width(); }

  std::string ToString() const {
    std::ostringstream s;
    s << "batch " << batch << ", channels " << input_channels << "->" << output_channels << ", input "
      << input.height << "x" << input.width << ", padding t" << padding.top << " r" << padding.right << " b"
      << padding.bottom << " l" << padding.left << ", kernel " << kernel.height << "x" << kernel.width
      << ", stride " << stride.height << "x" << stride.width;
    return s.str();
  }
};

// The tensors of one convolution test, uniform in [-1, 1] from a seed.
struct ConvData {
  std::vector<float> input, kernel, bias, grad_output;
};

inline ConvData RandomConvData(const ConvShape& s, uint32_t seed) {
  Rng rng(seed);
  ConvData d;
  d.input = rng.Vector(s.input_elements());
  d.kernel = rng.Vector(s.kernel_elements());
  d.bias = rng.Vector(s.output_channels);
  d.grad_output = rng.Vector(s.output_elements());
  return d;
}

// The four convolution entry points.
enum class ConvOp { output, input_gradient, kernel_gradient, inference };

inline const char* ConvOpName(ConvOp op) {
  switch (op) {
    case ConvOp::output: return "output";
    case ConvOp::input_gradient: return "input_gradient";
    case ConvOp::kernel_gradient: return "kernel_gradient";
    case ConvOp::inference: return "inference";
  }
  return "?";
}

// Elements of a call's result: the output, the input gradient or the kernel gradient.
inline size_t ResultElements(ConvOp op, const ConvShape& s) {
  switch (op) {
    case ConvOp::output:
    case ConvOp::inference: return s.output_elements();
    case ConvOp::input_gradient: return s.input_elements();
    case ConvOp::kernel_gradient: return s.kernel_elements();
  }
  return 0;
}

// API.md's table "which algorithm may serve which call", for a shape that is otherwise valid:
// whether an explicitly named algorithm must be honoured (true) or refused with 26 (false).
inline bool AlgorithmServes(ConvOp op, nnp_convolution_algorithm algorithm, size_t kernel_h, size_t kernel_w,
                            size_t stride_h = 1, size_t stride_w = 1) {
  const bool unit_stride = stride_h == 1 && stride_w == 1;
  const bool k3x3 = kernel_h == 3 && kernel_w == 3;
  switch (algorithm) {
    case nnp_convolution_algorithm_auto:
      return true;
    case nnp_convolution_algorithm_ft8x8:
      return kernel_h <= 8 && kernel_w <= 8 && unit_stride;
    case nnp_convolution_algorithm_ft16x16:
      return kernel_h <= 16 && kernel_w <= 16 && unit_stride;
    case nnp_convolution_algorithm_wt8x8:
    case nnp_convolution_algorithm_wt8x8_fp16:
      if (op == ConvOp::kernel_gradient || !k3x3) return false;
      return unit_stride || (op == ConvOp::inference && stride_h == 2 && stride_w == 2);
    case nnp_convolution_algorithm_implicit_gemm:
      return op == ConvOp::inference;
    case nnp_convolution_algorithm_direct:
      return op == ConvOp::inference && kernel_h == 1 && kernel_w == 1 && unit_stride;
  }
  return false;
}

inline constexpr nnp_convolution_algorithm kAllAlgorithms[] = {
    nnp_convolution_algorithm_auto,          nnp_convolution_algorithm_ft8x8,
    nnp_convolution_algorithm_ft16x16,       nnp_convolution_algorithm_wt8x8,
    nnp_convolution_algorithm_implicit_gemm, nnp_convolution_algorithm_direct,
    nnp_convolution_algorithm_wt8x8_fp16};

// Exact values of a result, with what an error bound needs: for each element the sum of the
// absolute values of the terms added up to make it, and the number of those terms.
struct Exact {
  std::vector<double> value;
  std::vector<double> abs_sum;
  size_t terms = 0;  // accumulated products + 1 (for the bias, or one rounding of the result)
};

// output[b][o][y][x] = act(bias[o] + sum_{i,ky,kx} input[b][i][y*sh+ky-pt][x*sw+kx-pl] * kernel[o][i][ky][kx]).
// Serves convolution_output (stride 1) and convolution_inference (batch 1, any stride).
inline Exact ExactForward(const ConvShape& s, const std::vector<float>& input, const std::vector<float>& kernel,
                          const float* bias, bool relu) {
  const size_t oh = s.output_height(), ow = s.output_width();
  const size_t ih = s.input.height, iw = s.input.width, kh = s.kernel.height, kw = s.kernel.width;
  Exact e;
  e.value.assign(s.output_elements(), 0.0);
  e.abs_sum.assign(s.output_elements(), 0.0);
  e.terms = s.input_channels * kh * kw + 1;
  for (size_t b = 0; b < s.batch; b++) {
    for (size_t o = 0; o < s.output_channels; o++) {
      for (size_t y = 0; y < oh; y++) {
        for (size_t x = 0; x < ow; x++) {
          double sum = bias ? double(bias[o]) : 0.0;
          double abs_sum = std::fabs(sum);
          for (size_t i = 0; i < s.input_channels; i++) {
            for (size_t ky = 0; ky < kh; ky++) {
              const size_t py = y * s.stride.height + ky;  // row in the padded image
              if (py < s.padding.top || py - s.padding.top >= ih) continue;
              for (size_t kx = 0; kx < kw; kx++) {
                const size_t px = x * s.stride.width + kx;
                if (px < s.padding.left || px - s.padding.left >= iw) continue;
                const double term = double(input[((b * s.input_channels + i) * ih + (py - s.padding.top)) * iw +
                                                 (px - s.padding.left)]) *
                                    double(kernel[((o * s.input_channels + i) * kh + ky) * kw + kx]);
                sum += term;
                abs_sum += std::fabs(term);
              }
            }
          }
          const size_t index = ((b * s.output_channels + o) * oh + y) * ow + x;
          e.value[index] = relu ? std::max(sum, 0.0) : sum;
          e.abs_sum[index] = abs_sum;
        }
      }
    }
  }
  return e;
}

// grad_input[b][i][y][x] = sum_{o,ky,kx} grad_output[b][o][y+pt-ky][x+pl-kx] * kernel[o][i][ky][kx]
// over the output positions that exist (stride 1).
inline Exact ExactInputGradient(const ConvShape& s, const std::vector<float>& grad_output,
                                const std::vector<float>& kernel) {
  const size_t oh = s.output_height(), ow = s.output_width();
  const size_t ih = s.input.height, iw = s.input.width, kh = s.kernel.height, kw = s.kernel.width;
  Exact e;
  e.value.assign(s.input_elements(), 0.0);
  e.abs_sum.assign(s.input_elements(), 0.0);
  e.terms = s.output_channels * kh * kw + 1;
  for (size_t b = 0; b < s.batch; b++) {
    for (size_t i = 0; i < s.input_channels; i++) {
      for (size_t y = 0; y < ih; y++) {
        for (size_t x = 0; x < iw; x++) {
          double sum = 0.0, abs_sum = 0.0;
          for (size_t o = 0; o < s.output_channels; o++) {
            for (size_t ky = 0; ky < kh; ky++) {
              // output row oy reads padded row oy + ky, which is input row y when oy = y + pt - ky
              if (y + s.padding.top < ky) continue;
              const size_t oy = y + s.padding.top - ky;
              if (oy >= oh) continue;
              for (size_t kx = 0; kx < kw; kx++) {
                if (x + s.padding.left < kx) continue;
                const size_t ox = x + s.padding.left - kx;
                if (ox >= ow) continue;
                const double term = double(grad_output[((b * s.output_channels + o) * oh + oy) * ow + ox]) *
                                    double(kernel[((o * s.input_channels + i) * kh + ky) * kw + kx]);
                sum += term;
                abs_sum += std::fabs(term);
              }
            }
          }
          const size_t index = ((b * s.input_channels + i) * ih + y) * iw + x;
          e.value[index] = sum;
          e.abs_sum[index] = abs_sum;
        }
      }
    }
  }
  return e;
}

// grad_kernel[o][i][ky][kx] = sum_{b,oy,ox} grad_output[b][o][oy][ox] * input[b][i][oy+ky-pt][ox+kx-pl].
inline Exact ExactKernelGradient(const ConvShape& s, const std::vector<float>& input,
                                 const std::vector<float>& grad_output) {
  const size_t oh = s.output_height(), ow = s.output_width();
  const size_t ih = s.input.height, iw = s.input.width, kh = s.kernel.height, kw = s.kernel.width;
  Exact e;
  e.value.assign(s.kernel_elements(), 0.0);
  e.abs_sum.assign(s.kernel_elements(), 0.0);
  e.terms = s.batch * oh * ow + 1;
  for (size_t o = 0; o < s.output_channels; o++) {
    for (size_t i = 0; i < s.input_channels; i++) {
      for (size_t ky = 0; ky < kh; ky++) {
        for (size_t kx = 0; kx < kw; kx++) {
          double sum = 0.0, abs_sum = 0.0;
          for (size_t b = 0; b < s.batch; b++) {
            for (size_t oy = 0; oy < oh; oy++) {
              const size_t py = oy + ky;
              if (py < s.padding.top || py - s.padding.top >= ih) continue;
              for (size_t ox = 0; ox < ow; ox++) {
                const size_t px = ox + kx;
                if (px < s.padding.left || px - s.padding.left >= iw) continue;
                const double term = double(grad_output[((b * s.output_channels + o) * oh + oy) * ow + ox]) *
                                    double(input[((b * s.input_channels + i) * ih + (py - s.padding.top)) * iw +
                                                 (px - s.padding.left)]);
                sum += term;
                abs_sum += std::fabs(term);
              }
            }
          }
          const size_t index = ((o * s.input_channels + i) * kh + ky) * kw + kx;
          e.value[index] = sum;
          e.abs_sum[index] = abs_sum;
        }
      }
    }
  }
  return e;
}

// Checks got against exact with a per-element bound; returns an empty string when all pass,
// else a description of the worst element and how many failed.
template <typename BoundFn>
std::string CompareWithBound(const std::vector<float>& got, const Exact& exact, BoundFn bound) {
  if (got.size() != exact.value.size()) return "sizes differ";
  size_t failures = 0, worst = 0;
  double worst_ratio = 0.0;
  for (size_t i = 0; i < got.size(); i++) {
    const double error = std::fabs(double(got[i]) - exact.value[i]);
    const double allowed = bound(exact.abs_sum[i], exact.terms);
    if (!(error <= allowed)) {  // NaN fails too
      const double ratio = std::isfinite(error) ? error / allowed : std::numeric_limits<double>::infinity();
      if (failures == 0 || ratio > worst_ratio) {
        worst_ratio = ratio;
        worst = i;
      }
      failures++;
    }
  }
  if (failures == 0) return std::string();
  std::ostringstream s;
  s << failures << " of " << got.size() << " elements out of bounds; worst [" << worst << "]: got " << got[worst]
    << ", exact " << exact.value[worst] << ", allowed error " << bound(exact.abs_sum[worst], exact.terms)
    << " (sum of |terms| " << exact.abs_sum[worst] << ", " << exact.terms << " terms)";
  return s.str();
}

// The error bound of a float dot product evaluated in any order: each of n accumulated
// products (and the final rounding) adds at most one rounding of a partial sum bounded by the
// sum of absolute terms. 4x margin over gamma_n; 1e-30 absorbs exact zeros.
inline double FloatAccumulationBound(double abs_sum, size_t terms, double factor = 4.0) {
  return factor * double(terms) * kUnitRoundoff * abs_sum + 1e-30;
}

// ---- IEEE binary16 ----

// Decodes an IEEE 754 half (binary16) exactly, subnormals included. Infinities and NaNs are
// not produced by the tests and decode as such anyway.
inline double DecodeHalf(uint16_t h) {
  const int sign = (h >> 15) & 1;
  const int exponent = (h >> 10) & 0x1F;
  const int mantissa = h & 0x3FF;
  double magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(double(mantissa), -24);  // subnormal: m * 2^-24
  } else if (exponent == 31) {
    magnitude = mantissa == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  } else {
    magnitude = std::ldexp(double(1024 + mantissa), exponent - 25);  // (1 + m/1024) * 2^(e-15)
  }
  return sign ? -magnitude : magnitude;
}

}  // namespace api_test
