#include "runtime/hardware.h"

#include <algorithm>
#include <cstdio>

#include <cpuinfo.h>

namespace nnjit {
namespace {

void detect_features(Hardware& hw) {
#if CPUINFO_ARCH_X86 || CPUINFO_ARCH_X86_64
  hw.x86_avx2 = cpuinfo_has_x86_avx2();
  hw.x86_fma3 = cpuinfo_has_x86_fma3();
  hw.x86_f16c = cpuinfo_has_x86_f16c();
  hw.x86_avx512f = cpuinfo_has_x86_avx512f();
  hw.x86_avx512bw = cpuinfo_has_x86_avx512bw();
  hw.x86_avx512dq = cpuinfo_has_x86_avx512dq();
  hw.x86_avx512vl = cpuinfo_has_x86_avx512vl();
#elif CPUINFO_ARCH_ARM64
  hw.arm_neon = cpuinfo_has_arm_neon();
  hw.arm_neon_fma = cpuinfo_has_arm_neon_fma();
  hw.arm_fp16_arith = cpuinfo_has_arm_neon_fp16_arith();
#endif
}

// Bytes of a cache level available to one core: the cache's size divided by the
// number of cores that share it.
size_t per_core_bytes(const cpuinfo_cache* cache) {
  if (cache == nullptr || cache->size == 0) return 0;
  const uint32_t sharing = std::max<uint32_t>(1, cache->processor_count);
  const uint32_t threads_per_core =
      std::max<uint32_t>(1, cpuinfo_get_processors_count() / std::max<uint32_t>(1, cpuinfo_get_cores_count()));
  const uint32_t cores_sharing = std::max<uint32_t>(1, sharing / threads_per_core);
  return cache->size / cores_sharing;
}

void detect_caches(Hardware& hw) {
  if (const size_t l1 = per_core_bytes(cpuinfo_get_l1d_cache(0))) hw.l1d_bytes = l1;
  if (const size_t l2 = per_core_bytes(cpuinfo_get_l2_cache(0))) hw.l2_bytes = l2;
  const cpuinfo_cache* l3 = cpuinfo_get_l3_cache(0);
  hw.l3_bytes = l3 != nullptr ? l3->size : 0;
  hw.cores = std::max<size_t>(1, cpuinfo_get_cores_count());
  hw.logical_processors = std::max<size_t>(1, cpuinfo_get_processors_count());
}

}  // namespace

std::optional<Isa> parse_isa(std::string_view name) {
  for (Isa isa : {Isa::reference, Isa::avx2, Isa::avx512, Isa::neon}) {
    if (name == isa_name(isa)) return isa;
  }
  return std::nullopt;
}

Isa best_isa(const Hardware& hw) {
#if defined(__x86_64__)
  if (hw.x86_avx512f && hw.x86_avx512bw && hw.x86_avx512dq && hw.x86_avx512vl && hw.x86_fma3 &&
      hw.x86_avx2)
    return Isa::avx512;
  if (hw.x86_avx2 && hw.x86_fma3) return Isa::avx2;
#elif defined(__aarch64__)
  if (hw.arm_neon && hw.arm_neon_fma) return Isa::neon;
#endif
  (void)hw;
  return Isa::reference;
}

Hardware detect_hardware(const char* isa_cap) {
  Hardware hw;
  if (cpuinfo_initialize()) {
    detect_features(hw);
    detect_caches(hw);
  }
  hw.isa = best_isa(hw);
  if (isa_cap != nullptr && *isa_cap != '\0') {
    const std::optional<Isa> cap = parse_isa(isa_cap);
    if (!cap) {
      std::fprintf(stderr, "nnjit: ignoring unknown NNJIT_ISA=%s\n", isa_cap);
    } else if (isa_includes(hw.isa, *cap)) {
      hw.isa = *cap;  // lower the level; a cap above what the CPU has changes nothing
    }
  }
  return hw;
}

}  // namespace nnjit
