// Blocked single-precision GEMM: C = A * B (+ bias per row, or + C), optional ReLU.
//
// The classic design: the driver blocks K by `kc` (a B panel of kc x NR stays in
// L1), M by `mc` (an A block of mc x kc stays in L2), and runs the MR x NR
// microkernel over the tiles. A and B reach the driver through panel sources, so
// callers pack straight from their own layout: a row-major matrix, a transposed one,
// pre-packed weights, or image patches gathered on the fly (implicit GEMM).
// Threads split C into independent rectangles; every element is computed with the
// same arithmetic whatever the split, so results do not depend on the thread count.
#pragma once

#include <cstddef>

#include <pthreadpool.h>

#include "kernels/gemm/microkernel.h"
#include "kernels/hardware.h"

namespace nnjit::gemm {

// A packed panel provider. For A, `outer` is the first row (a multiple of MR) and
// the panel holds rows [outer, outer + MR) as panel[k * MR + r]; for B, `outer` is
// the first column (a multiple of NR) and the panel is panel[k * NR + j]. Both span
// k in [k0, k0 + kc). Rows/columns past the matrix edge are zeros. The function
// returns `scratch` after filling it, or a pointer into data packed in advance.
struct PanelSource {
  const float* (*panel)(const void* context, size_t outer, size_t k0, size_t kc, float* scratch);
  const void* context;
};

struct GemmProblem {
  size_t m, n, k;
  PanelSource a;
  PanelSource b;
  // Optional: A row-major in place (A[i][k] = a_rows[i * a_stride + k]). Whole MR-row
  // tiles then read it directly (no packing); `a` still packs the last, partial tile.
  const float* a_rows;
  size_t a_stride;
  float* c;
  size_t ldc;          // row stride of C, in elements
  const float* bias;   // per row of C, may be NULL (ignored when accumulating)
  bool accumulate;     // C += A * B instead of C = A * B (+ bias)
  bool relu;           // C = max(C, 0) at the end
  bool a_prepacked;    // A needs no packing (pre-packed or a_rows): favours splitting N
};

// Blocking of one GEMM on one machine. The tile depends only on M and kc only on K,
// the tile and the hardware, so A packed in advance with pack_a_ahead matches every
// later plan for the same M and K.
struct GemmPlan {
  Isa isa;
  TileShape tile;
  size_t kc;        // K block
  size_t m_chunk;   // rows per task (multiple of MR, at most mc)
  size_t n_chunk;   // columns per task (multiple of NR)
  size_t m_tasks;
  size_t n_tasks;
  size_t slots;       // concurrent tasks (the pool's thread count)
  size_t slot_bytes;  // scratch per task
};

// `tile` is microkernel_tile(isa, m, n), or microkernel_tile(isa, m) when A was packed ahead.
GemmPlan plan_gemm(size_t m, size_t n, size_t k, bool a_prepacked, size_t threads,
                   const Hardware& hardware, TileShape tile);

// K block size for K with this tile on this hardware (what plan_gemm uses).
size_t gemm_kc(size_t k, TileShape tile, const Hardware& hardware);

// Scratch bytes run_gemm needs for `plan` (64-byte aligned).
size_t gemm_workspace_bytes(const GemmPlan& plan);

// Runs the GEMM. `workspace` holds gemm_workspace_bytes(plan) bytes, 64-byte aligned.
void run_gemm(const GemmProblem& problem, const GemmPlan& plan, void* workspace,
              pthreadpool_t threadpool);

}  // namespace nnjit::gemm
