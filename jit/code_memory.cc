#include "jit/code_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

namespace nnjit::jit {
namespace {

std::atomic<bool> g_simulate_failure{false};

size_t round_to_pages(size_t bytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}

}  // namespace

void simulate_code_memory_failure(bool fail) { g_simulate_failure.store(fail); }

std::unique_ptr<ExecutableCode> ExecutableCode::create(std::span<const uint8_t> bytes) {
  if (bytes.empty() || g_simulate_failure.load()) return nullptr;
  const size_t mapped = round_to_pages(bytes.size());
  void* address = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (address == MAP_FAILED) return nullptr;
  std::memcpy(address, bytes.data(), bytes.size());
#if defined(__aarch64__)
  __builtin___clear_cache(static_cast<char*>(address), static_cast<char*>(address) + bytes.size());
#endif
  if (mprotect(address, mapped, PROT_READ | PROT_EXEC) != 0) {
    munmap(address, mapped);
    return nullptr;
  }
  return std::unique_ptr<ExecutableCode>(new ExecutableCode(address, mapped, bytes.size()));
}

ExecutableCode::~ExecutableCode() { munmap(address_, mapped_); }

}  // namespace nnjit::jit
