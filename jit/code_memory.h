// Executable memory for generated code. Pages are mapped read+write, filled, then
// switched to read+execute: never writable and executable at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace nnjit::jit {

class ExecutableCode {
 public:
  // Copies `bytes` into fresh pages and makes them executable. nullptr if the
  // system refuses the mapping or the protection change.
  static std::unique_ptr<ExecutableCode> create(std::span<const uint8_t> bytes);
  ~ExecutableCode();
  ExecutableCode(const ExecutableCode&) = delete;
  ExecutableCode& operator=(const ExecutableCode&) = delete;

  const void* entry() const { return address_; }
  size_t size() const { return size_; }

 private:
  ExecutableCode(void* address, size_t mapped, size_t size)
      : address_(address), mapped_(mapped), size_(size) {}
  void* address_;
  size_t mapped_;
  size_t size_;
};

// For tests: make every following create() fail as if mmap were refused.
void simulate_code_memory_failure(bool fail);

}  // namespace nnjit::jit
