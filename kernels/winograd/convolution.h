// The Winograd convolution driver (F(6x6, 3x3) on 8x8 tiles, F(4x4, 3x3) on 6x6 tiles): plans a
// call and runs its stages.
//
// ---- Data layout (floats) ----------------------------------------------------------
// O = output channels, I = input channels of the convolution being computed (for the
// input gradient: O = the problem's input channels, I = its output channels, and the
// kernel turned by 180 degrees), MR x NR = 6 x 16, the panel shape of the GEMM operands,
// p = one of the 64 positions of a transformed 8x8 tile.
//
//   transformed kernel U   [p][O/NR panels][I][NR]: per position, the B operand of the
//                          GEMM in the microkernel's panel layout, read in place for any K
//                          block. The last panel, when O is not a multiple of NR, is stored
//                          compactly as [I][O % NR], so the size is exactly 64*O*I floats
//                          (what TVM requires); each call copies it once into a zero-padded
//                          panel.
//   input                  read in place (NCHW): the input transform loads a row of a tile
//                          from 8 channel planes and transposes it in registers, so its
//                          lanes are 8 channels. Tiles whose 8x8 window crosses the image
//                          border, and a last block of fewer than 8 channels, are first
//                          copied (zero-padded) into a small per-thread buffer.
//   transformed input V    [p][tile/MR][I8][MR] (I8 = I rounded up to 8): per position, the
//                          A operand in the packed panel layout of the microkernel (the
//                          input transform handles MR = 6 tiles per call and transposes
//                          its 8-channel vectors into runs of 6 tiles). The position
//                          stride is padded to an odd number of cache lines, so that the
//                          64 stores of a tile do not all fall into one L1 set.
//   products M             [tile][O/NR panels][p][NR]: the GEMM's C = V_p U_p with
//                          ldc = 64*O_NR floats rounded up to an odd number of cache lines
//                          (a GEMM tile writes up to 14 tiles' rows at once); the output
//                          transform reads one tile's 64 positions of 8 or 16 channels as
//                          consecutive cache lines.
//
// The GEMM of a position runs the block's tiles in chunks of rows that start at a panel of
// V and read up to three consecutive panels (jit::kPanelsA): 12 rows with AVX-512 (one zmm
// accumulator per row), else 6, the last chunk taking whatever is left (a remainder of 1-2 rows
// joins the chunk before it, up to 14), so no row is computed for padding.
//
// ---- Blocking and threads ----------------------------------------------------------
// The tiles of all images (image-major, then row, column) are processed in blocks of a
// multiple of MR tiles (fused private blocks: any number). K (input channels) is split into blocks of at most 256 that
// depend on I only, so every strategy and mode sums in the same order: precompute+reuse
// gives the same bits as compute, and every thread count the same bits.
//   Staged (default): blocks sized so that V and M stay in the last-level cache; per block
//     three parallel stages: input transform (tasks = 6 tiles x a run of channel blocks),
//     the 64 GEMMs (tasks = positions), output transform with bias and ReLU (tasks = a
//     run of tiles x a panel of channels, tiles innermost so that output rows fill left to
//     right). The kernel transform (compute strategy) runs first (tasks = a panel of
//     output channels x a range of input channels), staged through an L1-friendly buffer.
//   Fused (compute strategy, at most 128 tiles in one block): the kernel transform runs
//     inside the GEMM stage, panel by panel of output channels and K block by K block,
//     into a per-thread buffer that the GEMMs of all positions then read from L2; U is
//     never written whole (it can be 64 MiB for 512x512 channels).
//   Private blocks (large images with few channels): each thread takes whole blocks of
//     tiles sized to its L2 and runs the three stages on its own V and M, with no
//     synchronisation between stages.
//   Fused private blocks (compute strategy, several threads, 24 to 128 tiles per thread):
//     each thread takes one block of its share of the tiles through the fused stage on its
//     own V, M and U panel; each thread transforms the whole kernel, and no line of the
//     workspace is written by one core and read by another.
#pragma once

#include <cstddef>

#include "kernels/kernel_set.h"

namespace nnjit::winograd {

// `tile` chooses the algorithm: 8 for F(6x6, 3x3) on 8x8 tiles (wt8x8), 6 for F(4x4, 3x3)
// on 6x6 tiles (stride 1 only; what `auto` runs on small images, runtime/selector.cc; its
// precomputed kernel is 36 * O * I floats). Both use the layouts above with 36 instead of 64 positions; the
// input transform reads rows of 8 floats of which the 6x6 tile uses 6 (tiles read in place
// are those whose 8x8 window lies inside the image, as for 8x8 tiles).

// Whether the Winograd kernels serve the problem: 3x3 kernel, output or input gradient
// with stride 1, inference with stride 1 or 2x2.
bool serves(const ConvolutionProblem& problem, size_t tile);

// Bytes of a transformed kernel (precompute/reuse): tile^2 * O * I floats.
size_t transformed_kernel_bytes(const ConvolutionProblem& problem, size_t tile);

// Scratch bytes of `run` on `threads` threads.
size_t workspace_bytes(const ConvolutionProblem& problem, size_t tile, const Hardware& hardware, size_t threads);

// Writes the transformed kernel of `kernel` (the forward kernel of an inference call).
void transform_kernel(const ConvolutionProblem& problem, size_t tile, const float* kernel, void* transformed,
                      const ExecutionContext& context);

// Runs the convolution.
nnp_status run(const ConvolutionProblem& problem, size_t tile, const ConvolutionTensors& tensors,
               const ExecutionContext& context);

}  // namespace nnjit::winograd
