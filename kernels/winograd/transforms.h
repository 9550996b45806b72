// Winograd F(6x6, 3x3) transforms on 8x8 tiles: the matrices, and the three
// tile transforms (input, kernel, output) as reference C++ and JIT AVX2+FMA code.
//
// ---- The algorithm ----------------------------------------------------------
// A 3x3 correlation of an 8x8 input tile d with a 3x3 kernel g gives a 6x6 output
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A
// where (.) is the element-wise product of two 8x8 "transformed tiles" and the 64
// element positions p = 8 i + j (i: row, j: column of the transformed tile) are
// independent, so summing over input channels turns into 64 matrix products.
//
// ---- The matrices (Toom-Cook, interpolation points 0, 1, -1, 2, -2, 1/2, -1/2, inf) ----
// The points are the standard well-conditioned choice for F(6,3); the scaling puts the
// Lagrange denominators into G, so B^T and A^T have small dyadic entries.
//
//   B^T (input, 8x8):                              G (kernel, 8x3):
//   [ 1    0   -21/4    0    21/4    0   -1  0 ]   [   1      0      0   ]
//   [ 0    1     1   -17/4  -17/4    1    1  0 ]   [ -2/9   -2/9   -2/9  ]
//   [ 0   -1     1    17/4  -17/4   -1    1  0 ]   [ -2/9    2/9   -2/9  ]
//   [ 0   1/2   1/4   -5/2   -5/4    2    1  0 ]   [ 1/90   1/45   2/45  ]
//   [ 0  -1/2   1/4    5/2   -5/4   -2    1  0 ]   [ 1/90  -1/45   2/45  ]
//   [ 0    2     4    -5/2    -5    1/2   1  0 ]   [ 32/45  16/45  8/45  ]
//   [ 0   -2     4     5/2    -5   -1/2   1  0 ]   [ 32/45 -16/45  8/45  ]
//   [ 0   -1     0    21/4     0  -21/4   0  1 ]   [   0      0      1   ]
//
//   A^T (output, 6x8):
//   [ 1  1   1   1    1    1     1    0 ]
//   [ 0  1  -1   2   -2   1/2  -1/2   0 ]
//   [ 0  1   1   4    4   1/4   1/4   0 ]
//   [ 0  1  -1   8   -8   1/8  -1/8   0 ]
//   [ 0  1   1  16   16  1/16  1/16   0 ]
//   [ 0  1  -1  32  -32  1/32 -1/32   1 ]
//
// In one dimension, y = A^T [(G g) (.) (B^T d)] is the correlation y[i] = sum_k g[k] d[i+k],
// i < 6, of an 8-element input with a 3-element filter (tests/winograd_transforms_test
// checks this in double precision). The tile transforms apply the 1-D transform in both
// directions (the input transform rows first, as it reads them; the kernel and output
// transforms columns first), with the factored evaluations of input_1d, kernel_1d and
// output_1d in transforms_reference.cc; the JIT code performs the same operations in the
// same order, so both give the same bits.
//
// ---- Vector lanes -----------------------------------------------------------
// Every transform works on 8 independent lanes, one AVX2 register per tile element,
// so the 2-D transforms are pure vertical adds, multiplies and FMAs:
//   input:  lanes = 8 input channels: each row of a tile is read from 8 channel planes and
//           transposed in registers (8x8); 6 tiles per call, whose 64 transformed positions
//           are transposed again into the GEMM's panels;
//   kernel: lanes = 8 output channels of the convolution (or, rotated for the input
//           gradient, 8 of its input channels); with AVX-512 also 16 lanes in zmm registers
//           (a whole 16-channel panel of U per pass: each 64-byte line of the panel written
//           by one store, where two 8-lane passes wrote halves of it; vgg.conv5_2 at batch 1,
//           compute strategy, Zen 5: 1.05-1.17x on one thread, 1.18-1.30x on two);
//   output: lanes = 8 output channels; the final 6x6 (or 3x3) values are transposed in
//           registers (unpack/shuffle) and written as rows of each channel's plane.
#pragma once

#include <cstddef>
#include <cstdint>

#include "jit/kernel_key.h"
#include "kernels/hardware.h"

namespace nnjit::winograd {

inline constexpr size_t kTile = 8;     // transformed tile: 8x8 positions
inline constexpr size_t kOutput = 6;   // output tile: 6x6
inline constexpr size_t kPositions = kTile * kTile;
inline constexpr size_t kLanes = 8;    // channels per transform call (one AVX2 register)
inline constexpr size_t kTileGroup = 6;  // tiles per input transform call: the GEMM's MR

// The matrices in exact (double) form, for tests and documentation.
extern const double kMatrixBT[8][8];
extern const double kMatrixG[8][3];
extern const double kMatrixAT[6][8];

// ---- Transform kernels: argument blocks and function types ----------------------
// All strides are in floats.

// Input: `blocks` blocks of 8 channels of kTileGroup tiles, read from planar data (NCHW or
// a scratch copy) and written as panels of the GEMM's A operand. Element (r, s) of channel
// l of block b of tile t is tiles[t][(b*8 + l)*channel_strides[t] + r*row_strides[t] + s];
// its transformed position p goes to output[p*position_stride + b*8*kTileGroup + l*kTileGroup + t]
// (channel-major, tiles contiguous: the layout the packed-A GEMM microkernel reads).
struct InputTransformArgs {
  const float* const* tiles;
  const size_t* row_strides;
  const size_t* channel_strides;
  size_t blocks;
  float* output;
  size_t position_stride;
};
using InputTransform = void (*)(const InputTransformArgs*);

// Kernel: `steps` kernels per lane, for `groups` consecutive groups of 8 lanes. The 3x3
// taps of lane l at step k are the 9 floats at kernel + l*lane_stride + k*step_stride
// (row-major; the rotated variant reads them in reverse order, i.e. the kernel turned by
// 180 degrees). Position p of lane l at step k goes to
// output[p*position_stride + k*output_step + l], l < 8 * groups.
struct KernelTransformArgs {
  const float* kernel;
  size_t lane_stride;
  size_t step_stride;
  size_t steps;
  float* output;
  size_t position_stride;
  size_t output_step;
  size_t groups;
};
using KernelTransform = void (*)(const KernelTransformArgs*);

// Output: `blocks` blocks of 8 channels of one tile. Position p of lane l of block b is
// input[p*position_stride + b*8 + l]; bias[b*8 + l] is added (and ReLU applied in the
// relu variant). Output element (r, s) of channel c = b*8 + l goes to
// output[c*channel_stride + r*row_stride + s]: r, s < 6, or with stride 2 the values at
// even (r, s) only, as r/2, s/2 < 3.
struct OutputTransformArgs {
  const float* input;
  size_t position_stride;
  const float* bias;
  float* output;
  size_t row_stride;
  size_t channel_stride;
  size_t blocks;
};
using OutputTransform = void (*)(const OutputTransformArgs*);

// The variants of the output transform.
struct OutputVariant {
  bool relu;
  bool stride2;
};

// ---- F(4x4, 3x3) on 6x6 tiles (auto's choice on small images) ------------------------
// Interpolation points 0, 1, -1, 2, -2, inf (the Lagrange denominators in G):
//
//   B^T (6x6):                 G (6x3):                  A^T (4x6):
//   [ 4   0  -5   0  1  0 ]    [  1/4     0      0   ]    [ 1  1   1  1   1  0 ]
//   [ 0  -4  -4   1  1  0 ]    [ -1/6   -1/6   -1/6  ]    [ 0  1  -1  2  -2  0 ]
//   [ 0   4  -4  -1  1  0 ]    [ -1/6    1/6   -1/6  ]    [ 0  1   1  4   4  0 ]
//   [ 0  -2  -1   2  1  0 ]    [  1/24   1/12   1/6  ]    [ 0  1  -1  8  -8  1 ]
//   [ 0   2  -1  -2  1  0 ]    [  1/24  -1/12   1/6  ]
//   [ 0   4   0  -5  0  1 ]    [   0      0      1   ]
//
// A 6x6 input tile gives a 4x4 output tile; 36 positions p = 6 i + j. The reference
// transforms take the Args of the 8x8 ones with these sizes: the input reads a 6x6 window
// per channel, positions go to output[p * position_stride + ...] for p < 36, and the
// output transform writes 4x4 values per channel (stride 1 only).
inline constexpr size_t kSmallTile = 6;
inline constexpr size_t kSmallOutput = 4;
inline constexpr size_t kSmallPositions = kSmallTile * kSmallTile;

extern const double kSmallMatrixBT[6][6];
extern const double kSmallMatrixG[6][3];
extern const double kSmallMatrixAT[4][6];

InputTransform reference_small_input_transform();
KernelTransform reference_small_kernel_transform(bool rotated);
OutputTransform reference_small_output_transform(bool relu);

// JIT versions (AVX2+FMA; the kernel transform also 16 lanes in zmm): the same key families
// as the 8x8 transforms with a 6x6 tile; nullptr where there is no generator.
InputTransform jit_small_input_transform(Isa isa);
KernelTransform jit_small_kernel_transform(Isa isa, bool rotated);
KernelTransform jit_small_wide_kernel_transform(Isa isa, bool rotated);
OutputTransform jit_small_output_transform(Isa isa, bool relu);
InputTransform small_input_transform(Isa isa);
KernelTransform small_kernel_transform(Isa isa, bool rotated);
OutputTransform small_output_transform(Isa isa, bool relu);
jit::KernelKey small_input_transform_key(Isa isa);
jit::KernelKey small_kernel_transform_key(Isa isa, bool rotated);
jit::KernelKey small_output_transform_key(Isa isa, bool relu);

// ---- Choosing implementations -----------------------------------------------------
// JIT code where the ISA has a generator and generation succeeds, else the reference.
InputTransform input_transform(Isa isa);
KernelTransform kernel_transform(Isa isa, bool rotated);
OutputTransform output_transform(Isa isa, OutputVariant variant);

// The reference versions.
InputTransform reference_input_transform();
KernelTransform reference_kernel_transform(bool rotated);
OutputTransform reference_output_transform(OutputVariant variant);

// The JIT versions alone; nullptr if the ISA has no generator or generation failed.
InputTransform jit_input_transform(Isa isa);
KernelTransform jit_kernel_transform(Isa isa, bool rotated);
OutputTransform jit_output_transform(Isa isa, OutputVariant variant);

// The kernel transform on groups of 16 lanes (KernelTransformArgs::groups counts 16-lane
// groups), in zmm registers: for Isa::avx512 only, else (or if generation failed) nullptr.
// Same bits as the 8-lane versions.
KernelTransform jit_wide_kernel_transform(Isa isa, bool rotated);

// Cache keys of the JIT transforms.
jit::KernelKey input_transform_key(Isa isa);
jit::KernelKey kernel_transform_key(Isa isa, bool rotated);
jit::KernelKey wide_kernel_transform_key(bool rotated);
jit::KernelKey output_transform_key(Isa isa, OutputVariant variant);

}  // namespace nnjit::winograd
