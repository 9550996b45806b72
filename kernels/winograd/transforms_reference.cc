// Reference versions of the Winograd tile transforms, F(6x6, 3x3) on 8x8 tiles and F(4x4, 3x3) on 6x6 (see transforms.h):
// lane by lane in scalar C++, with the same operations in the same order as the JIT
// code, fused multiply-adds included, so that both produce the same bits.
#include <cmath>

#include "kernels/winograd/transforms.h"

namespace nnjit::winograd {

const double kMatrixBT[8][8] = {
    {1, 0, -21.0 / 4, 0, 21.0 / 4, 0, -1, 0},
    {0, 1, 1, -17.0 / 4, -17.0 / 4, 1, 1, 0},
    {0, -1, 1, 17.0 / 4, -17.0 / 4, -1, 1, 0},
    {0, 1.0 / 2, 1.0 / 4, -5.0 / 2, -5.0 / 4, 2, 1, 0},
    {0, -1.0 / 2, 1.0 / 4, 5.0 / 2, -5.0 / 4, -2, 1, 0},
    {0, 2, 4, -5.0 / 2, -5, 1.0 / 2, 1, 0},
    {0, -2, 4, 5.0 / 2, -5, -1.0 / 2, 1, 0},
    {0, -1, 0, 21.0 / 4, 0, -21.0 / 4, 0, 1},
};

const double kMatrixG[8][3] = {
    {1, 0, 0},
    {-2.0 / 9, -2.0 / 9, -2.0 / 9},
    {-2.0 / 9, 2.0 / 9, -2.0 / 9},
    {1.0 / 90, 1.0 / 45, 2.0 / 45},
    {1.0 / 90, -1.0 / 45, 2.0 / 45},
    {32.0 / 45, 16.0 / 45, 8.0 / 45},
    {32.0 / 45, -16.0 / 45, 8.0 / 45},
    {0, 0, 1},
};

const double kMatrixAT[6][8] = {
    {1, 1, 1, 1, 1, 1, 1, 0},
    {0, 1, -1, 2, -2, 1.0 / 2, -1.0 / 2, 0},
    {0, 1, 1, 4, 4, 1.0 / 4, 1.0 / 4, 0},
    {0, 1, -1, 8, -8, 1.0 / 8, -1.0 / 8, 0},
    {0, 1, 1, 16, 16, 1.0 / 16, 1.0 / 16, 0},
    {0, 1, -1, 32, -32, 1.0 / 32, -1.0 / 32, 1},
};

const double kSmallMatrixBT[6][6] = {
    {4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
    {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1},
};

const double kSmallMatrixG[6][3] = {
    {1.0 / 4, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6},
    {1.0 / 24, -1.0 / 12, 1.0 / 6},
    {0, 0, 1},
};

const double kSmallMatrixAT[4][6] = {
    {1, 1, 1, 1, 1, 0},
    {0, 1, -1, 2, -2, 0},
    {0, 1, 1, 4, 4, 0},
    {0, 1, -1, 8, -8, 1},
};

namespace {

// x * k + acc with one rounding (what vfmadd231ps computes).
float fmadd(float x, float k, float acc) { return std::fma(x, k, acc); }

// ---- 1-D transforms: the factored evaluations the JIT code mirrors -----------------

// o = B^T d. Rows 1/2, 3/4 and 5/6 of B^T share their even part (p) and differ in the
// sign of their odd part (q).
void input_1d(const float d[8], float o[8]) {
  o[0] = fmadd(d[4] - d[2], 5.25f, d[0] - d[6]);
  o[7] = fmadd(d[3] - d[5], 5.25f, d[7] - d[1]);
  const float p1 = fmadd(d[4], -4.25f, d[2] + d[6]);
  const float q1 = fmadd(d[3], -4.25f, d[1] + d[5]);
  o[1] = p1 + q1;
  o[2] = p1 - q1;
  const float p2 = fmadd(d[4], -1.25f, fmadd(d[2], 0.25f, d[6]));
  const float q2 = fmadd(d[5], 2.0f, fmadd(d[3], -2.5f, d[1] * 0.5f));
  o[3] = p2 + q2;
  o[4] = p2 - q2;
  const float p3 = fmadd(d[4], -5.0f, fmadd(d[2], 4.0f, d[6]));
  const float q3 = fmadd(d[5], 0.5f, fmadd(d[3], -2.5f, d[1] * 2.0f));
  o[5] = p3 + q3;
  o[6] = p3 - q3;
}

// The constants of G, rounded to float once (the JIT code embeds the same values).
constexpr float kMinusTwoNinths = -2.0f / 9.0f;
constexpr float kOneNinetieth = 1.0f / 90.0f;
constexpr float kOneFortyFifth = 1.0f / 45.0f;
constexpr float kTwoFortyFifths = 2.0f / 45.0f;
constexpr float kThirtyTwoFortyFifths = 32.0f / 45.0f;
constexpr float kSixteenFortyFifths = 16.0f / 45.0f;
constexpr float kEightFortyFifths = 8.0f / 45.0f;

// u = G g.
void kernel_1d(float g0, float g1, float g2, float u[8]) {
  u[0] = g0;
  const float s = g0 + g2;
  u[1] = (s + g1) * kMinusTwoNinths;
  u[2] = (s - g1) * kMinusTwoNinths;
  const float e = fmadd(g2, kTwoFortyFifths, g0 * kOneNinetieth);
  const float f = g1 * kOneFortyFifth;
  u[3] = e + f;
  u[4] = e - f;
  const float h = fmadd(g2, kEightFortyFifths, g0 * kThirtyTwoFortyFifths);
  const float k = g1 * kSixteenFortyFifths;
  u[5] = h + k;
  u[6] = h - k;
  u[7] = g2;
}

// y = A^T m: even rows use the sums, odd rows the differences of the pairs (1,2), (3,4), (5,6).
void output_1d(const float m[8], float y[6]) {
  const float s1 = m[1] + m[2], d1 = m[1] - m[2];
  const float s2 = m[3] + m[4], d2 = m[3] - m[4];
  const float s3 = m[5] + m[6], d3 = m[5] - m[6];
  y[0] = (m[0] + s1) + (s2 + s3);
  y[1] = fmadd(d3, 0.5f, fmadd(d2, 2.0f, d1));
  y[2] = fmadd(s3, 0.25f, fmadd(s2, 4.0f, s1));
  y[3] = fmadd(d3, 0.125f, fmadd(d2, 8.0f, d1));
  y[4] = fmadd(s3, 0.0625f, fmadd(s2, 16.0f, s1));
  y[5] = fmadd(d3, 0.03125f, fmadd(d2, 32.0f, d1 + m[7]));
}

// ---- 1-D transforms of F(4x4, 3x3) ---------------------------------------------------

// o = B^T d: rows 1/2 and 3/4 share their even part (p) and differ in the sign of their
// odd part (q).
void small_input_1d(const float d[6], float o[6]) {
  o[0] = fmadd(d[0], 4.0f, fmadd(d[2], -5.0f, d[4]));
  o[5] = fmadd(d[1], 4.0f, fmadd(d[3], -5.0f, d[5]));
  const float p1 = fmadd(d[2], -4.0f, d[4]);
  const float q1 = fmadd(d[1], -4.0f, d[3]);
  o[1] = p1 + q1;
  o[2] = p1 - q1;
  const float p2 = d[4] - d[2];
  const float q2 = (d[3] - d[1]) * 2.0f;
  o[3] = p2 + q2;
  o[4] = p2 - q2;
}

constexpr float kMinusOneSixth = -1.0f / 6.0f;
constexpr float kOneTwentyFourth = 1.0f / 24.0f;
constexpr float kOneTwelfth = 1.0f / 12.0f;
constexpr float kOneSixth = 1.0f / 6.0f;

// u = G g.
void small_kernel_1d(float g0, float g1, float g2, float u[6]) {
  u[0] = g0 * 0.25f;
  const float s = g0 + g2;
  u[1] = (s + g1) * kMinusOneSixth;
  u[2] = (s - g1) * kMinusOneSixth;
  const float e = fmadd(g2, kOneSixth, g0 * kOneTwentyFourth);
  const float f = g1 * kOneTwelfth;
  u[3] = e + f;
  u[4] = e - f;
  u[5] = g2;
}

// y = A^T m.
void small_output_1d(const float m[6], float y[4]) {
  const float s1 = m[1] + m[2], d1 = m[1] - m[2];
  const float s2 = m[3] + m[4], d2 = m[3] - m[4];
  y[0] = (m[0] + s1) + s2;
  y[1] = fmadd(d2, 2.0f, d1);
  y[2] = fmadd(s2, 4.0f, s1);
  y[3] = fmadd(d2, 8.0f, d1 + m[5]);
}

// ---- 2-D transforms: one direction, then the other -------------------------------------
// One template per transform over the tile (T = 8 or 6 points), the outputs per tile (N)
// and the 1-D function; both tile sizes apply the directions in the same order.

using Input1d = void (*)(const float*, float*);
using Kernel1d = void (*)(float, float, float, float*);
using Output1d = void (*)(const float*, float*);

template <size_t T, Input1d transform>
void input_2d(const InputTransformArgs* a) {
  for (size_t b = 0; b < a->blocks; ++b) {
    for (size_t tile = 0; tile < kTileGroup; ++tile) {
      for (size_t l = 0; l < kLanes; ++l) {
        const float* in = a->tiles[tile] + (b * kLanes + l) * a->channel_strides[tile];
        float t[T][T];  // t[r][j]: row r transformed (rows first: each row is transformed as it is read)
        for (size_t r = 0; r < T; ++r) {
          float row[T];
          for (size_t s = 0; s < T; ++s) row[s] = in[r * a->row_strides[tile] + s];
          transform(row, t[r]);
        }
        for (size_t j = 0; j < T; ++j) {
          float column[T], transformed[T];
          for (size_t r = 0; r < T; ++r) column[r] = t[r][j];
          transform(column, transformed);
          for (size_t i = 0; i < T; ++i)
            a->output[(i * T + j) * a->position_stride + (b * kLanes + l) * kTileGroup + tile] = transformed[i];
        }
      }
    }
  }
}

template <size_t T, Kernel1d transform, bool Rotated>
void kernel_2d(const KernelTransformArgs* a) {
  for (size_t k = 0; k < a->steps; ++k) {
    for (size_t l = 0; l < kLanes * a->groups; ++l) {
      const float* taps = a->kernel + l * a->lane_stride + k * a->step_stride;
      float g[3][3];
      for (size_t index = 0; index < 9; ++index) g[index / 3][index % 3] = taps[Rotated ? 8 - index : index];
      float t[T][3];  // t[i][kx]: column kx transformed
      for (size_t kx = 0; kx < 3; ++kx) {
        float column[T];
        transform(g[0][kx], g[1][kx], g[2][kx], column);
        for (size_t i = 0; i < T; ++i) t[i][kx] = column[i];
      }
      for (size_t i = 0; i < T; ++i) {
        float row[T];
        transform(t[i][0], t[i][1], t[i][2], row);
        for (size_t j = 0; j < T; ++j) a->output[(i * T + j) * a->position_stride + k * a->output_step + l] = row[j];
      }
    }
  }
}

template <size_t T, size_t N, Output1d transform, bool Relu, bool Stride2>
void output_2d(const OutputTransformArgs* a) {
  constexpr size_t step = Stride2 ? 2 : 1;
  for (size_t b = 0; b < a->blocks; ++b) {
    for (size_t l = 0; l < kLanes; ++l) {
      const size_t lane = b * kLanes + l;
      float z[N][T];  // z[r][j]: column j transformed
      for (size_t j = 0; j < T; ++j) {
        float column[T], transformed[N];
        for (size_t i = 0; i < T; ++i) column[i] = a->input[(i * T + j) * a->position_stride + lane];
        transform(column, transformed);
        for (size_t r = 0; r < N; ++r) z[r][j] = transformed[r];
      }
      float* out = a->output + lane * a->channel_stride;
      for (size_t r = 0; r < N; r += step) {
        float y[N];
        transform(z[r], y);
        for (size_t s = 0; s < N; s += step) {
          float v = y[s] + a->bias[lane];
          if (Relu) v = v > 0.0f ? v : 0.0f;
          out[(r / step) * a->row_stride + s / step] = v;
        }
      }
    }
  }
}

}  // namespace

InputTransform reference_small_input_transform() { return input_2d<kSmallTile, small_input_1d>; }

KernelTransform reference_small_kernel_transform(bool rotated) {
  return rotated ? kernel_2d<kSmallTile, small_kernel_1d, true> : kernel_2d<kSmallTile, small_kernel_1d, false>;
}

OutputTransform reference_small_output_transform(bool relu) {
  return relu ? output_2d<kSmallTile, kSmallOutput, small_output_1d, true, false>
              : output_2d<kSmallTile, kSmallOutput, small_output_1d, false, false>;
}

InputTransform reference_input_transform() { return input_2d<kTile, input_1d>; }

KernelTransform reference_kernel_transform(bool rotated) {
  return rotated ? kernel_2d<kTile, kernel_1d, true> : kernel_2d<kTile, kernel_1d, false>;
}

OutputTransform reference_output_transform(OutputVariant v) {
  if (v.stride2)
    return v.relu ? output_2d<kTile, kOutput, output_1d, true, true> : output_2d<kTile, kOutput, output_1d, false, true>;
  return v.relu ? output_2d<kTile, kOutput, output_1d, true, false> : output_2d<kTile, kOutput, output_1d, false, false>;
}

}  // namespace nnjit::winograd
