// Generators of GEMM microkernels, one per ISA (the kernel cache calls them).
#pragma once

#include <cstdint>
#include <vector>

#include "jit/kernel_key.h"

namespace nnjit::gemm {

// 6x16 AVX2+FMA tile; empty for keys it cannot serve.
std::vector<uint8_t> generate_gemm_avx2(const jit::KernelKey& key);

}  // namespace nnjit::gemm

namespace nnjit::gemm {

// 4-row matrix-vector kernel, fp32 or fp16 (F16C) weights; empty for keys it cannot serve.
std::vector<uint8_t> generate_gemv_avx2(const jit::KernelKey& key);

}  // namespace nnjit::gemm
