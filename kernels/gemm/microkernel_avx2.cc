// JIT generator of the AVX2+FMA GEMM microkernel: a 6x16 register tile.
//
// Registers: ymm0..ymm11 hold C (row i in ymm[2i], ymm[2i+1]: 16 columns), ymm12/13
// the current 16 values of the B panel, ymm14/15 alternate as the broadcast of one
// A value. Per k step: 2 loads of B, 6 broadcasts of A, 12 FMAs. The K loop is
// unrolled `k_unroll` times with a one-step remainder loop. C (or the bias) is added
// after the loop; with accumulate, C's lines are prefetched before it. With strided A
// the six broadcasts read rows a, a+lda, a+2lda and a3, a3+lda, a3+2lda (a3 = a+3lda).
//
// Arguments (System V): kc rdi, a rsi, a_stride rdx, b rcx, c r8, ldc r9, bias [rsp+8].
#include "kernels/gemm/microkernel_generators.h"

#include "jit/x64/x64_generator.h"

namespace nnjit::gemm {
namespace {

using namespace Xbyak;

class GemmAvx2Generator : public jit::x64::X64Generator {
 public:
  static constexpr int kMr = 6;
  static constexpr int kNr = 16;

  explicit GemmAvx2Generator(const jit::KernelKey& key)
      : flags_(key.flags), unroll_(key.k_unroll), strided_((key.flags & jit::kStridedA) != 0) {
    generate();
  }

 private:
  const Reg64 kc = arg0, a = arg1, lda = arg2, b = arg3, c = arg4, ldc = arg5;
  const Reg64 row = r10;   // walks the rows of C
  const Reg64 a3 = r11;    // row 3 of a strided A
  const Reg64 bias = rax;  // loaded from the stack when used
  const Ymm b0 = ymm12, b1 = ymm13;

  static Ymm acc(int i, int j) { return Ymm(2 * i + j); }
  static Ymm broadcast(int i) { return Ymm(14 + (i & 1)); }

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
    advance_a(unroll_);
    add(b, unroll_ * kNr * 4);
    sub(kc, unroll_);
    cmp(kc, unroll_);
    jae(main_loop, T_NEAR);

    L(remainder);
    test(kc, kc);
    jz(store, T_NEAR);
    L(remainder_loop);
    k_step(0);
    advance_a(1);
    add(b, kNr * 4);
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
      for (int i = 0; i < kMr; ++i) {
        prefetcht0(ptr[row]);
        prefetcht0(ptr[row + 60]);
        if (i + 1 < kMr) add(row, ldc);
      }
    }
    for (int i = 0; i < kMr; ++i) {
      vxorps(acc(i, 0), acc(i, 0), acc(i, 0));
      vxorps(acc(i, 1), acc(i, 1), acc(i, 1));
    }
  }

  // The address of A(i, k0 + u) relative to the current position.
  Address a_element(int i, int u) {
    if (!strided_) return ptr[a + (u * kMr + i) * 4];
    const Reg64& base = i < 3 ? a : a3;
    switch (i % 3) {
      case 0: return ptr[base + u * 4];
      case 1: return ptr[base + lda + u * 4];
      default: return ptr[base + lda * 2 + u * 4];
    }
  }

  void advance_a(int steps) {
    if (strided_) {
      add(a, steps * 4);
      add(a3, steps * 4);
    } else {
      add(a, steps * kMr * 4);
    }
  }

  // One k: C[i][0..16) += A(i, k) * B[k][0..16) for the six rows.
  void k_step(int u) {
    vmovups(b0, ptr[b + u * kNr * 4]);
    vmovups(b1, ptr[b + u * kNr * 4 + 32]);
    for (int i = 0; i < kMr; ++i) {
      vbroadcastss(broadcast(i), a_element(i, u));
      vfmadd231ps(acc(i, 0), b0, broadcast(i));
      vfmadd231ps(acc(i, 1), b1, broadcast(i));
    }
  }

  void store_tile() {
    if (flags_ & jit::kAccumulate) {
      mov(row, c);
      for (int i = 0; i < kMr; ++i) {
        vaddps(acc(i, 0), acc(i, 0), ptr[row]);
        vaddps(acc(i, 1), acc(i, 1), ptr[row + 32]);
        if (i + 1 < kMr) add(row, ldc);
      }
    } else if (flags_ & jit::kBias) {
      mov(bias, ptr[rsp + 8]);  // the seventh argument
      for (int i = 0; i < kMr; ++i) {
        vbroadcastss(b1, ptr[bias + 4 * i]);
        vaddps(acc(i, 0), acc(i, 0), b1);
        vaddps(acc(i, 1), acc(i, 1), b1);
      }
    }
    if (flags_ & jit::kRelu) {
      vxorps(b0, b0, b0);
      for (int i = 0; i < kMr; ++i) {
        vmaxps(acc(i, 0), acc(i, 0), b0);
        vmaxps(acc(i, 1), acc(i, 1), b0);
      }
    }
    mov(row, c);
    for (int i = 0; i < kMr; ++i) {
      vmovups(ptr[row], acc(i, 0));
      vmovups(ptr[row + 32], acc(i, 1));
      if (i + 1 < kMr) add(row, ldc);
    }
  }

  uint32_t flags_;
  int unroll_;
  bool strided_;
};

}  // namespace

std::vector<uint8_t> generate_gemm_avx2(const jit::KernelKey& key) {
  if (key.mr != GemmAvx2Generator::kMr || key.nr != GemmAvx2Generator::kNr || key.k_unroll == 0)
    return {};
  return GemmAvx2Generator(key).bytes();
}

}  // namespace nnjit::gemm
