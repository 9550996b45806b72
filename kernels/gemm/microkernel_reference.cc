// Reference twins of the JIT GEMM microkernels: the definition in microkernel.h, in C++.
#include <cmath>
#include <utility>

#include "jit/kernel_key.h"
#include "kernels/gemm/microkernel.h"

namespace nnjit::gemm {
namespace {

constexpr size_t kPanelRows = 6;

template <size_t MR, size_t NR, uint32_t Flags>
void reference_microkernel(size_t kc, const float* a, size_t a_stride, const float* b, float* c,
                           size_t ldc, const float* bias) {
  float acc[MR][NR] = {};
  for (size_t k = 0; k < kc; ++k) {
    for (size_t i = 0; i < MR; ++i) {
      constexpr size_t lane = jit::panels_a_lane_of(Flags);  // panels A: row i is row i + lane of the panels
      const float a_ik = (Flags & jit::kStridedA) ? a[i * a_stride + k]
                         : (Flags & jit::kPanelsA)
                             ? a[(i + lane) / kPanelRows * a_stride + k * kPanelRows + (i + lane) % kPanelRows]
                             : a[k * MR + i];
      for (size_t j = 0; j < NR; ++j) acc[i][j] = std::fma(a_ik, b[k * NR + j], acc[i][j]);
    }
  }
  for (size_t i = 0; i < MR; ++i) {
    for (size_t j = 0; j < NR; ++j) {
      float v = acc[i][j];
      if (Flags & jit::kAccumulate) v += c[i * ldc + j];
      else if (Flags & jit::kBias) v += bias[i];
      c[i * ldc + j] = (Flags & jit::kRelu) ? (v > 0.0f ? v : 0.0f) : v;
    }
  }
}

template <size_t MR, size_t NR, uint32_t Layout>
GemmMicrokernel for_epilogue(uint32_t flags) {
  using jit::kAccumulate, jit::kBias, jit::kRelu;
  switch (flags & (kAccumulate | kBias | kRelu)) {
    case 0: return reference_microkernel<MR, NR, Layout>;
    case kRelu: return reference_microkernel<MR, NR, Layout | kRelu>;
    case kBias: return reference_microkernel<MR, NR, Layout | kBias>;
    case kBias | kRelu: return reference_microkernel<MR, NR, Layout | kBias | kRelu>;
    default:  // accumulate wins over bias
      return (flags & kRelu) ? reference_microkernel<MR, NR, Layout | kAccumulate | kRelu>
                             : reference_microkernel<MR, NR, Layout | kAccumulate>;
  }
}

template <size_t MR, size_t NR>
GemmMicrokernel for_flags(uint32_t flags) {
  return (flags & jit::kStridedA) ? for_epilogue<MR, NR, jit::kStridedA>(flags)
                                  : for_epilogue<MR, NR, 0>(flags);
}

// Panels-A tiles of 16 columns whose first row is lane `Lane` of the first panel: 1..14 rows
// from lane 0; 1..6 rows from lanes 1..5 (the AVX2 multiply's last two chunks of a block).
template <uint32_t Lane, size_t... Rows>
GemmMicrokernel panels_for_rows(size_t mr, uint32_t flags, std::index_sequence<Rows...>) {
  GemmMicrokernel kernel = nullptr;
  ((mr == Rows + 1 ? (kernel = for_epilogue<Rows + 1, 16, jit::kPanelsA | jit::panels_a_lane(Lane)>(flags), 0) : 0),
   ...);
  return kernel;
}

}  // namespace

GemmMicrokernel reference_gemm_microkernel(TileShape tile, uint32_t flags) {
  if (flags & jit::kPanelsA) {
    if (tile.nr != 16 || (flags & jit::kStridedA)) return nullptr;
    constexpr auto kShiftedRows = std::make_index_sequence<6>();
    switch (jit::panels_a_lane_of(flags)) {
      case 0: return panels_for_rows<0>(tile.mr, flags, std::make_index_sequence<14>());
      case 1: return panels_for_rows<1>(tile.mr, flags, kShiftedRows);
      case 2: return panels_for_rows<2>(tile.mr, flags, kShiftedRows);
      case 3: return panels_for_rows<3>(tile.mr, flags, kShiftedRows);
      case 4: return panels_for_rows<4>(tile.mr, flags, kShiftedRows);
      case 5: return panels_for_rows<5>(tile.mr, flags, kShiftedRows);
      default: return nullptr;
    }
  }
  if (tile.mr == 6 && tile.nr == 16) return for_flags<6, 16>(flags);
  if (tile.mr == 4 && tile.nr == 24) return for_flags<4, 24>(flags);
  if (tile.mr == 6 && tile.nr == 32) return for_flags<6, 32>(flags);  // AVX-512 (zmm)
  if (tile.mr == 8 && tile.nr == 8) return for_flags<8, 8>(flags);
  // The narrower tiles of the last column panel (see gemm.cc).
  if (tile.mr == 6 && tile.nr == 8) return for_flags<6, 8>(flags);
  if (tile.mr == 4 && tile.nr == 8) return for_flags<4, 8>(flags);
  if (tile.mr == 4 && tile.nr == 16) return for_flags<4, 16>(flags);
  if (tile.mr == 6 && tile.nr == 24) return for_flags<6, 24>(flags);
  return nullptr;
}

}  // namespace nnjit::gemm
