// Hands each running task one of `count` scratch buffers (count <= 64). With a thread
// pool of `count` threads at most `count` tasks run at once, so acquire() finds a free
// slot at once; the slot index picks the task's part of the workspace.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace nnjit {

class SlotPool {
 public:
  explicit SlotPool(size_t count) : free_(count >= 64 ? ~uint64_t{0} : (uint64_t{1} << count) - 1) {}

  size_t acquire() {
    uint64_t bits = free_.load(std::memory_order_relaxed);
    for (;;) {
      if (bits == 0) {
        bits = free_.load(std::memory_order_relaxed);
        continue;
      }
      const int slot = __builtin_ctzll(bits);
      if (free_.compare_exchange_weak(bits, bits & ~(uint64_t{1} << slot), std::memory_order_acquire))
        return static_cast<size_t>(slot);
    }
  }

  void release(size_t slot) { free_.fetch_or(uint64_t{1} << slot, std::memory_order_release); }

 private:
  std::atomic<uint64_t> free_;
};

}  // namespace nnjit
