// JIT generator of the AVX2+FMA matrix-vector kernel (see gemv.h).
//
// Four rows at a time: ymm0..7 accumulate row r in ymm[2r], ymm[2r+1] (16 columns
// per step), ymm8/9 hold 16 values of x, ymm10 converts fp16 weights (F16C), and
// xmm11..14 accumulate the scalar tail of each row; xmm15 holds one x value there.
#include "jit/x64/x64_generator.h"
#include "kernels/gemm/microkernel_generators.h"

namespace nnjit::gemm {
namespace {

using namespace Xbyak;

class GemvAvx2Generator : public jit::x64::X64Generator {
 public:
  static constexpr int kRows = 4;

  explicit GemvAvx2Generator(bool fp16) : fp16_(fp16), element_(fp16 ? 2 : 4) { generate(); }

 private:
  const Reg64 count = arg0, w = arg1, stride = arg2, x = arg3, y = arg4;
  const Reg64 rows[kRows] = {arg1, r9, r10, r11};
  const Ymm x0 = ymm8, x1 = ymm9, converted = ymm10;

  static Ymm acc(int r, int u) { return Ymm(2 * r + u); }
  static Xmm tail_acc(int r) { return Xmm(11 + r); }

  void generate() {
    if (fp16_) add(stride, stride);  // elements -> bytes
    else shl(stride, 2);
    lea(r9, ptr[w + stride]);
    lea(r10, ptr[r9 + stride]);
    lea(r11, ptr[r10 + stride]);
    for (int r = 0; r < kRows; ++r) {
      vxorps(acc(r, 0), acc(r, 0), acc(r, 0));
      vxorps(acc(r, 1), acc(r, 1), acc(r, 1));
      vxorps(tail_acc(r), tail_acc(r), tail_acc(r));
    }

    Label loop16, check8, tail, tail_loop, reduce;
    cmp(count, 16);
    jb(check8, T_NEAR);
    L(loop16);
    vmovups(x0, ptr[x]);
    vmovups(x1, ptr[x + 32]);
    for (int r = 0; r < kRows; ++r) {
      fma_row(acc(r, 0), rows[r], 0, x0);
      fma_row(acc(r, 1), rows[r], 8, x1);
    }
    advance(16);
    cmp(count, 16);
    jae(loop16, T_NEAR);

    L(check8);
    cmp(count, 8);
    jb(tail, T_NEAR);
    vmovups(x0, ptr[x]);
    for (int r = 0; r < kRows; ++r) fma_row(acc(r, 0), rows[r], 0, x0);
    advance(8);

    L(tail);
    test(count, count);
    jz(reduce, T_NEAR);
    L(tail_loop);
    vmovss(xmm15, ptr[x]);
    for (int r = 0; r < kRows; ++r) {
      if (fp16_) {
        movzx(eax, word[rows[r]]);
        vmovd(xmm10, eax);
        vcvtph2ps(xmm10, xmm10);
        vfmadd231ss(tail_acc(r), xmm15, xmm10);
      } else {
        vfmadd231ss(tail_acc(r), xmm15, dword[rows[r]]);
      }
    }
    advance(1);
    jnz(tail_loop, T_NEAR);

    L(reduce);
    for (int r = 0; r < kRows; ++r) {
      const Ymm sum = acc(r, 0);
      vaddps(sum, sum, acc(r, 1));
      vextractf128(xmm10, sum, 1);
      vaddps(Xmm(sum.getIdx()), Xmm(sum.getIdx()), xmm10);
      vhaddps(Xmm(sum.getIdx()), Xmm(sum.getIdx()), Xmm(sum.getIdx()));
      vhaddps(Xmm(sum.getIdx()), Xmm(sum.getIdx()), Xmm(sum.getIdx()));
      vaddss(Xmm(sum.getIdx()), Xmm(sum.getIdx()), tail_acc(r));
      vmovss(ptr[y + 4 * r], Xmm(sum.getIdx()));
    }
    vzeroupper();
    ret();
  }

  // accumulator += W[row][offset .. offset+8) * xs
  void fma_row(const Ymm& accumulator, const Reg64& row, int offset, const Ymm& xs) {
    if (fp16_) {
      vcvtph2ps(converted, ptr[row + offset * 2]);
      vfmadd231ps(accumulator, xs, converted);
    } else {
      vfmadd231ps(accumulator, xs, ptr[row + offset * 4]);
    }
  }

  // Moves x and the row pointers `n` elements on and counts them off (sets ZF).
  void advance(int n) {
    add(x, 4 * n);
    for (const Reg64& row : rows) add(row, element_ * n);
    sub(count, n);
  }

  bool fp16_;
  int element_;
};

}  // namespace

std::vector<uint8_t> generate_gemv_avx2(const jit::KernelKey& key) {
  if (key.mr != GemvAvx2Generator::kRows) return {};
  return GemvAvx2Generator((key.flags & jit::kFp16Weights) != 0).bytes();
}

}  // namespace nnjit::gemm
