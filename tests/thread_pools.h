// Thread pools shared by the kernel tests: NULL and pools of 1, 2, 3 and 4 threads,
// created once per test binary.
#pragma once

#include <memory>
#include <vector>

#include <pthreadpool.h>

namespace test_pools {

struct PoolDeleter {
  void operator()(pthreadpool_t pool) const { pthreadpool_destroy(pool); }
};
using Pool = std::unique_ptr<pthreadpool, PoolDeleter>;

inline const std::vector<pthreadpool_t>& pools() {
  static std::vector<Pool> owned;
  static std::vector<pthreadpool_t> list = [] {
    std::vector<pthreadpool_t> l{nullptr};
    for (size_t t : {1, 2, 3, 4}) {
      owned.emplace_back(pthreadpool_create(t));
      l.push_back(owned.back().get());
    }
    return l;
  }();
  return list;
}

}  // namespace test_pools
