// Panel sources for the common layouts (see PanelSource in gemm.h).
#pragma once

#include <cstddef>

#include "kernels/gemm/gemm.h"

namespace nnjit::gemm {

// A[i][k] = data[i * stride + k]: e.g. convolution kernels [Cout][Cin*kh*kw], FC inputs.
struct RowMajorA {
  const float* data;
  size_t m, k, stride;
  size_t mr;
  PanelSource source() const;
};

// B[k][j] = data[k * stride + j]: e.g. a 1x1 convolution's input [Cin][H*W].
struct RowMajorB {
  const float* data;
  size_t k, n, stride;
  size_t nr;
  PanelSource source() const;
};

// B[k][j] = data[j * stride + k]: e.g. fully-connected weights [out][in] as in x out.
struct TransposedB {
  const float* data;
  size_t k, n, stride;
  size_t nr;
  PanelSource source() const;
};

// A packed in advance for every K block of size kc: block after block, and within a
// block the MR-row panels one after another (panel[k * MR + r]).
struct PrepackedA {
  const float* packed;
  size_t m, k, kc;
  size_t mr;
  PanelSource source() const;
};

// Floats that pack_a_ahead writes for an m x k matrix.
size_t prepacked_a_floats(size_t m, size_t k, size_t mr);

// Packs all of A in the PrepackedA layout for K blocks of kc.
void pack_a_ahead(const RowMajorA& a, size_t kc, float* packed);

}  // namespace nnjit::gemm
