// Choosing a GEMM microkernel: JIT code where a generator exists, else the reference twin.
#include "kernels/gemm/microkernel.h"

#include "jit/kernel_cache.h"
#include "kernels/gemm/microkernel_generators.h"

namespace nnjit::gemm {
namespace {

constexpr uint8_t kUnroll = 4;
constexpr uint32_t kEpilogueFlags = jit::kAccumulate | jit::kBias | jit::kRelu;

}  // namespace

TileShape microkernel_tile(Isa isa, size_t m, size_t n) {
  if (generator_isa(isa) != Isa::avx2) return {8, 8};
  // AVX-512: 6x32 in zmm registers (12 accumulators, 8 loads per 12 FMAs) unless the
  // product is narrower than the tile. Zen 5 (two 512-bit FMAs per cycle), resnet50.1x1
  // (64 x 3136 x 256): batch 1 102 -> 179 GFLOPS on one thread, 203 -> 345 on two; batch 16
  // 84 -> 130 and 163 -> 253 (vs 4x24 ymm). On Zen 4 (512-bit FMAs at half rate) expect no
  // more than the fewer instructions give: not measured.
  if (isa == Isa::avx512 && (n == 0 || n >= 32)) return {6, 32};
  constexpr TileShape k6x16{6, 16}, k4x24{4, 24};
  // Both use 12 accumulators. Without n (A packed ahead), only the rows count and 4x24
  // wins ties (it loads 7 values per 12 FMAs, 6x16 loads 8). With n, the last column
  // panel runs a tile narrowed to whole vectors (gemm.cc), which loads more per FMA:
  // its columns count 5/4; and 4x24 must save more than 1% of the padded work, as
  // 6x16 measured about 3% faster on large products (sgemm 2048).
  auto padded = [&](TileShape t) {
    const size_t columns = 4 * (n / t.nr * t.nr) + 5 * ((n % t.nr + 7) / 8 * 8);
    return ((m + t.mr - 1) / t.mr * t.mr) * (n == 0 ? 1 : columns);
  };
  if (n == 0) return padded(k6x16) < padded(k4x24) ? k6x16 : k4x24;
  return padded(k4x24) * 101 < padded(k6x16) * 100 ? k4x24 : k6x16;
}

jit::KernelKey gemm_microkernel_key(Isa isa, TileShape tile, uint32_t flags) {
  jit::KernelKey key;
  key.family = jit::KernelFamily::f32_gemm;
  // Panels-A tiles (zmm) and tiles beyond the 16 ymm registers of AVX2 are generated for
  // AVX-512's 32 registers.
  const bool wide = (flags & jit::kPanelsA) || tile_vector_registers(tile) > 16;
  key.isa = isa == Isa::avx512 && wide ? Isa::avx512 : generator_isa(isa);
  key.mr = static_cast<uint8_t>(tile.mr);
  key.nr = static_cast<uint8_t>(tile.nr);
  key.k_unroll = kUnroll;
  // Accumulate already initialises from C; bias would be ignored, so it is not part of the key.
  const uint32_t epilogue = (flags & jit::kAccumulate) ? (flags & (jit::kAccumulate | jit::kRelu))
                                                      : (flags & kEpilogueFlags);
  key.flags = epilogue | (flags & (jit::kStridedA | jit::kPanelsA));
  if (flags & jit::kPanelsA) key.flags |= flags & (jit::kFarPrefetchB | jit::kPanelsALaneMask);
  return key;
}

GemmMicrokernel jit_gemm_microkernel(Isa isa, TileShape tile, uint32_t flags) {
  const jit::KernelKey key = gemm_microkernel_key(isa, tile, flags);
  jit::Generator generator = nullptr;
#if NNJIT_X64_JIT
  if (key.isa == Isa::avx2 || key.isa == Isa::avx512) generator = generate_gemm_avx2;
#endif
  if (generator == nullptr) return nullptr;
  return reinterpret_cast<GemmMicrokernel>(const_cast<void*>(jit::get_kernel(key, generator)));
}

GemmMicrokernel gemm_microkernel(Isa isa, TileShape tile, uint32_t flags) {
  if (GemmMicrokernel kernel = jit_gemm_microkernel(isa, tile, flags)) return kernel;
  return reference_gemm_microkernel(tile, flags);
}

}  // namespace nnjit::gemm
