// Tile transforms of the FFT convolutions (ft8x8, ft16x16) on 8 lanes, as generated
// AVX2+FMA code with a plain C++ reference twin. The algorithms and the packed spectrum
// layout are documented in fft_algorithm.h.
//
// Lanes: every transform processes 8 independent tiles side by side, one per vector lane:
// 8 channels of one tile position (input, output, gradient tiles) or 8 output channels of
// one kernel. Memory is therefore "channel-interleaved": element (r, c) of the 8 tiles is
// one 32-byte vector, so the butterflies are pure vertical arithmetic with no shuffles.
// The drivers (convolution.cc) stage tiles into this form and back.
#pragma once

#include <cstddef>
#include <cstdint>

#include "jit/kernel_key.h"
#include "kernels/hardware.h"

namespace nnjit::fft {

inline constexpr size_t kLanes = 8;

// Variant flags of the FFT kernel keys (bits above the shared epilogue flags of kernel_key.h).
inline constexpr uint32_t kConjugate = 1u << 8;  // forward: store conj(X) in the complex slots
inline constexpr uint32_t kPointwise = 1u << 9;  // multiply-accumulate on a real-bin slot
inline constexpr uint32_t kMaskedA = 1u << 10;   // multiply-accumulate: A loaded under a lane mask
inline constexpr uint32_t kBlockedB = 1u << 11;  // multiply-accumulate: B's k index in blocks of 8
inline constexpr uint32_t kPairedA = 1u << 13;   // multiply-accumulate: two 8-row blocks of A per call
inline constexpr uint32_t kSummed = 1u << 14;    // forward: also store re + im (see ForwardSpec)

// Forward transform of an (rows x cols) block of 8 tiles, zero-extended to tile x tile:
//   input  (r, c): 8 floats at in + r * in_stride + c * 8 floats   (in_stride in bytes)
//   output slot s: 8 real parts at out + s * out_stride, 8 imaginary parts at that + out_im
//                  (bytes); the values are 2 X (fft_algorithm.h). Summed: also the 8 sums re + im
//                  (of the stored values) 32 bytes after the imaginary parts, the third part
//                  of the multiply-accumulate's B operand (cmac.h).
using ForwardTransformFn = void (*)(const float* in, size_t in_stride, float* out, size_t out_stride,
                                    size_t out_im);

// Inverse transform to the (rows x cols) top-left block of 8 tiles:
//   input slot s: real parts at in + s * in_stride, imaginary parts at that + in_im (bytes)
//   output (r, c): out + r * out_stride + c * 8 floats = y * scale (+ bias[lane]) (max 0 with relu),
//   where y is the unnormalised inverse and scale = 1 / (4 tile^2).
using InverseTransformFn = void (*)(const float* in, size_t in_stride, size_t in_im, float* out,
                                    size_t out_stride, const float* bias);

struct ForwardSpec {
  uint8_t tile;  // 8 or 16
  uint8_t rows;  // 1..tile
  uint8_t cols;  // 1..tile
  bool conjugate;
  bool summed = false;  // also store re + im (the input transform, whose tiles are B in cmac.h)
};

struct InverseSpec {
  uint8_t tile;
  uint8_t rows;
  uint8_t cols;
  bool bias;  // add bias[lane] after scaling (bias must be non-NULL)
  bool relu;
};

// A forward transform: generated code if available, else the reference twin.
class ForwardTransform {
 public:
  ForwardTransform() = default;
  ForwardTransform(const ForwardSpec& spec, Isa isa);
  void operator()(const float* in, size_t in_stride, float* out, size_t out_stride, size_t out_im) const;
  bool generated() const { return code_ != nullptr; }

 private:
  ForwardSpec spec_{};
  ForwardTransformFn code_ = nullptr;
};

class InverseTransform {
 public:
  InverseTransform() = default;
  InverseTransform(const InverseSpec& spec, Isa isa);
  void operator()(const float* in, size_t in_stride, size_t in_im, float* out, size_t out_stride,
                  const float* bias) const;
  bool generated() const { return code_ != nullptr; }

 private:
  InverseSpec spec_{};
  InverseTransformFn code_ = nullptr;
};

// The reference twins (plain C++, same operations in the same order as the generated code).
void reference_forward(const ForwardSpec& spec, const float* in, size_t in_stride, float* out,
                       size_t out_stride, size_t out_im);
void reference_inverse(const InverseSpec& spec, const float* in, size_t in_stride, size_t in_im, float* out,
                       size_t out_stride, const float* bias);

// The generated code alone (nullptr when this ISA has no generator or generation failed).
ForwardTransformFn jit_forward(const ForwardSpec& spec, Isa isa);
InverseTransformFn jit_inverse(const InverseSpec& spec, Isa isa);

// Cache keys of the generated transforms.
jit::KernelKey forward_key(const ForwardSpec& spec, Isa isa);
jit::KernelKey inverse_key(const InverseSpec& spec, Isa isa);

}  // namespace nnjit::fft
