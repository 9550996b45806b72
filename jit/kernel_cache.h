// The JIT kernel cache: the first caller of a key generates the kernel, callers that
// arrive while it is being generated wait for the same result, later callers pay
// one lookup. Generated code lives until clear() (called by nnp_deinitialize).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "jit/kernel_key.h"

namespace nnjit::jit {

// A generator turns a key into machine code. It may throw or return no bytes when
// it cannot serve the key; the cache then answers nullptr.
using Generator = std::vector<uint8_t> (*)(const KernelKey& key);

// The entry point of the kernel for `key`, generating it with `generate` on the
// first request; nullptr when generation or mapping failed (callers then use the
// reference twin of the kernel). Failures are cached too.
const void* get_kernel(const KernelKey& key, Generator generate);

// Drops every generated kernel. Pointers handed out before are invalid afterwards.
void clear_kernel_cache();

// Number of kernels currently cached (successfully generated).
size_t cached_kernel_count();

}  // namespace nnjit::jit
