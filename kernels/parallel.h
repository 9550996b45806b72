// Lambda-friendly wrappers over the pthreadpool C API, shared by every kernel family.
// A NULL pool runs the loop on the calling thread.
#pragma once

#include <cstddef>
#include <type_traits>

#include <pthreadpool.h>

namespace nnjit {

// body(i) for i in [0, range).
template <class Body>
void parallel_for(pthreadpool_t pool, size_t range, Body&& body) {
  using B = std::remove_reference_t<Body>;
  pthreadpool_parallelize_1d(
      pool, [](void* context, size_t i) { (*static_cast<B*>(context))(i); },
      const_cast<void*>(static_cast<const void*>(&body)), range, 0);
}

// body(i, j) for i in [0, range_i), j in [0, range_j).
template <class Body>
void parallel_for_2d(pthreadpool_t pool, size_t range_i, size_t range_j, Body&& body) {
  using B = std::remove_reference_t<Body>;
  pthreadpool_parallelize_2d(
      pool, [](void* context, size_t i, size_t j) { (*static_cast<B*>(context))(i, j); },
      const_cast<void*>(static_cast<const void*>(&body)), range_i, range_j, 0);
}

// body(start, extent) over consecutive tiles of `tile` indices.
template <class Body>
void parallel_for_tiles(pthreadpool_t pool, size_t range, size_t tile, Body&& body) {
  using B = std::remove_reference_t<Body>;
  pthreadpool_parallelize_1d_tile_1d(
      pool,
      [](void* context, size_t start, size_t extent) { (*static_cast<B*>(context))(start, extent); },
      const_cast<void*>(static_cast<const void*>(&body)), range, tile, 0);
}

}  // namespace nnjit
