// JIT layer: executable memory is never writable, the cache generates once per key even
// under concurrent first calls, failures fall back, and NNJIT_DUMP writes the code.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "jit/code_memory.h"
#include "jit/kernel_cache.h"
#if defined(__x86_64__)
#include "jit/x64/x64_generator.h"
#endif
#include "kernels/gemm/microkernel.h"
#include "runtime/hardware.h"

namespace nnjit::jit {
namespace {

#if defined(__x86_64__)
std::atomic<int> g_generations{0};

// A kernel that returns the key's version: int f(void).
std::vector<uint8_t> generate_constant(const KernelKey& key) {
  ++g_generations;
  x64::X64Generator g;
  g.mov(g.eax, key.version);
  g.ret();
  return g.bytes();
}

KernelKey test_key(uint16_t version) {
  KernelKey key;
  key.family = KernelFamily::f32_gemv;
  key.isa = Isa::avx2;
  key.mr = 1;
  key.nr = 1;
  key.flags = 0x80000000u;  // a flag no real kernel uses
  key.version = version;
  return key;
}

#endif

int call(const void* entry) { return reinterpret_cast<int (*)()>(const_cast<void*>(entry))(); }

#if defined(__x86_64__)
std::string maps() {
  std::ifstream f("/proc/self/maps");
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(Jit, GeneratedCodeRunsAndNoMappingIsWritableAndExecutable) {
  const void* entry = get_kernel(test_key(7), generate_constant);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(call(entry), 7);
  // Real kernels too.
  const Hardware hw = detect_hardware(nullptr);
  gemm::gemm_microkernel(hw.isa, gemm::microkernel_tile(hw.isa, 6), kRelu);
  const std::string m = maps();
  EXPECT_EQ(m.find("rwxp"), std::string::npos) << m;
  // The page holding the kernel is read+execute.
  const auto address = reinterpret_cast<uintptr_t>(entry);
  std::istringstream lines(m);
  std::string line;
  bool found = false;
  while (std::getline(lines, line)) {
    uintptr_t lo = 0, hi = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &lo, &hi, perms) == 3 && lo <= address && address < hi) {
      EXPECT_STREQ(perms, "r-xp");
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST(Jit, ConcurrentFirstCallersShareOneGeneration) {
  const KernelKey key = test_key(11);
  const int before = g_generations.load();
  std::vector<const void*> entries(8, nullptr);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < entries.size(); ++t)
    threads.emplace_back([&, t] { entries[t] = get_kernel(key, generate_constant); });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(g_generations.load() - before, 1);
  for (const void* e : entries) EXPECT_EQ(e, entries[0]);
  EXPECT_EQ(call(entries[0]), 11);
  // Later callers only look up.
  EXPECT_EQ(get_kernel(key, generate_constant), entries[0]);
  EXPECT_EQ(g_generations.load() - before, 1);
}

TEST(Jit, MappingFailureFallsBackToReferenceKernel) {
  clear_kernel_cache();
  simulate_code_memory_failure(true);
  EXPECT_EQ(get_kernel(test_key(13), generate_constant), nullptr);
  const Hardware hw = detect_hardware(nullptr);
  const gemm::TileShape tile = gemm::microkernel_tile(hw.isa, 6);
  const gemm::GemmMicrokernel kernel = gemm::gemm_microkernel(hw.isa, tile, kBias);
  EXPECT_EQ(kernel, gemm::reference_gemm_microkernel(tile, kBias));
  simulate_code_memory_failure(false);
  clear_kernel_cache();
  EXPECT_EQ(cached_kernel_count(), 0u);
  EXPECT_NE(get_kernel(test_key(13), generate_constant), nullptr);
  EXPECT_EQ(cached_kernel_count(), 1u);
}

TEST(Jit, GeneratorExceptionsFallBack) {
  auto throwing = [](const KernelKey&) -> std::vector<uint8_t> { throw std::bad_alloc(); };
  EXPECT_EQ(get_kernel(test_key(17), throwing), nullptr);
}

TEST(Jit, DumpWritesCodeAndDescriptor) {
  char directory[] = "/tmp/nnjit_dump_XXXXXX";
  ASSERT_NE(mkdtemp(directory), nullptr);
  setenv("NNJIT_DUMP", directory, 1);
  const KernelKey key = test_key(19);
  ASSERT_NE(get_kernel(key, generate_constant), nullptr);
  unsetenv("NNJIT_DUMP");
  const std::string base = std::string(directory) + "/" + key.name();
  std::ifstream code(base + ".bin", std::ios::binary | std::ios::ate);
  ASSERT_TRUE(code.good());
  EXPECT_EQ(static_cast<size_t>(code.tellg()), generate_constant(key).size());
  std::ifstream descriptor(base + ".txt");
  std::string first_line;
  std::getline(descriptor, first_line);
  EXPECT_EQ(first_line, "name " + key.name());
  std::remove((base + ".bin").c_str());
  std::remove((base + ".txt").c_str());
  std::remove(directory);
}
#endif

TEST(Jit, KeyNamesCarryShapeEpilogueAndIsa) {
  KernelKey key;
  key.family = KernelFamily::f32_gemm;
  key.isa = Isa::avx2;
  key.mr = 6;
  key.nr = 16;
  key.k_unroll = 4;
  key.flags = kBias | kRelu;
  EXPECT_EQ(key.name(), "f32_gemm_6x16_u4_bias_relu__avx2");
  KernelKey other = key;
  other.flags = kBias;
  EXPECT_FALSE(key == other);
  EXPECT_NE(KernelKeyHash{}(key), KernelKeyHash{}(other));
}

}  // namespace
}  // namespace nnjit::jit
