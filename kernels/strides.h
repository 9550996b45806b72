// Strides of buffers whose rows a kernel writes or reads together.
#pragma once

#include <cstddef>

namespace nnjit {

// A stride of at least `floats` that is an odd number of 64-byte lines: rows written or
// read together (the positions of a Winograd tile, the slots of an FFT tile) then fall into
// different L1 sets; with a multiple of 4 KiB they would all fall into one.
constexpr size_t odd_line_stride(size_t floats) {
  constexpr size_t kLine = 64 / sizeof(float);
  const size_t lines = (floats + kLine - 1) / kLine;
  return (lines | 1) * kLine;
}

}  // namespace nnjit
