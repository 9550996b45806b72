// JIT generator of the AVX2+FMA GEMM microkernel: a 6x16 register tile.
//
// Registers: ymm0..ymm11 hold C (row i in ymm[2i], ymm[2i+1]: 16 columns), ymm12/13
// the current 16 values of the B panel, ymm14/15 alternate as the broadcast of one
// A value. Per k step: 2 loads of B, 6 broadcasts of A, 12 FMAs. The K loop is
// unrolled `k_unroll` times with a one-step remainder loop. C (or the bias) is added
// after the loop; with accumulate, C's lines are prefetched before it.
#include "kernels/gemm/microkernel_generators.h"

#include "jit/x64/x64_generator.h"

namespace nnjit::gemm {
namespace {

using namespace Xbyak;

class GemmAvx2Generator : public jit::x64::X64Generator {
 public:
  static constexpr int kMr = 6;
  static constexpr int kNr = 16;

  explicit GemmAvx2Generator(const jit::KernelKey& key) : flags_(key.flags), unroll_(key.k_unroll) {
    generate();
  }

 private:
  const Reg64 kc = arg0, a = arg1, b = arg2, c = arg3, ldc = arg4, bias = arg5;
  const Reg64 row = r10;  // walks the rows of C
  const Ymm b0 = ymm12, b1 = ymm13;

  static Ymm acc(int i, int j) { return Ymm(2 * i + j); }
  static Ymm broadcast(int i) { return Ymm(14 + (i & 1)); }

  void generate() {
    shl(ldc, 2);  // elements -> bytes
    load_initial_tile();

    Label main_loop, remainder, remainder_loop, store;
    cmp(kc, unroll_);
    jb(remainder, T_NEAR);
    L(main_loop);
    for (int u = 0; u < unroll_; ++u) k_step(u);
    add(a, unroll_ * kMr * 4);
    add(b, unroll_ * kNr * 4);
    sub(kc, unroll_);
    cmp(kc, unroll_);
    jae(main_loop, T_NEAR);

    L(remainder);
    test(kc, kc);
    jz(store, T_NEAR);
    L(remainder_loop);
    k_step(0);
    add(a, kMr * 4);
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

  // One k: C[i][0..16) += A[k][i] * B[k][0..16) for the six rows.
  void k_step(int u) {
    vmovups(b0, ptr[b + u * kNr * 4]);
    vmovups(b1, ptr[b + u * kNr * 4 + 32]);
    for (int i = 0; i < kMr; ++i) {
      vbroadcastss(broadcast(i), ptr[a + (u * kMr + i) * 4]);
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
};

}  // namespace

std::vector<uint8_t> generate_gemm_avx2(const jit::KernelKey& key) {
  if (key.mr != GemmAvx2Generator::kMr || key.nr != GemmAvx2Generator::kNr || key.k_unroll == 0)
    return {};
  return GemmAvx2Generator(key).bytes();
}

}  // namespace nnjit::gemm
