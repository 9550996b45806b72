// The hardware description every kernel reads: filled once by nnp_initialize
// (runtime/hardware.cc, from cpuinfo) and handed to kernels as an argument.
// This header is plain data so that every layer (runtime, kernels, jit) can share it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nnjit {

// Instruction-set levels kernels are written for. On one architecture the levels
// form a chain (x86-64: reference < avx2 < avx512; AArch64: reference < neon); a
// kernel written for a level runs on every higher level of the same chain.
enum class Isa : uint8_t { reference = 0, avx2 = 1, avx512 = 2, neon = 3 };
inline constexpr size_t kIsaCount = 4;

// "reference", "avx2", "avx512", "neon".
inline const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::reference: return "reference";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
    case Isa::neon: return "neon";
  }
  return "unknown";
}

// True if kernels written for `level` run where `available` is the best level.
inline bool isa_includes(Isa available, Isa level) {
  if (level == Isa::reference || level == available) return true;
  // x86-64 chain: avx512 machines run avx2 kernels.
  return available == Isa::avx512 && level == Isa::avx2;
}

// The level whose code generators serve `isa`: AVX-512 machines run the AVX2
// generators (AVX-512 adds no FLOPS on Zen 4), except where a kernel asks for Isa::avx512
// keys itself: the Winograd multiply's zmm tiles (Zen 5 has full-width AVX-512: twice the
// AVX2 FMA peak) and tiles that need AVX-512VL's 32 ymm registers.
inline Isa generator_isa(Isa isa) { return isa == Isa::avx512 ? Isa::avx2 : isa; }

struct Hardware {
  // Features detected on this CPU (false where the architecture lacks them).
  bool x86_avx2 = false;
  bool x86_fma3 = false;
  bool x86_f16c = false;
  bool x86_avx512f = false;
  bool x86_avx512bw = false;
  bool x86_avx512dq = false;
  bool x86_avx512vl = false;
  bool arm_neon = false;
  bool arm_neon_fma = false;
  bool arm_fp16_arith = false;

  // Cache sizes in bytes as seen by one core: L1 data and L2 (divided by the
  // number of cores sharing it), L3 total (0 when there is none).
  size_t l1d_bytes = 32 * 1024;
  size_t l2_bytes = 256 * 1024;
  size_t l3_bytes = 0;
  size_t cores = 1;
  size_t logical_processors = 1;
  // One last-level cache (cpuinfo's L3) serves every processor, so a line one core wrote
  // reaches another from it; false where that is unknown (no cache reported: the legacy
  // leaves say nothing about sharing) or where processors sit on separate caches.
  bool shared_last_level_cache = false;

  // The best instruction set that is built into the library, detected on this
  // CPU and allowed by the NNJIT_ISA environment variable.
  Isa isa = Isa::reference;

  // True if kernels written for `level` may run here.
  bool can_run(Isa level) const { return isa_includes(isa, level); }
};

}  // namespace nnjit
