// JIT generators of the AVX2+FMA Winograd transforms, F(6x6, 3x3) on 8x8 tiles and F(4x4, 3x3) on
// 6x6 tiles (see transforms.h).
//
// Each transform keeps one tile element of 8 lanes per ymm register (the kernel transform
// also 16 lanes per zmm register, with AVX-512) and runs the 1-D transform of
// transforms_reference.cc on 8 (or 3) registers at a time: first down the columns, with the
// results parked in a 32-byte aligned stack scratch, then along the rows. The operations and
// their order are those of the reference, so the results are the same bits. Constants are
// vectors (32 or 64 bytes) in a table after the code, used as memory operands. Arguments
// arrive as a pointer to the Args struct (rdi).
#include <array>
#include <bit>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "jit/x64/x64_generator.h"
#include "kernels/winograd/transform_generators.h"
#include "kernels/winograd/transforms.h"

namespace nnjit::winograd {
namespace {

using namespace Xbyak;

constexpr int kVector = 32;  // bytes per ymm

class TransformGenerator : public jit::x64::X64Generator {
 protected:
  // constant_bytes: the width of the constant table's vectors (32: ymm, 64: zmm).
  explicit TransformGenerator(int constant_bytes = kVector) : constant_bytes_(constant_bytes) {}

  // A vector of copies of `value` in the constant table.
  Address constant(float value) {
    size_t index = 0;
    while (index < constants_.size() && std::bit_cast<uint32_t>(constants_[index]) != std::bit_cast<uint32_t>(value))
      ++index;
    if (index == constants_.size()) constants_.push_back(value);
    return ptr[rip + table_ + static_cast<int>(index) * constant_bytes_];
  }

  // push rbp and `saved`, align rsp to 32 and reserve `scratch` bytes at [rsp].
  void enter(std::initializer_list<Reg64> saved, int scratch) {
    saved_.assign(saved.begin(), saved.end());
    push(rbp);
    mov(rbp, rsp);
    for (const Reg64& r : saved_) push(r);
    and_(rsp, -kVector);
    sub(rsp, scratch);
  }

  void leave_and_return() {
    lea(rsp, ptr[rbp - static_cast<int>(8 * saved_.size())]);
    for (auto r = saved_.rbegin(); r != saved_.rend(); ++r) pop(*r);
    pop(rbp);
    vzeroupper();
    ret();
    align(constant_bytes_);
    L(table_);
    for (float value : constants_)
      for (int i = 0; i < constant_bytes_ / 4; ++i) dd(std::bit_cast<uint32_t>(value));
  }

  // acc = x * k + acc (one rounding), as fmadd(x, k, acc) in the reference.
  void fmadd(const Xmm& acc, const Xmm& x, float k) { vfmadd231ps(acc, x, constant(k)); }

  // Loads a size_t field of the Args struct at rdi.
  void load_field(const Reg64& r, int index) { mov(r, ptr[rdi + 8 * index]); }

  // 8x8 transpose: ymm0..ymm7 (vector v, lane k) -> ymm8+k (lane v). Clobbers ymm0..ymm7.
  void transpose_8x8() {
    for (int m = 0; m < 4; ++m) {  // pairs of vectors interleaved
      vunpcklps(Ymm(8 + 2 * m), Ymm(2 * m), Ymm(2 * m + 1));
      vunpckhps(Ymm(9 + 2 * m), Ymm(2 * m), Ymm(2 * m + 1));
    }
    // Four vectors per 128-bit half: ymm0..3 from vectors 0..3 (lanes 0|4, 1|5, 2|6, 3|7), ymm4..7 from 4..7.
    for (int h = 0; h < 2; ++h) {
      const int t = 8 + 4 * h, s = 4 * h;
      vshufps(Ymm(s + 0), Ymm(t + 0), Ymm(t + 2), 0x44);
      vshufps(Ymm(s + 1), Ymm(t + 0), Ymm(t + 2), 0xEE);
      vshufps(Ymm(s + 2), Ymm(t + 1), Ymm(t + 3), 0x44);
      vshufps(Ymm(s + 3), Ymm(t + 1), Ymm(t + 3), 0xEE);
    }
    for (int k = 0; k < 4; ++k) {
      vperm2f128(Ymm(8 + k), Ymm(k), Ymm(4 + k), 0x20);
      vperm2f128(Ymm(12 + k), Ymm(k), Ymm(4 + k), 0x31);
    }
  }

  // The first step of both 6x8 transposes below: from y0..y5 in ymm0..ymm5 (lanes c = 0..7),
  // ymm0..ymm3 = y0..y3 of lanes 0..3 (| 4..7) and ymm12, ymm13 = y4 y5 of lanes 0, 1 and 2, 3
  // (| 4, 5 and 6, 7). Clobbers ymm8..ymm11.
  void interleave_6x8() {
    vunpcklps(ymm8, ymm0, ymm1);   // y0 y1 of lanes 0, 1 | 4, 5
    vunpckhps(ymm9, ymm0, ymm1);   // 2, 3 | 6, 7
    vunpcklps(ymm10, ymm2, ymm3);
    vunpckhps(ymm11, ymm2, ymm3);
    vunpcklps(ymm12, ymm4, ymm5);  // y4 y5 of lanes 0, 1 | 4, 5
    vunpckhps(ymm13, ymm4, ymm5);  // 2, 3 | 6, 7
    vshufps(ymm0, ymm8, ymm10, 0x44);  // y0..y3 of lane 0 | 4
    vshufps(ymm1, ymm8, ymm10, 0xEE);  // 1 | 5
    vshufps(ymm2, ymm9, ymm11, 0x44);  // 2 | 6
    vshufps(ymm3, ymm9, ymm11, 0xEE);  // 3 | 7
  }

  // Six vectors y0..y5 in ymm0..ymm5 (lanes c = 0..7) as 48 contiguous floats at `at`:
  // y0[c] .. y5[c] for c = 0, 1, ..., 7, in six 32-byte stores. Clobbers ymm0..ymm3, ymm8..ymm15.
  void store_transposed_6x8_contiguous(const RegExp& at) {
    interleave_6x8();
    vshufps(ymm8, ymm12, ymm1, 0x44);   // y4 y5 of lane 0, y0 y1 of lane 1 | 4, 5
    vshufps(ymm9, ymm1, ymm12, 0xEE);   // y2 y3 y4 y5 of lane 1 | 5
    vshufps(ymm10, ymm13, ymm3, 0x44);  // y4 y5 of lane 2, y0 y1 of lane 3 | 6, 7
    vshufps(ymm11, ymm3, ymm13, 0xEE);  // y2..y5 of lane 3 | 7
    vperm2f128(ymm12, ymm0, ymm8, 0x20);
    vmovups(ptr[at], ymm12);
    vperm2f128(ymm13, ymm9, ymm2, 0x20);
    vmovups(ptr[at + 32], ymm13);
    vperm2f128(ymm14, ymm10, ymm11, 0x20);
    vmovups(ptr[at + 64], ymm14);
    vperm2f128(ymm15, ymm0, ymm8, 0x31);
    vmovups(ptr[at + 96], ymm15);
    vperm2f128(ymm12, ymm9, ymm2, 0x31);
    vmovups(ptr[at + 128], ymm12);
    vperm2f128(ymm13, ymm10, ymm11, 0x31);
    vmovups(ptr[at + 160], ymm13);
  }

  // Six vectors y0..y5 in ymm0..ymm5 (lanes c = 0..7) as 8 runs of 6 floats: run c (y0[c] .. y5[c])
  // goes to at(c). Clobbers ymm0..ymm3 and ymm8..ymm15.
  template <class At>
  void store_transposed_6x8(At at) {
    interleave_6x8();
    for (int k = 0; k < 4; ++k) vmovups(ptr[at(k)], Xmm(k));
    vmovlps(ptr[at(0) + 16], xmm12);
    vmovhps(ptr[at(1) + 16], xmm12);
    vmovlps(ptr[at(2) + 16], xmm13);
    vmovhps(ptr[at(3) + 16], xmm13);
    vextractf128(xmm14, ymm12, 1);
    vextractf128(xmm15, ymm13, 1);
    for (int k = 0; k < 4; ++k) vextractf128(ptr[at(4 + k)], Ymm(k), 1);
    vmovlps(ptr[at(4) + 16], xmm14);
    vmovhps(ptr[at(5) + 16], xmm14);
    vmovlps(ptr[at(6) + 16], xmm15);
    vmovhps(ptr[at(7) + 16], xmm15);
  }

 private:
  int constant_bytes_;
  Label table_;
  std::vector<float> constants_;
  std::vector<Reg64> saved_;
};

// Eight addresses base + i*stride (i < 8) from base, base4 = base + 4*stride, stride and
// stride3 = 3*stride.
struct EightRows {
  Reg64 base, base4, stride, stride3;
  RegExp operator()(int i) const {
    const Reg64& b = i < 4 ? base : base4;
    switch (i % 4) {
      case 0: return RegExp(b);
      case 1: return b + stride;
      case 2: return b + stride * 2;
      default: return b + stride3;
    }
  }
};

// ---- Input transform -----------------------------------------------------------------

class InputGenerator : public TransformGenerator {
 public:
  // small: F(4x4, 3x3) on 6x6 tiles (rows of 8 floats are read; the first 6 are used).
  explicit InputGenerator(bool small) : tile_(small ? int(kSmallTile) : int(kTile)) { generate(); }

 private:
  // Registers (Args: tiles, row_strides, channel_strides, blocks, output, position_stride).
  const Reg64 tiles = rsi, row_strides = rdx, channel_strides = rcx, blocks = r8, out = r9, pos = r10;
  const Reg64 block = r11, base = rax, base4 = rbx, row = r12, channel = r13, channel3 = r14, tile = r15;
  const Reg64 s_ptr = rdi;

  // [rsp, +2 KiB): t[r][j] of one tile (lanes = channels); then S[p][tile].
  static constexpr int kT = 0, kS = 64 * kVector;
  static constexpr int kScratch = kS + 64 * int(kTileGroup) * kVector;
  static constexpr int kSRow = int(kTileGroup) * kVector;  // bytes per position in S

  void generate() {
    enter({rbx, r12, r13, r14, r15}, kScratch);
    load_field(tiles, 0);
    load_field(row_strides, 1);
    load_field(channel_strides, 2);
    load_field(blocks, 3);
    load_field(out, 4);
    load_field(pos, 5);
    shl(pos, 2);
    xor_(block, block);

    Label block_loop, tile_loop, position_loop, done;
    test(blocks, blocks);
    jz(done, T_NEAR);
    L(block_loop);
    lea(s_ptr, ptr[rsp + kS]);
    xor_(tile, tile);
    L(tile_loop);
    mov(row, ptr[row_strides + tile * 8]);
    shl(row, 2);
    mov(channel, ptr[channel_strides + tile * 8]);
    shl(channel, 2);
    mov(base, block);  // channel block `block` starts 8 * block * channel bytes in
    imul(base, channel);
    shl(base, 3);
    add(base, ptr[tiles + tile * 8]);
    lea(channel3, ptr[channel + channel * 2]);
    lea(base4, ptr[base + channel * 4]);
    // Rows: row r of the 8 channels, transposed so that lanes are channels, then
    // t[r][j] = (d B)[r][j].
    const EightRows channels{base, base4, channel, channel3};
    for (int r = 0; r < tile_; ++r) {
      for (int c = 0; c < 8; ++c) vmovups(Ymm(c), ptr[channels(c)]);
      transpose_8x8();
      for (int s = 0; s < tile_; ++s) vmovaps(Ymm(s), Ymm(8 + s));
      const std::array<Ymm, 8> o = transform();
      for (int j = 0; j < tile_; ++j) vmovaps(ptr[rsp + kT + (r * 8 + j) * kVector], o[j]);
      if (r + 1 < tile_) {
        add(base, row);
        add(base4, row);
      }
    }
    // While the columns are transformed, prefetch this tile's window in the next block of 8
    // channels (read by the next block's pass over the tiles): the row loads above wait
    // on memory otherwise, the planes being too many streams for the hardware prefetcher.
    // base/base4 point at the last row and are recomputed for the next tile.
    lea(base, ptr[base + channel * 8]);
    lea(base4, ptr[base4 + channel * 8]);
    for (int j = 0; j < tile_; ++j) {  // columns: V[i][j] = (B^T t)[i][j] at position T i + j
      for (int c = 0; c < 8; ++c) prefetcht0(ptr[channels(c)]);
      if (j + 1 < tile_) {
        sub(base, row);
        sub(base4, row);
      }
      for (int r = 0; r < tile_; ++r) vmovaps(Ymm(r), ptr[rsp + kT + (r * 8 + j) * kVector]);
      const std::array<Ymm, 8> o = transform();
      for (int i = 0; i < tile_; ++i) vmovaps(ptr[s_ptr + (i * tile_ + j) * kSRow], o[i]);
    }
    add(s_ptr, kVector);
    inc(tile);
    cmp(tile, kTileGroup);
    jb(tile_loop, T_NEAR);
    // Each position: the 6 tiles' vectors (lanes = channels) as runs of 6 tiles per channel.
    const Reg64 q = base, count = tile;
    lea(s_ptr, ptr[rsp + kS]);
    mov(q, out);
    mov(count, tile_);  // tile_ rounds of tile_ positions
    L(position_loop);
    for (int u = 0; u < tile_; ++u) {
      for (int t = 0; t < int(kTileGroup); ++t) vmovaps(Ymm(t), ptr[s_ptr + u * kSRow + t * kVector]);
      store_transposed_6x8_contiguous(RegExp(q));
      add(q, pos);
    }
    add(s_ptr, tile_ * kSRow);
    dec(count);
    jnz(position_loop, T_NEAR);
    add(out, int(kLanes * kTileGroup * sizeof(float)));
    inc(block);
    cmp(block, blocks);
    jb(block_loop, T_NEAR);
    L(done);
    leave_and_return();
  }

  std::array<Ymm, 8> transform() { return tile_ == int(kTile) ? transform_1d() : small_transform_1d(); }

  // F(4x4, 3x3): B^T applied to d0..d5 in ymm0..ymm5, as small_input_1d in the reference
  // (the first 6 of the returned registers).
  std::array<Ymm, 8> small_transform_1d() {
    const Ymm d0 = ymm0, d1 = ymm1, d2 = ymm2, d3 = ymm3, d4 = ymm4, d5 = ymm5;
    // o0 = fmadd(d0, 4, fmadd(d2, -5, d4)); o5 = fmadd(d1, 4, fmadd(d3, -5, d5))
    vmovaps(ymm6, d4);
    fmadd(ymm6, d2, -5.0f);
    fmadd(ymm6, d0, 4.0f);
    vmovaps(ymm7, d5);
    fmadd(ymm7, d3, -5.0f);
    fmadd(ymm7, d1, 4.0f);
    // p1 = fmadd(d2, -4, d4); q1 = fmadd(d1, -4, d3); o1 = p1 + q1, o2 = p1 - q1
    vmovaps(ymm8, d4);
    fmadd(ymm8, d2, -4.0f);
    vmovaps(ymm9, d3);
    fmadd(ymm9, d1, -4.0f);
    vaddps(ymm10, ymm8, ymm9);
    vsubps(ymm11, ymm8, ymm9);
    // p2 = d4 - d2; q2 = (d3 - d1) * 2 (as an add: exact); o3 = p2 + q2, o4 = p2 - q2
    vsubps(ymm12, d4, d2);
    vsubps(ymm13, d3, d1);
    vaddps(ymm13, ymm13, ymm13);
    vaddps(ymm14, ymm12, ymm13);
    vsubps(ymm15, ymm12, ymm13);
    return {ymm6, ymm10, ymm11, ymm14, ymm15, ymm7, ymm0, ymm0};
  }

  int tile_;

  // B^T applied to d0..d7 in ymm0..ymm7 (clobbered), as input_1d in the reference.
  std::array<Ymm, 8> transform_1d() {
    const Ymm d0 = ymm0, d1 = ymm1, d2 = ymm2, d3 = ymm3, d4 = ymm4, d5 = ymm5, d6 = ymm6, d7 = ymm7;
    // o0 = fmadd(d4 - d2, 5.25, d0 - d6); o7 = fmadd(d3 - d5, 5.25, d7 - d1)
    vsubps(d0, d0, d6);
    vsubps(ymm8, d4, d2);
    fmadd(d0, ymm8, 5.25f);
    vsubps(d7, d7, d1);
    vsubps(ymm8, d3, d5);
    fmadd(d7, ymm8, 5.25f);
    // p1 = fmadd(d4, -4.25, d2 + d6); q1 = fmadd(d3, -4.25, d1 + d5); o1 = p1 + q1, o2 = p1 - q1
    vaddps(ymm8, d2, d6);
    fmadd(ymm8, d4, -4.25f);
    vaddps(ymm9, d1, d5);
    fmadd(ymm9, d3, -4.25f);
    vaddps(ymm10, ymm8, ymm9);
    vsubps(ymm11, ymm8, ymm9);
    // p2 = fmadd(d4, -1.25, fmadd(d2, 0.25, d6)); q2 = fmadd(d5, 2, fmadd(d3, -2.5, d1 * 0.5))
    vmovaps(ymm8, d6);
    fmadd(ymm8, d2, 0.25f);
    fmadd(ymm8, d4, -1.25f);
    vmulps(ymm9, d1, constant(0.5f));
    fmadd(ymm9, d3, -2.5f);
    fmadd(ymm9, d5, 2.0f);
    vaddps(ymm12, ymm8, ymm9);
    vsubps(ymm13, ymm8, ymm9);
    // p3 = fmadd(d4, -5, fmadd(d2, 4, d6)); q3 = fmadd(d5, 0.5, fmadd(d3, -2.5, d1 * 2))
    fmadd(d6, d2, 4.0f);
    fmadd(d6, d4, -5.0f);
    vaddps(d1, d1, d1);  // d1 * 2, exactly, on an add port (the multiply-add ports are the busier)
    fmadd(d1, d3, -2.5f);
    fmadd(d1, d5, 0.5f);
    vaddps(ymm14, d6, d1);
    vsubps(ymm15, d6, d1);
    return {d0, ymm10, ymm11, ymm12, ymm13, ymm14, ymm15, d7};
  }
};

// ---- Kernel transform ------------------------------------------------------------------

// Lanes of a group: 8 output channels in ymm registers, or (wide, AVX-512) 16 in zmm
// registers, with the same operations per lane, so both give the reference's bits.
class KernelGenerator : public TransformGenerator {
 public:
  KernelGenerator(bool rotated, bool wide, bool small)
      : TransformGenerator(wide ? 2 * kVector : kVector), rotated_(rotated), wide_(wide), small_(small) {
    generate();
  }

 private:
  // Registers (Args: kernel, lane_stride, step_stride, steps, output, position_stride,
  // output_step, groups).
  const Reg64 g = rsi, lane = rdx, lane3 = rcx, g4 = r8, group_g = r9, steps = r10, out = r11;
  const Reg64 pos = rax, pos3 = rdi, q = rbx, q4 = r12, group_out = r13, count = r14, groups = r15;

  // [rsp, +32): step_stride and output_step (bytes).
  static constexpr int kStep = 0, kOutputStep = kStep + 8, kScratch = kStep + 32;

  int lanes() const { return wide_ ? 16 : 8; }
  // Vector register i at the group's width.
  Xmm vec(int i) const { return wide_ ? Xmm(Zmm(i)) : Xmm(Ymm(i)); }

  void generate() {
    enter({rbx, r12, r13, r14, r15}, kScratch);
    load_field(g, 0);
    load_field(lane, 1);
    load_field(group_g, 2);
    shl(group_g, 2);
    mov(ptr[rsp + kStep], group_g);
    load_field(group_out, 6);
    shl(group_out, 2);
    mov(ptr[rsp + kOutputStep], group_out);
    load_field(steps, 3);
    load_field(out, 4);
    load_field(groups, 7);
    load_field(pos, 5);
    shl(lane, 2);
    shl(pos, 2);
    lea(lane3, ptr[lane + lane * 2]);
    lea(pos3, ptr[pos + pos * 2]);

    Label step_loop, group_loop, done;
    test(steps, steps);
    jz(done, T_NEAR);
    test(groups, groups);
    jz(done, T_NEAR);
    L(step_loop);
    mov(group_g, g);
    mov(group_out, out);
    mov(count, groups);
    L(group_loop);
    load_taps();
    // Row by row: t[i][kx] = (G g)[i][kx] for kx < 3, computed from the taps (which stay in
    // registers) right before U[i][j] = (t G^T)[i][j], stored at position 8i + j. The
    // elements of t are those of kernel_1d down each column, by the same operations; rows
    // 2, 4 and 6 recompute the sums they share with rows 1, 3 and 5 rather than go
    // through memory (the stores are what limits this kernel).
    mov(q, group_out);
    const int tile = small_ ? int(kSmallTile) : int(kTile);
    for (int i = 0; i < tile; ++i) {
      std::array<Xmm, 3> t{vec(1), vec(2), vec(3)};
      for (int kx = 0; kx < 3; ++kx) t[kx] = small_ ? small_column_element(i, kx, t[kx]) : column_element(i, kx, t[kx]);
      lea(q4, ptr[q + pos * 4]);
      const EightRows positions{q, q4, pos, pos3};
      const auto store = [&](int j, const Xmm& v) { vmovups(ptr[positions(j)], v); };
      if (small_) small_transform_1d(t[0], t[1], t[2], {vec(4), vec(5), vec(6)}, store);
      else transform_1d(t[0], t[1], t[2], {vec(4), vec(5), vec(6)}, store);
      if (i + 1 < tile) {
        if (small_) lea(q, ptr[q + pos3 * 2]);
        else lea(q, ptr[q + pos * 8]);
      }
    }
    for (int eighth = 0; eighth < lanes() / 8; ++eighth) lea(group_g, ptr[group_g + lane * 8]);
    add(group_out, lanes() * int(sizeof(float)));
    dec(count);
    jnz(group_loop, T_NEAR);
    add(g, ptr[rsp + kStep]);
    add(out, ptr[rsp + kOutputStep]);
    dec(steps);
    jnz(step_loop, T_NEAR);
    L(done);
    leave_and_return();
  }

  // The register of tap (ky, kx) after load_taps: taps 0..7 in ymm8..15 and tap 8 in ymm0,
  // or (wide) taps 0..8 in zmm16..24; the rotated kernel reads tap 8 - index.
  Xmm tap(int ky, int kx) const {
    const int index = rotated_ ? 8 - (3 * ky + kx) : 3 * ky + kx;
    if (wide_) return vec(16 + index);
    return index == 8 ? vec(0) : vec(8 + index);
  }

  // (G g)[i][kx] as kernel_1d computes element i of column kx, into `dst` (clobbering
  // registers 4 and 5); rows 0 and 7 are taps, returned as they are.
  Xmm column_element(int i, int kx, const Xmm& dst) {
    const Xmm g0 = tap(0, kx), g1 = tap(1, kx), g2 = tap(2, kx);
    switch (i) {
      case 0: return g0;
      case 7: return g2;
      case 1:
      case 2: return symmetric_element(i == 1, g0, g1, g2, -2.0f / 9.0f, dst);
      case 3:
      case 4: return weighted_element(i == 3, g0, g1, g2, 1.0f / 90.0f, 2.0f / 45.0f, 1.0f / 45.0f, dst);
      default: return weighted_element(i == 5, g0, g1, g2, 32.0f / 45.0f, 8.0f / 45.0f, 16.0f / 45.0f, dst);
    }
  }

  // (s +- g1) * scale, s = g0 + g2, into dst: rows 1 and 2 of G.
  Xmm symmetric_element(bool plus, const Xmm& g0, const Xmm& g1, const Xmm& g2, float scale, const Xmm& dst) {
    vaddps(dst, g0, g2);
    if (plus) vaddps(dst, dst, g1);
    else vsubps(dst, dst, g1);
    vmulps(dst, dst, constant(scale));
    return dst;
  }

  // e +- f, e = g0 a + g2 b (one multiply-add), f = g1 c, into dst (clobbering registers 4 and 5).
  Xmm weighted_element(bool plus, const Xmm& g0, const Xmm& g1, const Xmm& g2, float a, float b, float c,
                       const Xmm& dst) {
    vmulps(vec(4), g0, constant(a));
    fmadd(vec(4), g2, b);
    vmulps(vec(5), g1, constant(c));
    if (plus) vaddps(dst, vec(4), vec(5));
    else vsubps(dst, vec(4), vec(5));
    return dst;
  }

  // F(4x4, 3x3): (G g)[i][kx] as small_kernel_1d computes element i of column kx, into `dst`
  // (clobbering registers 4 and 5); row 5 is the tap g2, returned as it is.
  Xmm small_column_element(int i, int kx, const Xmm& dst) {
    const Xmm g0 = tap(0, kx), g1 = tap(1, kx), g2 = tap(2, kx);
    switch (i) {
      case 0:
        vmulps(dst, g0, constant(0.25f));
        return dst;
      case 5: return g2;
      case 1:
      case 2: return symmetric_element(i == 1, g0, g1, g2, -1.0f / 6.0f, dst);
      default: return weighted_element(i == 3, g0, g1, g2, 1.0f / 24.0f, 1.0f / 6.0f, 1.0f / 12.0f, dst);
    }
  }

  // The rows of G that come in pairs, u[plus] and u[minus], by the operations of the column
  // elements above (t: three scratch registers).
  template <class Store>
  void symmetric_pair(const Xmm& g0, const Xmm& g1, const Xmm& g2, const std::array<Xmm, 3>& t, float scale,
                      int plus, int minus, Store store) {
    vaddps(t[0], g0, g2);  // s
    vaddps(t[1], t[0], g1);
    vmulps(t[1], t[1], constant(scale));
    store(plus, t[1]);
    vsubps(t[1], t[0], g1);
    vmulps(t[1], t[1], constant(scale));
    store(minus, t[1]);
  }
  template <class Store>
  void weighted_pair(const Xmm& g0, const Xmm& g1, const Xmm& g2, const std::array<Xmm, 3>& t, float a, float b,
                     float c, int plus, int minus, Store store) {
    vmulps(t[0], g0, constant(a));  // e
    fmadd(t[0], g2, b);
    vmulps(t[1], g1, constant(c));  // f
    vaddps(t[2], t[0], t[1]);
    store(plus, t[2]);
    vsubps(t[2], t[0], t[1]);
    store(minus, t[2]);
  }

  // u = G (g0, g1, g2) of F(4x4, 3x3), as small_kernel_1d in the reference.
  template <class Store>
  void small_transform_1d(const Xmm& g0, const Xmm& g1, const Xmm& g2, std::array<Xmm, 3> t, Store store) {
    vmulps(t[0], g0, constant(0.25f));
    store(0, t[0]);
    store(5, g2);
    symmetric_pair(g0, g1, g2, t, -1.0f / 6.0f, 1, 2, store);
    weighted_pair(g0, g1, g2, t, 1.0f / 24.0f, 1.0f / 6.0f, 1.0f / 12.0f, 3, 4, store);
  }

  // Taps 0..7 of 8 lanes at base + l*lane (base4 = base + 4*lane) into ymm8..15 by an 8x8
  // transpose, and tap 8 into ymm0 by inserts.
  void load_eight_lanes(const Reg64& base, const Reg64& base4) {
    lea(base4, ptr[base + lane * 4]);
    const EightRows lanes{base, base4, lane, lane3};
    for (int l = 0; l < 8; ++l) vmovups(Ymm(l), ptr[lanes(l)]);
    transpose_8x8();
    vmovss(xmm0, ptr[lanes(0) + 32]);
    vinsertps(xmm0, xmm0, ptr[lanes(1) + 32], 0x10);
    vinsertps(xmm0, xmm0, ptr[lanes(2) + 32], 0x20);
    vinsertps(xmm0, xmm0, ptr[lanes(3) + 32], 0x30);
    vmovss(xmm1, ptr[lanes(4) + 32]);
    vinsertps(xmm1, xmm1, ptr[lanes(5) + 32], 0x10);
    vinsertps(xmm1, xmm1, ptr[lanes(6) + 32], 0x20);
    vinsertps(xmm1, xmm1, ptr[lanes(7) + 32], 0x30);
    vinsertf128(ymm0, ymm0, xmm1, 1);
  }

  // Lane l's 9 taps at group_g + l*lane into the registers of tap(): each 8 lanes through
  // load_eight_lanes; with 16 lanes, the halves are joined into zmm16..24 (q and q4 are
  // free until the stores).
  void load_taps() {
    load_eight_lanes(group_g, g4);
    if (!wide_) return;
    for (int t = 0; t < 8; ++t) vmovaps(Zmm(16 + t), Zmm(8 + t));
    vmovaps(zmm24, zmm0);
    lea(q, ptr[group_g + lane * 8]);
    load_eight_lanes(q, q4);
    for (int t = 0; t < 8; ++t) vinsertf64x4(Zmm(16 + t), Zmm(16 + t), Ymm(8 + t), 1);
    vinsertf64x4(zmm24, zmm24, ymm0, 1);
  }

  // u = G (g0, g1, g2), as kernel_1d in the reference; store(i, register) takes u[i].
  template <class Store>
  void transform_1d(const Xmm& g0, const Xmm& g1, const Xmm& g2, std::array<Xmm, 3> t, Store store) {
    store(0, g0);
    store(7, g2);
    symmetric_pair(g0, g1, g2, t, -2.0f / 9.0f, 1, 2, store);
    weighted_pair(g0, g1, g2, t, 1.0f / 90.0f, 2.0f / 45.0f, 1.0f / 45.0f, 3, 4, store);   // e, f
    weighted_pair(g0, g1, g2, t, 32.0f / 45.0f, 8.0f / 45.0f, 16.0f / 45.0f, 5, 6, store);  // h, k
  }

  bool rotated_;
  bool wide_;
  bool small_;
};

// ---- Output transform --------------------------------------------------------------------

class OutputGenerator : public TransformGenerator {
 public:
  OutputGenerator(bool relu, bool stride2, bool small) : relu_(relu), stride2_(stride2), small_(small) {
    generate();
  }

 private:
  // Registers (Args: input, position_stride, bias, output, row_stride, channel_stride, blocks).
  const Reg64 m = rsi, pos = rdx, pos8 = rcx, pos24 = r8, a = r9, a4 = r10, bias = r11;
  const Reg64 out = rax, row = rdi, channel = rbx, channel3 = r12, o = r13, o4 = r14, blocks = r15;

  static constexpr int kScratch = 48 * kVector;  // z[r][j]

  int step() const { return stride2_ ? 2 : 1; }

  // The frame, and the Args fields in their registers (strides in bytes).
  void enter_and_load_arguments() {
    enter({rbx, r12, r13, r14, r15}, kScratch);
    load_field(m, 0);
    load_field(pos, 1);
    load_field(bias, 2);
    load_field(out, 3);
    load_field(channel, 5);
    load_field(blocks, 6);
    load_field(row, 4);
    shl(pos, 2);
    shl(row, 2);
    shl(channel, 2);
  }

  void generate() {
    enter_and_load_arguments();
    if (small_) {
      lea(pos24, ptr[pos + pos * 2]);  // 3 * pos
      lea(pos8, ptr[pos24 * 2]);       // 6 * pos: one row of positions
    } else {
      lea(pos8, ptr[pos * 8]);
      lea(pos24, ptr[pos8 + pos8 * 2]);
    }
    lea(channel3, ptr[channel + channel * 2]);

    Label loop, done;
    test(blocks, blocks);
    jz(done, T_NEAR);
    L(loop);
    if (small_) small_tile();
    else tile();
    add(m, 8 * sizeof(float));
    add(bias, 8 * sizeof(float));
    lea(out, ptr[out + channel * 8]);
    dec(blocks);
    jnz(loop, T_NEAR);
    L(done);
    leave_and_return();
  }

  // One block of 8 channels of an 8x8 tile.
  void tile() {
    // Columns: z[r][j] = (A^T M)[r][j]; position 8i + j of column j is a + i*8*pos.
    mov(a, m);
    for (int j = 0; j < 8; ++j) {
      lea(a4, ptr[a + pos8 * 4]);
      const EightRows rows{a, a4, pos8, pos24};
      for (int i = 0; i < 8; ++i) vmovups(Ymm(i), ptr[rows(i)]);
      transform_1d();
      for (int r = 0; r < 6; r += step()) vmovaps(ptr[rsp + (r * 8 + j) * kVector], Ymm(r));
      if (j + 1 < 8) add(a, pos);
    }
    // Rows: Y[r][s] = (z A)[r][s] + bias, ReLU, transposed into each channel's rows.
    mov(o, out);
    for (int r = 0; r < 6; r += step()) {
      for (int j = 0; j < 8; ++j) vmovaps(Ymm(j), ptr[rsp + (r * 8 + j) * kVector]);
      transform_1d();
      add_bias_and_rectify(6);
      lea(o4, ptr[o + channel * 4]);
      if (stride2_) store_row_stride2();
      else store_row();
      if (r + step() < 6) add(o, row);
    }
  }

  // F(4x4, 3x3), stride 1: one block of 8 channels of a 6x6 tile (36 positions) to 4x4 values.
  void small_tile() {
    constexpr int T = int(kSmallTile), N = int(kSmallOutput);
    // Columns: z[r][j] = (A^T M)[r][j]; position 6i + j of column j is a + i*6*pos.
    mov(a, m);
    for (int j = 0; j < T; ++j) {
      mov(a4, a);
      for (int i = 0; i < T; ++i) {
        vmovups(Ymm(i), ptr[a4]);
        if (i + 1 < T) add(a4, pos8);
      }
      small_transform_1d();
      for (int r = 0; r < N; ++r) vmovaps(ptr[rsp + (r * 8 + j) * kVector], Ymm(r));
      if (j + 1 < T) add(a, pos);
    }
    mov(o, out);
    for (int r = 0; r < N; ++r) {
      for (int j = 0; j < T; ++j) vmovaps(Ymm(j), ptr[rsp + (r * 8 + j) * kVector]);
      small_transform_1d();
      add_bias_and_rectify(N);
      lea(o4, ptr[o + channel * 4]);
      store_row_4();
      if (r + 1 < N) add(o, row);
    }
  }

  // y[s] + bias (and ReLU) for the row's values s < n (every other one with stride 2).
  void add_bias_and_rectify(int n) {
    if (relu_) vxorps(ymm15, ymm15, ymm15);
    for (int s = 0; s < n; s += step()) {
      vaddps(Ymm(s), Ymm(s), ptr[bias]);
      if (relu_) vmaxps(Ymm(s), Ymm(s), ymm15);
    }
  }

  // A^T of F(4x4, 3x3) applied to m0..m5 in ymm0..ymm5: y[r] in ymm r, r < 4, as
  // small_output_1d in the reference.
  void small_transform_1d() {
    vaddps(ymm8, ymm1, ymm2);   // s1
    vsubps(ymm9, ymm1, ymm2);   // d1
    vaddps(ymm10, ymm3, ymm4);  // s2
    vsubps(ymm11, ymm3, ymm4);  // d2
    vaddps(ymm0, ymm0, ymm8);   // y0 = (m0 + s1) + s2
    vaddps(ymm0, ymm0, ymm10);
    vmovaps(ymm1, ymm9);        // y1 = fmadd(d2, 2, d1)
    fmadd(ymm1, ymm11, 2.0f);
    vmovaps(ymm2, ymm8);        // y2 = fmadd(s2, 4, s1)
    fmadd(ymm2, ymm10, 4.0f);
    vaddps(ymm3, ymm9, ymm5);   // y3 = fmadd(d2, 8, d1 + m5)
    fmadd(ymm3, ymm11, 8.0f);
  }

  // y0..y3 (lanes = channels) -> 4 floats per channel.
  void store_row_4() {
    const EightRows c = channels();
    vunpcklps(ymm8, ymm0, ymm1);   // y0 y1 of channels 0, 1 | 4, 5
    vunpckhps(ymm9, ymm0, ymm1);   // 2, 3 | 6, 7
    vunpcklps(ymm10, ymm2, ymm3);  // y2 y3 of channels 0, 1 | 4, 5
    vunpckhps(ymm11, ymm2, ymm3);
    vshufps(ymm4, ymm8, ymm10, 0x44);  // y0..y3 of channel 0 | 4
    vshufps(ymm5, ymm8, ymm10, 0xEE);  // 1 | 5
    vshufps(ymm6, ymm9, ymm11, 0x44);  // 2 | 6
    vshufps(ymm7, ymm9, ymm11, 0xEE);  // 3 | 7
    for (int k = 0; k < 4; ++k) vmovups(ptr[c(k)], Xmm(4 + k));
    for (int k = 0; k < 4; ++k) vextractf128(ptr[c(4 + k)], Ymm(4 + k), 1);
  }

  // A^T applied to m0..m7 in ymm0..ymm7: y[r] in ymm r (only even r with stride 2), as
  // output_1d in the reference.
  void transform_1d() {
    vaddps(ymm8, ymm1, ymm2);    // s1
    vsubps(ymm9, ymm1, ymm2);    // d1
    vaddps(ymm10, ymm3, ymm4);   // s2
    vsubps(ymm11, ymm3, ymm4);   // d2
    vaddps(ymm12, ymm5, ymm6);   // s3
    vsubps(ymm13, ymm5, ymm6);   // d3
    // y0 = (m0 + s1) + (s2 + s3)
    vaddps(ymm0, ymm0, ymm8);
    vaddps(ymm14, ymm10, ymm12);
    vaddps(ymm0, ymm0, ymm14);
    // y2 = fmadd(s3, 0.25, fmadd(s2, 4, s1)); y4 = fmadd(s3, 1/16, fmadd(s2, 16, s1))
    vmovaps(ymm2, ymm8);
    fmadd(ymm2, ymm10, 4.0f);
    fmadd(ymm2, ymm12, 0.25f);
    vmovaps(ymm4, ymm8);
    fmadd(ymm4, ymm10, 16.0f);
    fmadd(ymm4, ymm12, 0.0625f);
    if (stride2_) return;
    // y1 = fmadd(d3, 0.5, fmadd(d2, 2, d1)); y3 = fmadd(d3, 1/8, fmadd(d2, 8, d1));
    // y5 = fmadd(d3, 1/32, fmadd(d2, 32, d1 + m7))
    vmovaps(ymm1, ymm9);
    fmadd(ymm1, ymm11, 2.0f);
    fmadd(ymm1, ymm13, 0.5f);
    vmovaps(ymm3, ymm9);
    fmadd(ymm3, ymm11, 8.0f);
    fmadd(ymm3, ymm13, 0.125f);
    vaddps(ymm5, ymm9, ymm7);
    fmadd(ymm5, ymm11, 32.0f);
    fmadd(ymm5, ymm13, 0.03125f);
  }

  // Channel c's row starts at channels(c).
  EightRows channels() const { return {o, o4, channel, channel3}; }

  // y0..y5 (lanes = channels) -> 6 floats per channel.
  void store_row() {
    const EightRows c = channels();
    store_transposed_6x8([&](int k) { return c(k); });
  }

  // y0, y2, y4 (lanes = channels) -> 3 floats per channel.
  void store_row_stride2() {
    const EightRows c = channels();
    vunpcklps(ymm8, ymm0, ymm2);  // y0 y2 of channels 0, 1 | 4, 5
    vunpckhps(ymm9, ymm0, ymm2);  // 2, 3 | 6, 7
    vextractf128(xmm10, ymm8, 1);
    vextractf128(xmm11, ymm9, 1);
    vextractf128(xmm12, ymm4, 1);
    for (int half = 0; half < 2; ++half) {
      const Xmm low = half == 0 ? xmm8 : xmm10, high = half == 0 ? xmm9 : xmm11;
      const Xmm y4 = half == 0 ? xmm4 : xmm12;
      const int c0 = 4 * half;
      vmovlps(ptr[c(c0 + 0)], low);
      vmovhps(ptr[c(c0 + 1)], low);
      vmovlps(ptr[c(c0 + 2)], high);
      vmovhps(ptr[c(c0 + 3)], high);
      for (int k = 0; k < 4; ++k) vextractps(ptr[c(c0 + k) + 8], y4, static_cast<uint8_t>(k));
    }
  }

  bool relu_, stride2_, small_;
};

// Keys of 8x8 tiles, or (F(4x4, 3x3)) of 6x6 tiles.
bool is_tile_key(const jit::KernelKey& key) {
  return key.mr == key.nr && (key.mr == kTile || key.mr == kSmallTile);
}
bool is_avx2_tile_key(const jit::KernelKey& key) { return key.isa == Isa::avx2 && is_tile_key(key); }
bool is_small(const jit::KernelKey& key) { return key.mr == kSmallTile; }

}  // namespace

std::vector<uint8_t> generate_input_transform_avx2(const jit::KernelKey& key) {
  if (!is_avx2_tile_key(key) || key.family != jit::KernelFamily::f32_wt8x8_input || key.flags != 0) return {};
  return InputGenerator(is_small(key)).bytes();
}

std::vector<uint8_t> generate_kernel_transform_avx2(const jit::KernelKey& key) {
  const bool wide = key.isa == Isa::avx512;  // groups of 16 lanes in zmm registers
  if ((!wide && !is_avx2_tile_key(key)) || !is_tile_key(key) || key.flags != 0) return {};
  if (key.family != jit::KernelFamily::f32_wt8x8_kernel && key.family != jit::KernelFamily::f32_wt8x8_kernel_rotated)
    return {};
  return KernelGenerator(key.family == jit::KernelFamily::f32_wt8x8_kernel_rotated, wide, is_small(key)).bytes();
}

std::vector<uint8_t> generate_output_transform_avx2(const jit::KernelKey& key) {
  if (!is_avx2_tile_key(key) || (key.flags & ~jit::kRelu) != 0) return {};
  if (key.family != jit::KernelFamily::f32_wt8x8_output && key.family != jit::KernelFamily::f32_wt8x8_output_stride2)
    return {};
  const bool stride2 = key.family == jit::KernelFamily::f32_wt8x8_output_stride2;
  if (stride2 && is_small(key)) return {};
  return OutputGenerator((key.flags & jit::kRelu) != 0, stride2, is_small(key)).bytes();
}

}  // namespace nnjit::winograd
