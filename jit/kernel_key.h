// What identifies a generated kernel: a small value that holds everything that
// changes the emitted bytes. It is the JIT cache's key, names the kernel in dumps
// and profiles, and is ISA-neutral: an AArch64 generator reads the same fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "kernels/hardware.h"

namespace nnjit::jit {

// Kernel families that have generators. Append only (the value is part of dumps).
enum class KernelFamily : uint8_t {
  f32_gemm = 1,  // MR x NR register-blocked GEMM microkernel
  f32_gemv = 2,  // rows x K matrix-vector product, fp32 or fp16 weights
  f32_wt8x8_input = 3,            // Winograd F(6x6,3x3) input transform, 8 channels of a tile
  f32_wt8x8_kernel = 4,           // Winograd kernel transform, 8 output channels
  f32_wt8x8_kernel_rotated = 5,   // the same on kernels turned 180 degrees (input gradient)
  f32_wt8x8_output = 6,           // Winograd output transform, 6x6 per tile, 8 channels
  f32_wt8x8_output_stride2 = 7,   // the same keeping the even rows and columns (3x3)
  f32_fft_forward = 8,   // 2-D real FFT of 8 tiles (mr: tile, nr: (rows-1)*16 + cols-1)
  f32_fft_inverse = 9,   // inverse 2-D real FFT of 8 tiles (same encoding)
  f32_fft_cmac = 10,     // complex multiply-accumulate, 8 lanes x nr columns (kernels/fft)
  f32_fft_stage = 11,    // 8 NCHW channels -> channel-interleaved tile rows (mr: 8-column chunks)
  f32_fft_unstage = 12,  // channel-interleaved tile rows -> 8 NCHW channels (same encoding)
};

// Epilogue and variant flags (bit set).
inline constexpr uint32_t kAccumulate = 1u << 0;   // start from the existing output
inline constexpr uint32_t kBias = 1u << 1;         // start from a per-row bias
inline constexpr uint32_t kRelu = 1u << 2;         // max(result, 0) before storing
inline constexpr uint32_t kFp16Weights = 1u << 3;  // weights stored as IEEE binary16 (gemv)
inline constexpr uint32_t kStridedA = 1u << 4;     // A read row-major with a stride, not packed (gemm)
inline constexpr uint32_t kPanelsA = 1u << 5;      // A in packed 6-row panels a stride apart (gemm)
inline constexpr uint32_t kFarPrefetchB = 1u << 6; // B comes from memory: prefetch further (gemm, panels A)
// Panels A (gemm): the tile's first row is lane s (0..5) of the first panel, s in bits 8-10.
inline constexpr uint32_t kPanelsALaneShift = 8;
inline constexpr uint32_t kPanelsALaneMask = 7u << kPanelsALaneShift;
inline constexpr uint32_t panels_a_lane(uint32_t lane) { return lane << kPanelsALaneShift; }
inline constexpr uint32_t panels_a_lane_of(uint32_t flags) { return (flags & kPanelsALaneMask) >> kPanelsALaneShift; }

struct KernelKey {
  KernelFamily family = KernelFamily::f32_gemm;
  Isa isa = Isa::reference;
  uint8_t mr = 0;        // register tile rows
  uint8_t nr = 0;        // register tile columns
  uint8_t k_unroll = 1;  // K steps per loop iteration
  uint32_t flags = 0;
  uint16_t version = 1;  // bump when a generator's output changes

  bool operator==(const KernelKey&) const = default;

  // e.g. "f32_gemm_6x16_u4_bias_relu__avx2".
  std::string name() const;
};

struct KernelKeyHash {
  size_t operator()(const KernelKey& key) const {
    uint64_t h = static_cast<uint64_t>(key.family);
    for (uint64_t part : {uint64_t(key.isa), uint64_t(key.mr), uint64_t(key.nr), uint64_t(key.k_unroll),
                          uint64_t(key.flags), uint64_t(key.version)})
      h = h * 0x100000001b3ull ^ part;
    return std::hash<uint64_t>{}(h);
  }
};

}  // namespace nnjit::jit
