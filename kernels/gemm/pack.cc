#include "kernels/gemm/pack.h"

#include <algorithm>
#include <cstring>

namespace nnjit::gemm {
namespace {

// A whole panel of MR rows (MR a compile-time constant): k outer, so that the MR rows are
// read side by side (MR streams from memory at once) and the panel is written in order.
template <size_t MR>
void pack_whole_rows(const float* a, size_t stride, size_t kc, float* panel) {
  const float* rows[MR];
  for (size_t r = 0; r < MR; ++r) rows[r] = a + r * stride;
  for (size_t k = 0; k < kc; ++k)
    for (size_t r = 0; r < MR; ++r) panel[k * MR + r] = rows[r][k];
}

// panel[k * mr + r] = A[i0 + r][k0 + k], zero for rows past m.
void pack_rows(const RowMajorA& a, size_t i0, size_t k0, size_t kc, float* panel) {
  const size_t rows = std::min(a.mr, a.m - i0);
  if (rows == a.mr && (a.mr == 6 || a.mr == 4)) {
    const float* first = a.data + i0 * a.stride + k0;
    if (a.mr == 6) pack_whole_rows<6>(first, a.stride, kc, panel);
    else pack_whole_rows<4>(first, a.stride, kc, panel);
    return;
  }
  for (size_t r = 0; r < rows; ++r) {
    const float* row = a.data + (i0 + r) * a.stride + k0;
    for (size_t k = 0; k < kc; ++k) panel[k * a.mr + r] = row[k];
  }
  for (size_t r = rows; r < a.mr; ++r)
    for (size_t k = 0; k < kc; ++k) panel[k * a.mr + r] = 0.0f;
}

const float* row_major_a_panel(const void* context, size_t i0, size_t k0, size_t kc, float* scratch) {
  pack_rows(*static_cast<const RowMajorA*>(context), i0, k0, kc, scratch);
  return scratch;
}

// Copies kc rows of NR (a compile-time width, so the copy is a few vector moves).
template <size_t NR>
void copy_full_rows(const float* source, size_t stride, size_t kc, float* panel) {
  for (size_t k = 0; k < kc; ++k)
    for (size_t j = 0; j < NR; ++j) panel[k * NR + j] = source[k * stride + j];
}

const float* row_major_b_panel(const void* context, size_t j0, size_t k0, size_t kc, float* scratch) {
  const auto& b = *static_cast<const RowMajorB*>(context);
  const size_t cols = std::min(b.nr, b.n - j0);
  if (cols == b.nr && b.nr == 16) {
    copy_full_rows<16>(b.data + k0 * b.stride + j0, b.stride, kc, scratch);
    return scratch;
  }
  if (cols == b.nr && b.nr == 24) {
    copy_full_rows<24>(b.data + k0 * b.stride + j0, b.stride, kc, scratch);
    return scratch;
  }
  if (cols == b.nr && b.nr == 32) {
    copy_full_rows<32>(b.data + k0 * b.stride + j0, b.stride, kc, scratch);
    return scratch;
  }
  for (size_t k = 0; k < kc; ++k) {
    float* dst = scratch + k * b.nr;
    std::memcpy(dst, b.data + (k0 + k) * b.stride + j0, cols * sizeof(float));
    std::fill(dst + cols, dst + b.nr, 0.0f);
  }
  return scratch;
}

const float* transposed_b_panel(const void* context, size_t j0, size_t k0, size_t kc, float* scratch) {
  const auto& b = *static_cast<const TransposedB*>(context);
  const size_t cols = std::min(b.nr, b.n - j0);
  for (size_t j = 0; j < cols; ++j) {
    const float* column = b.data + (j0 + j) * b.stride + k0;
    for (size_t k = 0; k < kc; ++k) scratch[k * b.nr + j] = column[k];
  }
  for (size_t j = cols; j < b.nr; ++j)
    for (size_t k = 0; k < kc; ++k) scratch[k * b.nr + j] = 0.0f;
  return scratch;
}

const float* prepacked_a_panel(const void* context, size_t i0, size_t k0, size_t kc, float*) {
  const auto& a = *static_cast<const PrepackedA*>(context);
  const size_t m_padded = (a.m + a.mr - 1) / a.mr * a.mr;
  return a.packed + k0 * m_padded + i0 * kc;
}

}  // namespace

PanelSource RowMajorA::source() const { return {row_major_a_panel, this}; }
PanelSource RowMajorB::source() const { return {row_major_b_panel, this}; }
PanelSource TransposedB::source() const { return {transposed_b_panel, this}; }
PanelSource PrepackedA::source() const { return {prepacked_a_panel, this}; }

size_t prepacked_a_floats(size_t m, size_t k, size_t mr) { return (m + mr - 1) / mr * mr * k; }

void pack_a_ahead(const RowMajorA& a, size_t kc, float* packed) {
  const size_t m_padded = (a.m + a.mr - 1) / a.mr * a.mr;
  for (size_t k0 = 0; k0 < a.k; k0 += kc) {
    const size_t block = std::min(kc, a.k - k0);
    for (size_t i0 = 0; i0 < a.m; i0 += a.mr)
      pack_rows(a, i0, k0, block, packed + k0 * m_padded + i0 * block);
  }
}

}  // namespace nnjit::gemm
