// The multiply-accumulate stage of the FFT convolutions: per spectrum slot, a complex
// matrix product, (M x K) times (K x N), with M in vector lanes.
//
// The microkernel computes one 8-lane column block of C for nr (1..3) columns:
//   C[n] (+)= sum over k < K of A[k] * B[k][n]          n < nr
// with A[k] a vector of 8 complex values (8 rows of A, e.g. 8 output channels) and B[k][n]
// one complex scalar (broadcast). Complex products use the 3-multiplication (Gauss) form
//   P1 = sum Ar (Br + Bi),  P2 = sum (Ar + Ai) Bi,  P3 = sum (Ai - Ar) Br,
//   Re C = P1 - P2,         Im C = P1 + P3,
// three FMAs per complex product instead of four. The sums Ar + Ai and Ai - Ar are made once
// per k for all columns; Br + Bi comes with B, stored by the input transform next to Br and
// Bi (ForwardSpec::summed): made in the call, it cost one add per column and k for every
// block of output channels, and the adds and broadcasts held the paired zmm calls to ~65 %
// of the FMA peak (Zen 5, k = 128, 6 columns; 90 % with 3 FMAs on embedded broadcasts of
// Br, Bi and Br + Bi, 8 columns). The "pointwise" variant serves the two slots that hold
// pairs of real bins: Re C = sum Ar Br, Im C = sum Ai Bi (the sums unused).
// Accumulators are summed in increasing k with fused multiply-adds, C is added last; the
// reference twin does exactly the same, so both give the same bits.
//
// Why a dedicated microkernel rather than kernels/gemm: the operands stay in the layouts
// the transforms write (real and imaginary parts as separate 8-lane vectors, any strides),
// so nothing is packed; the compact precomputed kernel (Cout x Cin x T x T floats, as TVM
// requires) is read directly, a partial last block of 8 rows under a lane mask; and the
// Gauss form saves a quarter of the multiplications, which a real GEMM cannot do without
// materialising the sums.
#pragma once

#include <cstddef>
#include <cstdint>

#include "jit/kernel_key.h"
#include "kernels/hardware.h"

namespace nnjit::fft {

inline constexpr size_t kCmacMaxColumns = 8;

// Columns per call the generated code of an ISA serves: 3 with AVX2's 16 registers, 8 with
// AVX-512VL's 32 (the reference twin serves any number up to kCmacMaxColumns).
constexpr size_t cmac_columns(Isa isa) { return isa == Isa::avx512 ? 8 : 3; }

// Columns per call the drivers use. Three for unpaired calls: on Zen 4 the broadcasts of B
// compete with the FMAs for the FP pipes, and 1 x 3 columns measured fastest (4.9 complex
// MACs per cycle in L1, against 3.9 for 1 x 8 with AVX-512VL registers). Six for the paired
// zmm calls, which load and join A once per k for more columns: 1.1-1.15x over three on
// alexnet.conv2 at one thread (Zen 5), eight no better than six.
inline constexpr size_t kCmacColumns = 3;
inline constexpr size_t kCmacPairedColumns = 6;

// All strides in bytes. B and C keep each imaginary part 8 floats (32 bytes) after its
// real part (the channel-interleaved layouts: one 64-byte line per 8 channels), and B the
// sums re + im 8 floats after that (a third 32-byte vector per 8 channels).
struct CmacArgs {
  const float* a;  // A[k]: real parts at a + k * lda, imaginary parts at that + a_im
  size_t lda;
  size_t a_im;
  const float* b;  // B[k][n]: real part at b + k * ldb_k + n * ldb_n, imaginary 32 bytes on,
  size_t ldb_k;    // real + imaginary (the same float sum) 64 bytes on;
                   // blocked variant: at b + (k / 8) * ldb_k + (k % 8) * 4 + n * ldb_n
  size_t ldb_n;
  float* c;  // C[n]: real parts at c + n * ldc_n, imaginary parts 32 bytes on
  size_t ldc_n;
  size_t k;
  const int32_t* mask;  // masked variant: 8 lanes, negative = load, 0 = read as zero
  const void* prefetch; // k consecutive cache lines from here are prefetched (data of a later
                        // call); must be a valid address
  size_t a_pair;        // paired variant: a second block of 8 rows, its A at a + a_pair bytes
                        // (same lda, a_im) and its C 64 bytes after the first block's
};

using CmacFn = void (*)(const CmacArgs* args);

struct CmacSpec {
  uint8_t nr;  // 1..kCmacMaxColumns
  bool pointwise;
  bool accumulate;
  bool masked;
  bool blocked;  // B's k index in blocks of 8 consecutive floats (channel-interleaved data)
  bool paired = false;  // two blocks of 8 rows (16 output channels) per call, one zmm lane
                        // per row: generated only for AVX-512, unmasked
};

class Cmac {
 public:
  Cmac() = default;
  Cmac(const CmacSpec& spec, Isa isa);
  void operator()(const CmacArgs& args) const;
  bool generated() const { return code_ != nullptr; }

 private:
  CmacSpec spec_{};
  CmacFn code_ = nullptr;
};

void reference_cmac(const CmacSpec& spec, const CmacArgs& args);
CmacFn jit_cmac(const CmacSpec& spec, Isa isa);
jit::KernelKey cmac_key(const CmacSpec& spec, Isa isa);

// All variants an operation needs, looked up once per call:
// [pointwise][accumulate][masked][nr - 1] for nr up to `columns`, one choice of `blocked`;
// and [pointwise][accumulate][nr - 1] of the paired variant where it is generated code.
struct CmacSet {
  Cmac kernels[2][2][2][kCmacMaxColumns];
  Cmac paired_kernels[2][2][kCmacMaxColumns];
  size_t columns;         // kCmacColumns: columns per unpaired call
  bool paired;            // paired_kernels are generated code (never their slower twin)
  size_t paired_columns;  // kCmacPairedColumns: columns per paired call (a multiple of `columns`)
  CmacSet(Isa isa, bool blocked);
  const Cmac& get(bool pointwise, bool accumulate, bool masked, size_t nr) const {
    return kernels[pointwise][accumulate][masked][nr - 1];
  }
  const Cmac& get_paired(bool pointwise, bool accumulate, size_t nr) const {
    return paired_kernels[pointwise][accumulate][nr - 1];
  }
};

}  // namespace nnjit::fft
