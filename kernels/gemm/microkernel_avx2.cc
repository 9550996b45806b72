// JIT generator of the AVX2+FMA GEMM microkernels: MR x NR register tiles with NR a
// multiple of 8 (one ymm per 8 columns), e.g. 6x16 and 4x24.
//
// Registers: C's row i lives in ymm[i*V .. i*V+V) (V = NR/8 vectors), then V registers
// hold the current NR values of the B panel, and the rest (at least one) take turns as
// the broadcast of one A value. Per k step: V loads of B, MR broadcasts of A, MR*V FMAs.
// The K loop is unrolled `k_unroll` times with a one-step remainder loop; with strided A
// it also prefetches the A rows 1 KiB ahead. C (or the
// bias) is added after the loop; with accumulate, C's lines are prefetched before it.
// With strided A, row i is read at a + (i % 3) * lda (rows 0-2) or a3 + (i % 3) * lda
// (rows 3-5, a3 = a + 3 * lda).
//
// Arguments (System V): kc rdi, a rsi, a_stride rdx, b rcx, c r8, ldc r9, bias [rsp+8].
#include "kernels/gemm/microkernel_generators.h"

#include "jit/x64/x64_generator.h"

namespace nnjit::gemm {
namespace {

using namespace Xbyak;

class GemmAvx2Generator : public jit::x64::X64Generator {
 public:
  // Whether a tile fits the 16 ymm registers (with at least one for broadcasts).
  static bool fits(int mr, int nr) {
    return mr >= 1 && mr <= 6 && nr % 8 == 0 && nr >= 8 && mr * (nr / 8) + nr / 8 + 1 <= 16;
  }

  explicit GemmAvx2Generator(const jit::KernelKey& key)
      : mr_(key.mr),
        nr_(key.nr),
        vectors_(key.nr / 8),
        flags_(key.flags),
        unroll_(key.k_unroll),
        strided_((key.flags & jit::kStridedA) != 0) {
    generate();
  }

 private:
  const Reg64 kc = arg0, a = arg1, lda = arg2, b = arg3, c = arg4, ldc = arg5;
  const Reg64 row = r10;   // walks the rows of C
  const Reg64 a3 = r11;    // row 3 of a strided A
  const Reg64 bias = rax;  // loaded from the stack when used

  Ymm acc(int i, int j) const { return Ymm(i * vectors_ + j); }
  Ymm b_vector(int j) const { return Ymm(mr_ * vectors_ + j); }
  Ymm broadcast(int i) const {
    const int first = (mr_ + 1) * vectors_;
    return Ymm(first + i % (16 - first));
  }

  void generate() {
    shl(ldc, 2);  // elements -> bytes
    if (strided_) {
      shl(lda, 2);
      lea(a3, ptr[lda + lda * 2]);
      add(a3, a);
    }
    load_initial_tile();

    Label main_loop, remainder, remainder_loop, store;
    cmp(kc, unroll_);
    jb(remainder, T_NEAR);
    L(main_loop);
    for (int u = 0; u < unroll_; ++u) k_step(u);
    if (strided_)
      for (int i = 0; i < mr_; ++i) prefetcht0(a_element(i, kStridedPrefetchBytes / 4));
    advance_a(unroll_);
    add(b, unroll_ * nr_ * 4);
    sub(kc, unroll_);
    cmp(kc, unroll_);
    jae(main_loop, T_NEAR);

    L(remainder);
    test(kc, kc);
    jz(store, T_NEAR);
    L(remainder_loop);
    k_step(0);
    advance_a(1);
    add(b, nr_ * 4);
    dec(kc);
    jnz(remainder_loop, T_NEAR);

    L(store);
    store_tile();
    vzeroupper();
    ret();
  }

  void load_initial_tile() {
    if (flags_ & jit::kAccumulate) {
      mov(row, c);
      for (int i = 0; i < mr_; ++i) {
        prefetcht0(ptr[row]);
        prefetcht0(ptr[row + nr_ * 4 - 4]);
        if (i + 1 < mr_) add(row, ldc);
      }
    }
    for (int i = 0; i < mr_; ++i)
      for (int j = 0; j < vectors_; ++j) vxorps(acc(i, j), acc(i, j), acc(i, j));
  }

  // The address of A(i, k0 + u) relative to the current position.
  Address a_element(int i, int u) {
    if (!strided_) return ptr[a + (u * mr_ + i) * 4];
    const Reg64& base = i < 3 ? a : a3;
    switch (i % 3) {
      case 0: return ptr[base + u * 4];
      case 1: return ptr[base + lda + u * 4];
      default: return ptr[base + lda * 2 + u * 4];
    }
  }

  // Strided A streams MR rows of a matrix that is often in memory, not in cache (fully
  // connected weights): each main-loop iteration prefetches every row this far ahead.
  static constexpr int kStridedPrefetchBytes = 1024;

  void advance_a(int steps) {
    if (strided_) {
      add(a, steps * 4);
      add(a3, steps * 4);
    } else {
      add(a, steps * mr_ * 4);
    }
  }

  // One k: C[i][0..NR) += A(i, k) * B[k][0..NR) for every row.
  void k_step(int u) {
    for (int j = 0; j < vectors_; ++j) vmovups(b_vector(j), ptr[b + (u * nr_ + 8 * j) * 4]);
    for (int i = 0; i < mr_; ++i) {
      vbroadcastss(broadcast(i), a_element(i, u));
      for (int j = 0; j < vectors_; ++j) vfmadd231ps(acc(i, j), b_vector(j), broadcast(i));
    }
  }

  void store_tile() {
    const Ymm scratch = b_vector(0);
    if (flags_ & jit::kAccumulate) {
      mov(row, c);
      for (int i = 0; i < mr_; ++i) {
        for (int j = 0; j < vectors_; ++j) vaddps(acc(i, j), acc(i, j), ptr[row + 32 * j]);
        if (i + 1 < mr_) add(row, ldc);
      }
    } else if (flags_ & jit::kBias) {
      mov(bias, ptr[rsp + 8]);  // the seventh argument
      for (int i = 0; i < mr_; ++i) {
        vbroadcastss(scratch, ptr[bias + 4 * i]);
        for (int j = 0; j < vectors_; ++j) vaddps(acc(i, j), acc(i, j), scratch);
      }
    }
    if (flags_ & jit::kRelu) {
      vxorps(scratch, scratch, scratch);
      for (int i = 0; i < mr_; ++i)
        for (int j = 0; j < vectors_; ++j) vmaxps(acc(i, j), acc(i, j), scratch);
    }
    mov(row, c);
    for (int i = 0; i < mr_; ++i) {
      for (int j = 0; j < vectors_; ++j) vmovups(ptr[row + 32 * j], acc(i, j));
      if (i + 1 < mr_) add(row, ldc);
    }
  }

  int mr_, nr_, vectors_;
  uint32_t flags_;
  int unroll_;
  bool strided_;
};

}  // namespace

std::vector<uint8_t> generate_gemm_avx2(const jit::KernelKey& key) {
  if (!GemmAvx2Generator::fits(key.mr, key.nr) || key.k_unroll == 0) return {};
  return GemmAvx2Generator(key).bytes();
}

}  // namespace nnjit::gemm
