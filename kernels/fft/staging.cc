#include "kernels/fft/staging.h"

#include <algorithm>
#include <cstring>

#include "jit/kernel_cache.h"
#include "kernels/fft/generators.h"
#include "kernels/fft/transforms.h"

namespace nnjit::fft {
namespace {

const float* at(const float* base, ptrdiff_t bytes) {
  return reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(base) + static_cast<uintptr_t>(bytes));
}
float* at(float* base, ptrdiff_t bytes) {
  return reinterpret_cast<float*>(reinterpret_cast<uintptr_t>(base) + static_cast<uintptr_t>(bytes));
}

// masks[c] = -1 for columns c in [begin, end) of 8 * chunks; true if all are set.
bool column_masks(size_t chunks, ptrdiff_t begin, ptrdiff_t end, int32_t* masks) {
  bool all = true;
  for (ptrdiff_t c = 0; c < static_cast<ptrdiff_t>(chunks * kLanes); ++c) {
    masks[c] = c >= begin && c < end ? -1 : 0;
    all = all && masks[c] != 0;
  }
  return all;
}

}  // namespace

void reference_stage(size_t chunks, bool masked, const StageArgs& p) {
  for (size_t r = 0; r < p.rows; ++r) {
    float* dst = at(p.dst, static_cast<ptrdiff_t>(r * p.dst_row));
    for (size_t c = 0; c < chunks * kLanes; ++c) {
      const bool read = !masked || p.masks[c] < 0;
      for (size_t lane = 0; lane < kLanes; ++lane)
        dst[c * kLanes + lane] = read ? at(p.src, static_cast<ptrdiff_t>(r * p.src_row + lane * p.plane))[c] : 0.0f;
    }
  }
}

void reference_unstage(size_t columns, const UnstageArgs& p) {
  for (size_t r = 0; r < p.rows; ++r) {
    const float* src = at(p.src, static_cast<ptrdiff_t>(r * p.src_row));
    for (size_t c = 0; c < columns; ++c) {
      for (size_t lane = 0; lane < kLanes; ++lane)
        at(p.dst, static_cast<ptrdiff_t>(r * p.dst_row + lane * p.plane))[c] = src[c * kLanes + lane];
    }
  }
}

jit::KernelKey stage_key(size_t chunks, bool masked, Isa isa) {
  jit::KernelKey key;
  key.family = jit::KernelFamily::f32_fft_stage;
  key.isa = generator_isa(isa);
  key.mr = static_cast<uint8_t>(chunks);
  key.nr = kLanes;
  key.flags = masked ? kColumnMasks : 0;
  return key;
}

jit::KernelKey unstage_key(size_t columns, Isa isa) {
  jit::KernelKey key;
  key.family = jit::KernelFamily::f32_fft_unstage;
  key.isa = generator_isa(isa);
  key.mr = static_cast<uint8_t>((columns + kLanes - 1) / kLanes);
  key.nr = static_cast<uint8_t>(columns);
  return key;
}

StageFn jit_stage(size_t chunks, bool masked, Isa isa) {
  const jit::KernelKey key = stage_key(chunks, masked, isa);
  jit::Generator generator = nullptr;
#if NNJIT_X64_JIT
  if (key.isa == Isa::avx2) generator = generate_stage_avx2;
#endif
  if (generator == nullptr) return nullptr;
  return reinterpret_cast<StageFn>(const_cast<void*>(jit::get_kernel(key, generator)));
}

UnstageFn jit_unstage(size_t columns, Isa isa) {
  const jit::KernelKey key = unstage_key(columns, isa);
  jit::Generator generator = nullptr;
#if NNJIT_X64_JIT
  if (key.isa == Isa::avx2) generator = generate_stage_avx2;
#endif
  if (generator == nullptr) return nullptr;
  return reinterpret_cast<UnstageFn>(const_cast<void*>(jit::get_kernel(key, generator)));
}

TileStager::TileStager(size_t chunks, Isa isa)
    : chunks_(chunks), full_(jit_stage(chunks, false, isa)), masked_(jit_stage(chunks, true, isa)) {}

void TileStager::operator()(const float* image, size_t height, size_t width, size_t lanes, ptrdiff_t y0,
                            ptrdiff_t x0, size_t rows, size_t cols, float* dst, size_t plane) const {
  const size_t row_floats = chunks_ * kLanes * kLanes;
  const ptrdiff_t r_begin = std::clamp<ptrdiff_t>(-y0, 0, static_cast<ptrdiff_t>(rows));
  const ptrdiff_t r_end =
      std::clamp<ptrdiff_t>(static_cast<ptrdiff_t>(height) - y0, r_begin, static_cast<ptrdiff_t>(rows));
  const ptrdiff_t c_begin = std::max<ptrdiff_t>(0, -x0);
  const ptrdiff_t c_end = std::min<ptrdiff_t>(static_cast<ptrdiff_t>(cols), static_cast<ptrdiff_t>(width) - x0);
  std::memset(dst, 0, static_cast<size_t>(r_begin) * row_floats * sizeof(float));
  std::memset(dst + static_cast<size_t>(r_end) * row_floats, 0,
              (rows - static_cast<size_t>(r_end)) * row_floats * sizeof(float));
  float* first = dst + static_cast<size_t>(r_begin) * row_floats;
  const size_t count = static_cast<size_t>(r_end - r_begin);
  if (count == 0) return;
  if (c_begin >= c_end) {
    std::memset(first, 0, count * row_floats * sizeof(float));
    return;
  }
  if (plane == 0) plane = height * width;
  if (lanes < kLanes) {
    std::memset(first, 0, count * row_floats * sizeof(float));
    for (size_t lane = 0; lane < lanes; ++lane) {
      for (size_t r = 0; r < count; ++r) {
        const float* src = image + lane * plane + static_cast<size_t>(y0 + r_begin + static_cast<ptrdiff_t>(r)) * width;
        float* row = first + r * row_floats + lane;
        for (ptrdiff_t c = c_begin; c < c_end; ++c) row[static_cast<size_t>(c) * kLanes] = src[x0 + c];
      }
    }
    return;
  }
  alignas(32) int32_t masks[kMaxStageChunks * kLanes];
  const bool all = column_masks(chunks_, c_begin, c_end, masks);
  StageArgs args;
  // Tile column 0 of the first copied row; may lie before the row (those columns are masked).
  args.src = at(image, (static_cast<ptrdiff_t>(y0 + r_begin) * static_cast<ptrdiff_t>(width) + x0) *
                           static_cast<ptrdiff_t>(sizeof(float)));
  args.plane = plane * sizeof(float);
  args.src_row = width * sizeof(float);
  args.dst = first;
  args.dst_row = row_floats * sizeof(float);
  args.rows = count;
  args.masks = masks;
  const StageFn fn = all ? full_ : masked_;
  if (fn != nullptr) fn(&args);
  else reference_stage(chunks_, !all, args);
}

void TileStager::prefetch(const float* image, size_t height, size_t width, size_t lanes, ptrdiff_t y0,
                          ptrdiff_t x0, size_t rows, size_t cols) {
  const ptrdiff_t r_begin = std::max<ptrdiff_t>(0, y0);
  const ptrdiff_t r_end = std::min<ptrdiff_t>(y0 + static_cast<ptrdiff_t>(rows), static_cast<ptrdiff_t>(height));
  const ptrdiff_t c_begin = std::max<ptrdiff_t>(0, x0);
  const ptrdiff_t c_end = std::min<ptrdiff_t>(x0 + static_cast<ptrdiff_t>(cols), static_cast<ptrdiff_t>(width));
  if (r_begin >= r_end || c_begin >= c_end) return;
  const size_t plane = height * width;
  for (size_t lane = 0; lane < lanes; ++lane) {
    for (ptrdiff_t r = r_begin; r < r_end; ++r) {
      const float* row = image + lane * plane + static_cast<size_t>(r) * width;
      for (ptrdiff_t c = c_begin; c < c_end; c += 16) __builtin_prefetch(row + c);
      __builtin_prefetch(row + c_end - 1);
    }
  }
}

void TileUnstager::prefetch(float* image, size_t rows, size_t cols, size_t lanes, size_t y0, size_t x0,
                            size_t height, size_t width) {
  const size_t r_end = std::min(rows, height - y0);
  const size_t c_end = std::min(cols, width - x0);
  if (r_end == 0 || c_end == 0) return;
  const size_t plane = height * width;
  for (size_t lane = 0; lane < lanes; ++lane) {
    for (size_t r = 0; r < r_end; ++r) {
      float* row = image + lane * plane + (y0 + r) * width + x0;
      for (size_t c = 0; c < c_end; c += 16) __builtin_prefetch(row + c, 1);
      __builtin_prefetch(row + c_end - 1, 1);
    }
  }
}

TileUnstager::TileUnstager(size_t chunks, Isa isa) : chunks_(chunks) {
  // Every width a tile of this many chunks can be cut to at the image's right edge.
  for (size_t columns = 1; columns <= chunks * kLanes; ++columns) by_columns_[columns] = jit_unstage(columns, isa);
}

void TileUnstager::operator()(const float* src, size_t rows, size_t cols, size_t lanes, size_t y0, size_t x0,
                              size_t height, size_t width, float* image) const {
  const size_t row_floats = chunks_ * kLanes * kLanes;
  const size_t r_end = std::min(rows, height - y0);
  const size_t c_end = std::min(cols, width - x0);
  const size_t plane = height * width;
  if (lanes < kLanes) {
    for (size_t lane = 0; lane < lanes; ++lane) {
      for (size_t r = 0; r < r_end; ++r) {
        float* dst = image + lane * plane + (y0 + r) * width + x0;
        const float* row = src + r * row_floats + lane;
        for (size_t c = 0; c < c_end; ++c) dst[c] = row[c * kLanes];
      }
    }
    return;
  }
  if (r_end == 0 || c_end == 0) return;
  UnstageArgs args;
  args.src = src;
  args.src_row = row_floats * sizeof(float);
  args.dst = image + y0 * width + x0;
  args.plane = plane * sizeof(float);
  args.dst_row = width * sizeof(float);
  args.rows = r_end;
  args.masks = nullptr;
  if (const UnstageFn fn = by_columns_[c_end]) fn(&args);
  else reference_unstage(c_end, args);
}

}  // namespace nnjit::fft
