#include "runtime/hardware.h"

#include <algorithm>
#include <cstdio>

#include <cpuinfo.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

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

// What the legacy leaves report on an AMD CPU (all zeros elsewhere).
LegacyCaches legacy_caches() {
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  __cpuid(0, eax, ebx, ecx, edx);
  const bool amd = ebx == 0x68747541 && edx == 0x69746e65 && ecx == 0x444d4163;  // "AuthenticAMD"
  if (amd && __get_cpuid_max(0x80000000, nullptr) >= 0x80000006) {
    unsigned ecx5 = 0, ecx6 = 0, edx6 = 0;
    __cpuid(0x80000005, eax, ebx, ecx5, edx);
    __cpuid(0x80000006, eax, ebx, ecx6, edx6);
    return decode_amd_legacy_caches(ecx5, ecx6, edx6);
  }
#endif
  return {0, 0, 0};
}

void detect_caches(Hardware& hw) {
  const cpuinfo_cache* l3 = cpuinfo_get_l3_cache(0);
  size_t l1 = per_core_bytes(cpuinfo_get_l1d_cache(0)), l2 = per_core_bytes(cpuinfo_get_l2_cache(0));
  hw.l3_bytes = l3 != nullptr ? l3->size : 0;
  hw.shared_last_level_cache = l3 != nullptr && l3->size != 0 && cpuinfo_get_processors_count() > 1 &&
                               l3->processor_count >= cpuinfo_get_processors_count();
  if (l1 == 0 && l2 == 0 && hw.l3_bytes == 0) {
    const LegacyCaches legacy = legacy_caches();
    l1 = legacy.l1d_bytes;
    l2 = legacy.l2_bytes;
    hw.l3_bytes = legacy.l3_bytes;
  }
  if (l1 != 0) hw.l1d_bytes = l1;
  if (l2 != 0) hw.l2_bytes = l2;
  hw.cores = std::max<size_t>(1, cpuinfo_get_cores_count());
  hw.logical_processors = std::max<size_t>(1, cpuinfo_get_processors_count());
}

}  // namespace

LegacyCaches decode_amd_legacy_caches(uint32_t ecx_80000005, uint32_t ecx_80000006, uint32_t edx_80000006) {
  constexpr size_t kKiB = 1024;
  return {size_t{ecx_80000005 >> 24} * kKiB, size_t{ecx_80000006 >> 16} * kKiB,
          std::min(size_t{edx_80000006 >> 18} * 512 * kKiB, kLegacyL3CapBytes)};
}

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
