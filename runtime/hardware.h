// Hardware detection: cpuinfo's view of this CPU, capped by NNJIT_ISA.
#pragma once

#include <optional>
#include <string_view>

#include "kernels/hardware.h"

namespace nnjit {

// Detects the CPU (cpuinfo must be usable; if it is not, the defaults of Hardware
// stand and only reference kernels run). `isa_cap` is the value of NNJIT_ISA.
Hardware detect_hardware(const char* isa_cap);

// Parses an NNJIT_ISA value ("reference", "avx2", "avx512", "neon"); nullopt if unknown.
std::optional<Isa> parse_isa(std::string_view name);

// The best level built into this library for which `detected` has the features.
Isa best_isa(const Hardware& detected);

}  // namespace nnjit
