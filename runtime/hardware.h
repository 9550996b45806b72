// Hardware detection: cpuinfo's view of this CPU, capped by NNJIT_ISA.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "kernels/hardware.h"

namespace nnjit {

// Detects the CPU (cpuinfo must be usable; if it is not, the defaults of Hardware
// stand and only reference kernels run). `isa_cap` is the value of NNJIT_ISA.
Hardware detect_hardware(const char* isa_cap);

// Cache sizes (bytes, 0 = not reported) decoded from AMD's legacy CPUID leaves, used when
// cpuinfo finds no cache descriptors (seen under KVM on AMD EPYC, where leaf 0x8000001D is
// empty and cpuinfo reports no caches at all): 0x80000005 ECX[31:24] is the L1d in KiB and
// 0x80000006 ECX[31:16] the L2 in KiB, both per core; 0x80000006 EDX[31:18] is the L3 in
// 512 KiB units, but the whole package's (a 16-CCD EPYC reports 508 MiB), so it is capped at
// kLegacyL3CapBytes, the L3 one core complex shares on Zen 4 and Zen 5.
struct LegacyCaches {
  size_t l1d_bytes, l2_bytes, l3_bytes;
};
inline constexpr size_t kLegacyL3CapBytes = size_t{32} << 20;
LegacyCaches decode_amd_legacy_caches(uint32_t ecx_80000005, uint32_t ecx_80000006, uint32_t edx_80000006);

// Parses an NNJIT_ISA value ("reference", "avx2", "avx512", "neon"); nullopt if unknown.
std::optional<Isa> parse_isa(std::string_view name);

// The best level built into this library for which `detected` has the features.
Isa best_isa(const Hardware& detected);

}  // namespace nnjit
