#include "jit/kernel_cache.h"

#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <unistd.h>

#include "jit/code_memory.h"

namespace nnjit::jit {
namespace {

using CodeFuture = std::shared_future<std::shared_ptr<ExecutableCode>>;

struct Cache {
  std::mutex mutex;
  std::unordered_map<KernelKey, CodeFuture, KernelKeyHash> entries;
};

Cache& cache() {
  static Cache instance;
  return instance;
}

// NNJIT_DUMP=DIR: write <name>.bin (raw code, for objdump -D -b binary) and <name>.txt.
void dump(const KernelKey& key, const std::vector<uint8_t>& bytes) {
  const char* directory = std::getenv("NNJIT_DUMP");
  if (directory == nullptr || *directory == '\0') return;
  const std::string base = std::string(directory) + "/" + key.name();
  if (FILE* f = std::fopen((base + ".bin").c_str(), "wb")) {
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
  if (FILE* f = std::fopen((base + ".txt").c_str(), "w")) {
    std::fprintf(f, "name %s\nfamily %u\nisa %s\nmr %u\nnr %u\nk_unroll %u\nflags 0x%x\nversion %u\nbytes %zu\n",
                 key.name().c_str(), unsigned(key.family), isa_name(key.isa), unsigned(key.mr),
                 unsigned(key.nr), unsigned(key.k_unroll), unsigned(key.flags),
                 unsigned(key.version), bytes.size());
    std::fclose(f);
  }
}

// NNJIT_PERF_MAP=1: append "<address> <size> <name>" to /tmp/perf-<pid>.map, the file
// `perf report` reads to name JIT code.
void announce_to_perf(const KernelKey& key, const ExecutableCode* code) {
  const char* wanted = std::getenv("NNJIT_PERF_MAP");
  if (code == nullptr || wanted == nullptr || std::string(wanted) != "1") return;
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  const std::string path = "/tmp/perf-" + std::to_string(static_cast<long>(getpid())) + ".map";
  if (FILE* f = std::fopen(path.c_str(), "a")) {
    std::fprintf(f, "%zx %zx %s\n", reinterpret_cast<size_t>(code->entry()), code->size(), key.name().c_str());
    std::fclose(f);
  }
}

std::shared_ptr<ExecutableCode> build(const KernelKey& key, Generator generate) {
  try {
    const std::vector<uint8_t> bytes = generate(key);
    if (bytes.empty()) return nullptr;
    dump(key, bytes);
    std::shared_ptr<ExecutableCode> code(ExecutableCode::create(bytes));
    announce_to_perf(key, code.get());
    return code;
  } catch (...) {
    return nullptr;  // e.g. the emitter ran out of memory: the caller falls back
  }
}

}  // namespace

std::string KernelKey::name() const {
  std::string n;
  switch (family) {
    case KernelFamily::f32_gemm: n = "f32_gemm_"; break;
    case KernelFamily::f32_gemv: n = (flags & kFp16Weights) ? "f16f32_gemv_" : "f32_gemv_"; break;
    case KernelFamily::f32_wt8x8_input: n = "f32_wt8x8_input_"; break;
    case KernelFamily::f32_wt8x8_kernel: n = "f32_wt8x8_kernel_"; break;
    case KernelFamily::f32_wt8x8_kernel_rotated: n = "f32_wt8x8_kernel_rotated_"; break;
    case KernelFamily::f32_wt8x8_output: n = "f32_wt8x8_output_"; break;
    case KernelFamily::f32_wt8x8_output_stride2: n = "f32_wt8x8_output_stride2_"; break;
    // FFT names spell out their key; variant bits as in kernels/fft/transforms.h
    // (1 << 8: conjugate, 1 << 9: pointwise, 1 << 10: masked A, 1 << 11: blocked B).
    case KernelFamily::f32_fft_forward:
    case KernelFamily::f32_fft_inverse: {
      const bool forward = family == KernelFamily::f32_fft_forward;
      n = std::string(forward ? "f32_rfft2d_" : "f32_irfft2d_") + std::to_string(mr) + "x" +
          std::to_string(mr) + (forward ? "_in" : "_out") + std::to_string(nr / 16 + 1) + "x" +
          std::to_string(nr % 16 + 1);
      if (flags & (1u << 8)) n += "_conj";
      if (flags & kBias) n += "_bias";
      if (flags & kRelu) n += "_relu";
      return n + "__" + isa_name(isa);
    }
    case KernelFamily::f32_fft_cmac:
      n = std::string("f32_cmac") + ((flags & (1u << 9)) ? "_pointwise_" : "3m_") + std::to_string(mr) + "x" +
          std::to_string(nr) + "_u" + std::to_string(k_unroll);
      if (flags & kAccumulate) n += "_acc";
      if (flags & (1u << 10)) n += "_maskA";
      if (flags & (1u << 13)) n += "_paired";
      if (flags & (1u << 11)) n += "_blockedB";
      return n + "__" + isa_name(isa);
    case KernelFamily::f32_fft_stage:
    case KernelFamily::f32_fft_unstage:
      n = std::string(family == KernelFamily::f32_fft_stage ? "f32_fft_stage_" : "f32_fft_unstage_") +
          std::to_string(family == KernelFamily::f32_fft_stage ? 8 * mr : nr) + "cols";
      if (flags & (1u << 12)) n += "_masked";  // kernels/fft: column masks
      return n + "__" + isa_name(isa);
  }
  n += std::to_string(mr) + "x" + std::to_string(nr) + "_u" + std::to_string(k_unroll);
  if (flags & kAccumulate) n += "_acc";
  if (flags & kBias) n += "_bias";
  if (flags & kRelu) n += "_relu";
  if (flags & kStridedA) n += "_stridedA";
  if (flags & kPanelsA) n += "_panelsA";
  if (panels_a_lane_of(flags) != 0) n += "_lane" + std::to_string(panels_a_lane_of(flags));
  if (flags & kFarPrefetchB) n += "_farB";
  n += "__";
  n += isa_name(isa);
  return n;
}

const void* get_kernel(const KernelKey& key, Generator generate) {
  Cache& c = cache();
  std::promise<std::shared_ptr<ExecutableCode>> promise;
  CodeFuture future;
  bool generate_here = false;
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.entries.find(key);
    if (it == c.entries.end()) {
      future = promise.get_future().share();
      c.entries.emplace(key, future);
      generate_here = true;
    } else {
      future = it->second;
    }
  }
  if (generate_here) promise.set_value(build(key, generate));
  const std::shared_ptr<ExecutableCode>& code = future.get();
  return code ? code->entry() : nullptr;
}

void clear_kernel_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.entries.clear();
}

size_t cached_kernel_count() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  size_t count = 0;
  for (const auto& [key, future] : c.entries)
    if (future.wait_for(std::chrono::seconds(0)) == std::future_status::ready && future.get()) ++count;
  return count;
}

}  // namespace nnjit::jit
