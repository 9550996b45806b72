// Generators of the Winograd transforms (the JIT kernel cache calls them).
#pragma once

#include <cstdint>
#include <vector>

#include "jit/kernel_key.h"

namespace nnjit::winograd {

// AVX2+FMA transforms (the kernel transform also in AVX-512, for keys of Isa::avx512: groups
// of 16 lanes); each returns no bytes for keys it cannot serve.
std::vector<uint8_t> generate_input_transform_avx2(const jit::KernelKey& key);
std::vector<uint8_t> generate_kernel_transform_avx2(const jit::KernelKey& key);
std::vector<uint8_t> generate_output_transform_avx2(const jit::KernelKey& key);

}  // namespace nnjit::winograd
