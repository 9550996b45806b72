// Generators of the FFT family's JIT kernels, one per ISA (the kernel cache calls them).
#pragma once

#include <cstdint>
#include <vector>

#include "jit/kernel_key.h"

namespace nnjit::fft {

// Forward and inverse tile transforms (families f32_fft_forward / f32_fft_inverse), AVX2+FMA.
// Empty for keys it cannot serve.
std::vector<uint8_t> generate_transform_avx2(const jit::KernelKey& key);

// Complex multiply-accumulate microkernel (family f32_fft_cmac), AVX2+FMA.
std::vector<uint8_t> generate_cmac_avx2(const jit::KernelKey& key);

// Staging transposes (families f32_fft_stage / f32_fft_unstage), AVX2.
std::vector<uint8_t> generate_stage_avx2(const jit::KernelKey& key);

}  // namespace nnjit::fft
