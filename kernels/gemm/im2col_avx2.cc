// im2col_panel_stride1__avx2: the implicit-GEMM panel gatherer for stride-1 patches.
//
// With stride 1, the columns of one run (panel columns in one output row) read
// consecutive pixels of one input row: lane j of the run reads
//   row[ox + (j - offset) + kx - pad_left],
// so a panel row is a few vector loads. Lanes outside the run, or whose pixel is in the
// left/right padding, are masked off: vmaskmovps neither reads nor faults on masked
// lanes and returns 0 there, so OR-ing the masked loads of all runs assembles the row
// with its zeros. Rows above or below the image contribute nothing (zeros).
// The result is the same copy im2col.cc's portable gatherer makes.
#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "kernels/gemm/im2col.h"

namespace nnjit::gemm {
namespace {

struct RunPlan {
  ptrdiff_t first_pixel;   // lane j reads row[first_pixel + kx + j]
  ptrdiff_t first_row;     // oy * stride_height - pad_top: the input row is first_row + ky
  int lane_begin[kIm2colMaxKernelWidth];  // per kx, the valid lanes [begin, end)
  int lane_end[kIm2colMaxKernelWidth];
};

size_t plan_runs(const Im2colB& p, size_t j0, RunPlan* plans) {
  Im2colRun runs[64];
  const size_t count = im2col_runs(p, j0, runs);
  const auto width = static_cast<ptrdiff_t>(p.width);
  const auto pad_left = static_cast<ptrdiff_t>(p.pad_left);
  for (size_t r = 0; r < count; ++r) {
    const auto offset = static_cast<ptrdiff_t>(runs[r].offset);
    const auto length = static_cast<ptrdiff_t>(runs[r].length);
    RunPlan& plan = plans[r];
    plan.first_pixel = static_cast<ptrdiff_t>(runs[r].ox) - pad_left - offset;
    plan.first_row = static_cast<ptrdiff_t>(runs[r].oy * p.stride_height) - static_cast<ptrdiff_t>(p.pad_top);
    for (size_t kx = 0; kx < p.kernel_width; ++kx) {
      // Pixel of lane j: first_pixel + kx + j, inside [0, width).
      const ptrdiff_t shift = plan.first_pixel + static_cast<ptrdiff_t>(kx);
      const ptrdiff_t begin = std::max(offset, -shift);
      const ptrdiff_t end = std::min(offset + length, width - shift);
      plan.lane_begin[kx] = static_cast<int>(begin);
      plan.lane_end[kx] = static_cast<int>(std::max(begin, end));
    }
  }
  return count;
}

template <size_t kVectors>
__attribute__((target("avx2"))) void gather_panel(const Im2colB& p, const RunPlan* plans, size_t run_count,
                                                  size_t k0, size_t kc, float* scratch) {
  __m256i lane_index[kVectors];
  for (size_t v = 0; v < kVectors; ++v)
    lane_index[v] = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(8 * v)),
                                     _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  constexpr int kLanes = static_cast<int>(8 * kVectors);
  const auto height = static_cast<ptrdiff_t>(p.height);
  const auto width = static_cast<ptrdiff_t>(p.width);
  PatchRowCursor cursor(p, k0);
  for (size_t kk = 0; kk < kc; ++kk) {
    const float* plane = p.input + cursor.channel * p.height * p.width;
    __m256 row_vectors[kVectors];
    for (size_t v = 0; v < kVectors; ++v) row_vectors[v] = _mm256_setzero_ps();
    for (size_t r = 0; r < run_count; ++r) {
      const RunPlan& run = plans[r];
      const ptrdiff_t iy = run.first_row + static_cast<ptrdiff_t>(cursor.ky);
      const int begin = run.lane_begin[cursor.kx], end = run.lane_end[cursor.kx];
      if (iy < 0 || iy >= height || begin == end) continue;
      // Address arithmetic in integers: lane 0 may lie before the row (a masked lane).
      const uintptr_t source = reinterpret_cast<uintptr_t>(plane + iy * width) +
                               static_cast<uintptr_t>(run.first_pixel + static_cast<ptrdiff_t>(cursor.kx)) *
                                   sizeof(float);
      if (begin == 0 && end == kLanes) {  // one run, all inside the image
#pragma GCC unroll 8
        for (size_t v = 0; v < kVectors; ++v)
          row_vectors[v] = _mm256_loadu_ps(reinterpret_cast<const float*>(source + 32 * v));
        continue;
      }
      // Every vector of the panel (unrolled: the row stays in registers); vectors the run
      // does not touch get an all-zero mask and add nothing.
      const __m256i first = _mm256_set1_epi32(begin - 1), last = _mm256_set1_epi32(end);
#pragma GCC unroll 8
      for (size_t v = 0; v < kVectors; ++v) {
        const __m256i mask = _mm256_and_si256(_mm256_cmpgt_epi32(lane_index[v], first),
                                              _mm256_cmpgt_epi32(last, lane_index[v]));
        const __m256 pixels = _mm256_maskload_ps(reinterpret_cast<const float*>(source + 32 * v), mask);
        row_vectors[v] = _mm256_or_ps(row_vectors[v], pixels);
      }
    }
    float* dst = scratch + kk * kLanes;
    for (size_t v = 0; v < kVectors; ++v) _mm256_storeu_ps(dst + 8 * v, row_vectors[v]);
    cursor.advance(p);
  }
}

}  // namespace

const float* im2col_panel_stride1__avx2(const void* context, size_t j0, size_t k0, size_t kc,
                                        float* scratch) {
  const auto& p = *static_cast<const Im2colB*>(context);
  RunPlan plans[64];
  const size_t runs = plan_runs(p, j0, plans);
  switch (p.nr / 8) {
    case 1: gather_panel<1>(p, plans, runs, k0, kc, scratch); break;
    case 2: gather_panel<2>(p, plans, runs, k0, kc, scratch); break;
    case 3: gather_panel<3>(p, plans, runs, k0, kc, scratch); break;
    case 4: gather_panel<4>(p, plans, runs, k0, kc, scratch); break;
    case 5: gather_panel<5>(p, plans, runs, k0, kc, scratch); break;
    case 6: gather_panel<6>(p, plans, runs, k0, kc, scratch); break;
    case 7: gather_panel<7>(p, plans, runs, k0, kc, scratch); break;
    default: gather_panel<8>(p, plans, runs, k0, kc, scratch); break;
  }
  return scratch;
}

}  // namespace nnjit::gemm

#endif  // __x86_64__
