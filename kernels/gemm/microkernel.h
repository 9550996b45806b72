// The GEMM microkernel: one MR x NR tile of C from panels of A and B.
//
//   C[i][j] = (sum over k < kc of A(i, k) * b[k*NR + j]) + init[i][j],
//   init = C itself (accumulate), bias[i] (bias), or nothing; then max(., 0) if relu,
//   A(i, k) = a[k*MR + i] for a packed panel, or a[i*a_stride + k] with the strided-A
//   flag (A read in place from a row-major matrix, e.g. weights: no packing at all), or
//   a[(i/6)*a_stride + k*6 + i%6] with the panels-A flag (rows from consecutive packed
//   6-row panels a_stride floats apart: any MR up to 18 over data packed for MR = 6, as
//   the Winograd multiply runs it on AVX-512 machines, in zmm registers).
//
// Products are summed from zero one k at a time, in increasing k, with fused
// multiply-adds, and `init` is added last, so every implementation (JIT or reference
// twin) gives the same bits, and a tile computed on a copy initialised with C or the
// bias (the driver's edge tiles) matches a whole tile. Adding C last also lets the
// kernel prefetch C while it multiplies. `ldc` is C's row stride in elements; `bias`
// is read only with the bias flag.
#pragma once

#include <cstddef>
#include <cstdint>

#include "jit/kernel_key.h"
#include "kernels/hardware.h"

namespace nnjit::gemm {

using GemmMicrokernel = void (*)(size_t kc, const float* a, size_t a_stride, const float* b, float* c,
                                 size_t ldc, const float* bias);

// Register tile of a microkernel.
struct TileShape {
  size_t mr;
  size_t nr;
  bool operator==(const TileShape&) const = default;
};

// Vector registers an AVX-style tile needs: MR*NR/8 accumulators, NR/8 for B and at least
// one for the broadcasts of A (16 with AVX2, 32 with AVX-512VL).
constexpr size_t tile_vector_registers(TileShape tile) { return (tile.mr + 1) * (tile.nr / 8) + 1; }

// The tile for an m x n GEMM on `isa`: with AVX-512, 6x32 (zmm) unless n is below 32;
// else among the AVX2 tiles the one with the least padded work (e.g. 4x24 for 64 x 3136,
// 6x16 for 96 x 49), counting the last column panel's narrower tile (whole vectors). Data packed ahead of time
// must not depend on n (it may be reused for another input size): pass n = 0 there,
// and the choice depends on m alone.
TileShape microkernel_tile(Isa isa, size_t m, size_t n = 0);

// The microkernel for `isa` and `tile` with the given flags (jit::kAccumulate,
// jit::kBias, jit::kRelu, jit::kStridedA, jit::kPanelsA, jit::kFarPrefetchB (with panels A:
// B is read from memory; prefetching only, the same bits)): generated code when the JIT can serve it,
// else the reference twin of the same tile shape.
GemmMicrokernel gemm_microkernel(Isa isa, TileShape tile, uint32_t flags);

// The reference twin for a tile shape and flags (used when the JIT cannot serve, and in tests).
GemmMicrokernel reference_gemm_microkernel(TileShape tile, uint32_t flags);

// The JIT microkernel alone; nullptr if this ISA has no generator or generation failed.
GemmMicrokernel jit_gemm_microkernel(Isa isa, TileShape tile, uint32_t flags);

// The cache key of the JIT microkernel.
jit::KernelKey gemm_microkernel_key(Isa isa, TileShape tile, uint32_t flags);

}  // namespace nnjit::gemm
