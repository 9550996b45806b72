// Staging between NCHW images and the channel-interleaved tiles the transforms read
// and write (transforms.h): element (r, c) of 8 channels' tiles is 8 consecutive floats.
//
// Full blocks of 8 channels go through an 8x8 transpose kernel (generated AVX2 code, or its
// reference twin), rows of 8-column chunks at a time, with column masks at the image's left
// and right edges (masked lanes are neither read nor written); rows outside the image are
// zero-filled. Partial channel blocks use plain loops.
#pragma once

#include <cstddef>
#include <cstdint>

#include "jit/kernel_key.h"
#include "kernels/hardware.h"

namespace nnjit::fft {

inline constexpr uint32_t kColumnMasks = 1u << 12;  // stage: columns under masks
inline constexpr size_t kMaxStageChunks = 2;          // 16 columns

// All strides in bytes. Column c of chunk j is masks[8 j + c] (negative: copied).
struct StageArgs {
  const float* src;  // channel 0 of the first row, at tile column 0 (masked columns are not read)
  size_t plane;      // between channels
  size_t src_row;    // between image rows
  float* dst;        // the first tile row; 8 * chunks columns of 8 floats
  size_t dst_row;
  size_t rows;
  const int32_t* masks;
};

struct UnstageArgs {
  const float* src;  // the first tile row
  size_t src_row;
  float* dst;        // channel 0 of the first image row, at tile column 0 (masked columns untouched)
  size_t plane;
  size_t dst_row;
  size_t rows;
  const int32_t* masks;
};

using StageFn = void (*)(const StageArgs* args);
using UnstageFn = void (*)(const UnstageArgs* args);

// Staging reads 8 * chunks columns per row (masked ones excepted); unstaging writes the
// first `columns` (1..16) of each row (masks unused).
void reference_stage(size_t chunks, bool masked, const StageArgs& args);
void reference_unstage(size_t columns, const UnstageArgs& args);
StageFn jit_stage(size_t chunks, bool masked, Isa isa);
UnstageFn jit_unstage(size_t columns, Isa isa);
jit::KernelKey stage_key(size_t chunks, bool masked, Isa isa);
jit::KernelKey unstage_key(size_t columns, Isa isa);

// Copies the (rows x cols) window at (y0, x0) of `lanes` channel planes (height x width)
// into dst[r][c][lane], zeros outside the image and for lanes >= lanes. dst rows hold
// `chunks` * 8 columns (cols <= 8 * chunks; columns >= cols are zero).
class TileStager {
 public:
  TileStager(size_t chunks, Isa isa);
  // `plane` (floats between channels) defaults to height * width; kernels pass their own.
  void operator()(const float* image, size_t height, size_t width, size_t lanes, ptrdiff_t y0, ptrdiff_t x0,
                  size_t rows, size_t cols, float* dst, size_t plane = 0) const;
  // Prefetches what a later call with these arguments reads (the row segments of each
  // channel: too many streams for the hardware prefetchers).
  static void prefetch(const float* image, size_t height, size_t width, size_t lanes, ptrdiff_t y0, ptrdiff_t x0,
                       size_t rows, size_t cols);

 private:
  size_t chunks_;
  StageFn full_ = nullptr, masked_ = nullptr;
};

// Writes src[r][c][lane] (rows of `chunks` * 8 columns) to image[lane][y0 + r][x0 + c] for
// r < rows, c < cols, lane < lanes, inside the image only (y0 < height, x0 < width).
class TileUnstager {
 public:
  TileUnstager(size_t chunks, Isa isa);
  void operator()(const float* src, size_t rows, size_t cols, size_t lanes, size_t y0, size_t x0, size_t height,
                  size_t width, float* image) const;
  // Prefetches (for writing) what a later call with these arguments writes.
  static void prefetch(float* image, size_t rows, size_t cols, size_t lanes, size_t y0, size_t x0, size_t height,
                       size_t width);

 private:
  size_t chunks_;
  UnstageFn by_columns_[kMaxStageChunks * 8 + 1] = {};  // [columns]
};

}  // namespace nnjit::fft
