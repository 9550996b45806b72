#include "kernels/gemm/gemm.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>

#include "jit/kernel_key.h"
#include "kernels/parallel.h"
#include "kernels/slot_pool.h"

namespace nnjit::gemm {
namespace {

constexpr size_t kAlignment = 64;

size_t divide_round_up(size_t a, size_t b) { return (a + b - 1) / b; }
size_t round_up(size_t a, size_t b) { return divide_round_up(a, b) * b; }

// Largest A block (rows) whose mc x kc floats take at most half of L2.
size_t max_m_chunk(size_t kc, TileShape tile, const Hardware& hw) {
  const size_t rows = hw.l2_bytes * 3 / 4 / (kc * sizeof(float));
  return std::max(tile.mr, rows / tile.mr * tile.mr);
}

// Relative cost of a task grid: compute spread over the threads (with the idle
// share of the last round), plus packing, which is repeated per task row/column, and
// the reading of A packed ahead (or in place), which every column of tasks repeats.
double grid_cost(size_t m, size_t n, size_t k, size_t m_tasks, size_t n_tasks, bool a_prepacked,
                 size_t threads) {
  constexpr double kPackCostInFlops = 64.0;  // copying one element vs one flop of compute
  // Streaming one element of A in again. Measured on resnet18.conv5 (512 x 49 x 4608, implicit
  // GEMM, batch 1, two threads on Zen 5): splitting N (both threads read all 9 MiB of
  // weights) ran at half the speed of splitting M (each reads half; B gathered twice).
  constexpr double kReadCostInFlops = 16.0;
  const size_t tasks = m_tasks * n_tasks;
  const double rounds = static_cast<double>(divide_round_up(tasks, threads));
  const double efficiency = static_cast<double>(tasks) / (rounds * static_cast<double>(threads));
  const double a_work = double(m) * double(k) * double(n_tasks) * (a_prepacked ? kReadCostInFlops : kPackCostInFlops);
  const double packing = kPackCostInFlops * double(k) * double(n) * double(m_tasks);
  return (2.0 * double(m) * double(n) * double(k) + a_work + packing) / (efficiency * static_cast<double>(threads));
}

// The microkernels of one K-block position, for one A layout.
struct BlockKernels {
  GemmMicrokernel first;       // first K block: overwrite (+ bias)
  GemmMicrokernel first_last;  // the only K block: overwrite (+ bias), ReLU
  GemmMicrokernel middle;      // accumulate
  GemmMicrokernel last;        // accumulate, ReLU

  GemmMicrokernel for_block(bool first_block, bool last_block) const {
    return first_block ? (last_block ? first_last : first) : (last_block ? last : middle);
  }
};

BlockKernels block_kernels(const GemmProblem& p, Isa isa, TileShape tile, uint32_t layout) {
  using jit::kAccumulate, jit::kBias, jit::kRelu;
  const uint32_t start = p.accumulate ? kAccumulate : (p.bias != nullptr ? kBias : 0);
  const uint32_t relu = p.relu ? kRelu : 0;
  return {gemm_microkernel(isa, tile, layout | start), gemm_microkernel(isa, tile, layout | start | relu),
          gemm_microkernel(isa, tile, layout | kAccumulate),
          gemm_microkernel(isa, tile, layout | kAccumulate | relu)};
}

// The microkernels of one tile width, for A packed and (with GemmProblem::a_rows) in place.
struct Kernels {
  TileShape tile;
  BlockKernels packed;   // A from packed panels
  BlockKernels strided;  // A read in place (only with GemmProblem::a_rows)
};

Kernels kernels_for(const GemmProblem& p, Isa isa, TileShape tile) {
  return {tile, block_kernels(p, isa, tile, 0),
          p.a_rows != nullptr ? block_kernels(p, isa, tile, jit::kStridedA) : BlockKernels{}};
}

// The microkernels one GEMM call uses, looked up once per call: the plan's tile, and a
// narrower one (whole vectors) for the last, partial column panel when that saves padded
// work, e.g. 6x8 for N = 49 with 6x16 tiles (56 columns computed, not 64).
struct CallKernels {
  Kernels whole;
  Kernels tail;  // tail.tile.nr == whole.tile.nr when there is no narrower tail
};

CallKernels call_kernels(const GemmProblem& p, const GemmPlan& plan) {
  const TileShape tile = plan.tile;
  const size_t tail_columns = p.n % tile.nr;
  // A zmm tile's tail in zmm vectors where that takes fewer of them than ymm vectors (17
  // columns: 2 zmm FMAs per row and k, not 3 ymm ones; resnet18.conv5, 7x7, N = 49 = 32 + 17,
  // batch 1 on one thread: 1.05-1.15x).
  const bool zmm = plan.isa == Isa::avx512 && tile.nr % 16 == 0 && (tail_columns + 15) / 16 < (tail_columns + 7) / 8;
  const size_t vector = zmm ? 16 : 8;
  const size_t tail_nr = (tail_columns + vector - 1) / vector * vector;
  const TileShape tail{tile.mr, tail_nr};
  const Kernels whole = kernels_for(p, plan.isa, tile);
  if (tail_columns == 0 || tail_nr >= tile.nr || reference_gemm_microkernel(tail, 0) == nullptr)
    return {whole, whole};
  return {whole, kernels_for(p, plan.isa, tail)};
}

struct Scratch {
  float* a_block;     // m_chunk x kc
  const float** a_panels;
  float* b_panel;     // kc x NR
  float* b_tail;      // kc x NR: the last panel's columns, compacted for the narrow tail kernels
  float* edge_tile;   // MR x NR
};

Scratch carve_slot(void* workspace, const GemmPlan& plan, size_t slot) {
  auto* base = static_cast<uint8_t*>(workspace) + slot * plan.slot_bytes;
  const size_t a_bytes = round_up(plan.m_chunk * plan.kc * sizeof(float), kAlignment);
  const size_t pointers_bytes = round_up(plan.m_chunk / plan.tile.mr * sizeof(float*), kAlignment);
  const size_t b_bytes = round_up(plan.kc * plan.tile.nr * sizeof(float), kAlignment);
  Scratch s;
  s.a_block = reinterpret_cast<float*>(base);
  s.a_panels = reinterpret_cast<const float**>(base + a_bytes);
  s.b_panel = reinterpret_cast<float*>(base + a_bytes + pointers_bytes);
  s.b_tail = reinterpret_cast<float*>(base + a_bytes + pointers_bytes + b_bytes);
  s.edge_tile = reinterpret_cast<float*>(base + a_bytes + pointers_bytes + 2 * b_bytes);
  return s;
}

// A tile that sticks out of C: run the accumulating kernel on a full-size copy, so the
// arithmetic is the same as for whole tiles.
void run_edge_tile(GemmMicrokernel accumulate_kernel, bool first_block, const GemmProblem& p,
                   size_t kc, const float* a, size_t a_stride, const float* b, size_t i0, size_t j0,
                   size_t rows, size_t cols, TileShape tile, float* edge) {
  for (size_t r = 0; r < tile.mr; ++r) {
    for (size_t j = 0; j < tile.nr; ++j) {
      float start = 0.0f;
      if (r < rows && j < cols) {
        if (!first_block || p.accumulate) start = p.c[(i0 + r) * p.ldc + j0 + j];
        else if (p.bias != nullptr) start = p.bias[i0 + r];
      }
      edge[r * tile.nr + j] = start;
    }
  }
  accumulate_kernel(kc, a, a_stride, b, edge, tile.nr, nullptr);
  for (size_t r = 0; r < rows; ++r)
    std::memcpy(p.c + (i0 + r) * p.ldc + j0, edge + r * tile.nr, cols * sizeof(float));
}

// Copies the first `width` columns of a kc x NR panel into a kc x width panel.
const float* compact_panel(const float* panel, size_t kc, size_t nr, size_t width, float* out) {
  for (size_t k = 0; k < kc; ++k) std::memcpy(out + k * width, panel + k * nr, width * sizeof(float));
  return out;
}

void run_task(const GemmProblem& p, const GemmPlan& plan, const CallKernels& call, size_t m0,
              size_t m1, size_t n0, size_t n1, const Scratch& s) {
  const TileShape tile = plan.tile;
  const size_t panels = divide_round_up(m1 - m0, tile.mr);
  for (size_t k0 = 0; k0 < p.k; k0 += plan.kc) {
    const size_t kc = std::min(plan.kc, p.k - k0);
    const bool first = k0 == 0, last = k0 + kc == p.k;
    // A panels: read in place where A is row-major and the tile is whole, else packed.
    for (size_t i = 0; i < panels; ++i) {
      const size_t i0 = m0 + i * tile.mr;
      s.a_panels[i] = p.a_rows != nullptr && i0 + tile.mr <= p.m
                          ? p.a_rows + i0 * p.a_stride + k0
                          : p.a.panel(p.a.context, i0, k0, kc, s.a_block + i * tile.mr * kc);
    }
    for (size_t j0 = n0; j0 < n1; j0 += tile.nr) {
      const float* b = p.b.panel(p.b.context, j0, k0, kc, s.b_panel);
      const size_t cols = std::min(tile.nr, n1 - j0);
      // Column panels end at multiples of NR except the last one of C.
      const Kernels& kernels = cols < tile.nr ? call.tail : call.whole;
      const size_t nr = kernels.tile.nr;
      if (nr < tile.nr) b = compact_panel(b, kc, tile.nr, nr, s.b_tail);
      for (size_t i = 0; i < panels; ++i) {
        const size_t i0 = m0 + i * tile.mr;
        const size_t rows = std::min(tile.mr, m1 - i0);
        const bool in_place = p.a_rows != nullptr && rows == tile.mr;
        const BlockKernels& block = in_place ? kernels.strided : kernels.packed;
        const size_t a_stride = in_place ? p.a_stride : 0;
        if (rows == tile.mr && cols == nr) {
          block.for_block(first, last)(kc, s.a_panels[i], a_stride, b, p.c + i0 * p.ldc + j0, p.ldc,
                                       p.bias != nullptr ? p.bias + i0 : nullptr);
        } else {
          run_edge_tile(block.for_block(false, last), first, p, kc, s.a_panels[i], a_stride, b, i0, j0,
                        rows, cols, kernels.tile, s.edge_tile);
        }
      }
    }
  }
}

}  // namespace

size_t gemm_kc(size_t k, TileShape tile, const Hardware& hw) {
  // The B micro-panel (kc x NR), reused across a whole A block, in half of L1; A
  // micro-panels stream through the other half from L2.
  const size_t limit = std::clamp<size_t>(hw.l1d_bytes / 2 / (tile.nr * sizeof(float)) / 16 * 16, 64, 512);
  const size_t blocks = divide_round_up(std::max<size_t>(k, 1), limit);
  return round_up(divide_round_up(std::max<size_t>(k, 1), blocks), 4);
}

GemmPlan plan_gemm(size_t m, size_t n, size_t k, bool a_prepacked, size_t threads,
                   const Hardware& hw, TileShape tile) {
  GemmPlan plan{};
  plan.isa = hw.isa;
  plan.tile = tile;
  plan.kc = gemm_kc(k, plan.tile, hw);
  plan.slots = std::clamp<size_t>(threads, 1, 64);
  const size_t mc = max_m_chunk(plan.kc, plan.tile, hw);
  const size_t m_tiles = divide_round_up(m, plan.tile.mr);
  const size_t n_tiles = divide_round_up(n, plan.tile.nr);
  const size_t min_m_tasks = divide_round_up(m, mc);

  double best = -1.0;
  const size_t most = 8 * plan.slots;
  for (size_t mt = min_m_tasks; mt <= std::max(min_m_tasks, std::min(m_tiles, most)); ++mt) {
    for (size_t nt = 1; nt <= std::min(n_tiles, most); ++nt) {
      const double cost = grid_cost(m, n, k, mt, nt, a_prepacked, plan.slots);
      if (best < 0.0 || cost < best) {
        best = cost;
        plan.m_tasks = mt;
        plan.n_tasks = nt;
      }
    }
  }
  plan.m_chunk = divide_round_up(m_tiles, plan.m_tasks) * plan.tile.mr;
  plan.n_chunk = divide_round_up(n_tiles, plan.n_tasks) * plan.tile.nr;
  plan.m_tasks = divide_round_up(m, plan.m_chunk);
  plan.n_tasks = divide_round_up(n, plan.n_chunk);

  plan.slot_bytes = round_up(plan.m_chunk * plan.kc * sizeof(float), kAlignment) +
                    round_up(plan.m_chunk / plan.tile.mr * sizeof(float*), kAlignment) +
                    2 * round_up(plan.kc * plan.tile.nr * sizeof(float), kAlignment) +
                    round_up(plan.tile.mr * plan.tile.nr * sizeof(float), kAlignment);
  return plan;
}

size_t gemm_workspace_bytes(const GemmPlan& plan) { return plan.slots * plan.slot_bytes; }

void run_gemm(const GemmProblem& p, const GemmPlan& plan, void* workspace, pthreadpool_t threadpool) {
  if (p.m == 0 || p.n == 0) return;
  const CallKernels kernels = call_kernels(p, plan);
  SlotPool slots(plan.slots);
  parallel_for(threadpool, plan.m_tasks * plan.n_tasks, [&](size_t task) {
    const size_t m0 = task / plan.n_tasks * plan.m_chunk;
    const size_t n0 = task % plan.n_tasks * plan.n_chunk;
    const size_t slot = slots.acquire();
    run_task(p, plan, kernels, m0, std::min(p.m, m0 + plan.m_chunk), n0,
             std::min(p.n, n0 + plan.n_chunk), carve_slot(workspace, plan, slot));
    slots.release(slot);
  });
}

}  // namespace nnjit::gemm
