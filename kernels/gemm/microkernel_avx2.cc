// JIT generator of the AVX2+FMA GEMM microkernels: MR x NR register tiles with NR a
// multiple of 8 (one ymm per 8 columns), e.g. 6x16 and 4x24.
//
// Registers: the first S (the spare ones, at least one) take turns as the broadcast of
// one A value, the next V (= NR/8 vectors) hold the current NR values of the B panel,
// and C's row i lives in the V registers from S + V + i*V. Per k step: V loads of B, MR broadcasts of A, MR*V FMAs.
// Keys for Isa::avx512 get the 32 registers of AVX-512 (EVEX encodings): panels-A tiles of
// 16 columns (the Winograd multiply's rows = tiles) run in zmm registers, one per row of C,
// with A broadcast from memory by the FMA itself ({1to16}: no broadcast registers, one
// instruction per row and k), up to 18 rows; other tiles of a multiple of 16 columns (the
// convolution GEMM's 6x32) run in zmm registers with broadcast registers as with AVX2; the
// rest use 32 ymm registers.
// The K loop is unrolled `k_unroll` times with a one-step remainder loop; with strided A
// it also prefetches the A rows 1 KiB ahead, with panels A the B rows 6 KiB ahead (or to L2
// and L1 further ahead with far prefetch). C (or the
// bias) is added after the loop; with accumulate, C's lines are prefetched before it.
// With strided A, row i is read at a + (i % 3) * lda (rows 0-2) or a3 + (i % 3) * lda
// (rows 3-5, a3 = a + 3 * lda). With panels A, row i is lane r % 6 of the packed 6-row
// panel at a + (r / 6) * lda, r = i + s with s the key's first lane (at most 3 panels).
//
// Arguments (System V): kc rdi, a rsi, a_stride rdx, b rcx, c r8, ldc r9, bias [rsp+8].
#include "kernels/gemm/microkernel_generators.h"

#include "kernels/gemm/microkernel.h"

#include "jit/x64/x64_generator.h"

namespace nnjit::gemm {
namespace {

using namespace Xbyak;

class GemmAvx2Generator : public jit::x64::X64Generator {
 public:
  // Whether a tile fits the key's registers (with at least one for broadcasts); more than
  // 6 rows only from packed panels.
  static bool fits(const jit::KernelKey& key) {
    const int mr = key.mr, nr = key.nr;
    const int lane = static_cast<int>(jit::panels_a_lane_of(key.flags));
    const int most_rows = (key.flags & jit::kPanelsA) ? 3 * kPanelRows - lane : kPanelRows;
    if ((key.flags & jit::kStridedA) && (key.flags & jit::kPanelsA)) return false;
    if (lane >= kPanelRows || (lane != 0 && (!(key.flags & jit::kPanelsA) || mr > kPanelRows))) return false;
    if (mr < 1 || mr > most_rows) return false;
    if (uses_zmm(key) && (key.flags & jit::kPanelsA)) return nr == 16;  // mr + 1 <= 19 of the 32 registers
    if (uses_zmm(key)) return (mr + 1) * (nr / 16) + 1 <= 32;
    return nr % 8 == 0 && nr >= 8 && tile_vector_registers({key.mr, key.nr}) <= size_t(registers(key.isa));
  }

  // zmm tiles: AVX-512 keys of panels-A tiles and of tiles of whole zmm vectors.
  static bool uses_zmm(const jit::KernelKey& key) {
    return key.isa == Isa::avx512 && ((key.flags & jit::kPanelsA) || key.nr % 16 == 0);
  }

  explicit GemmAvx2Generator(const jit::KernelKey& key)
      : mr_(key.mr),
        nr_(key.nr),
        zmm_(uses_zmm(key)),
        lanes_(zmm_ ? 16 : 8),
        vectors_(key.nr / lanes_),
        flags_(key.flags),
        unroll_(key.k_unroll),
        strided_((key.flags & jit::kStridedA) != 0),
        panels_((key.flags & jit::kPanelsA) != 0),
        far_((key.flags & jit::kFarPrefetchB) != 0),
        lane_(static_cast<int>(jit::panels_a_lane_of(key.flags))),
        registers_(registers(key.isa)) {
    generate();
  }

 private:
  static constexpr int kPanelRows = 6;
  static int registers(Isa isa) { return isa == Isa::avx512 ? 32 : 16; }

  const Reg64 kc = arg0, a = arg1, lda = arg2, b = arg3, c = arg4, ldc = arg5;
  const Reg64 row = r10;   // walks the rows of C
  const Reg64 a3 = r11;    // row 3 of a strided A
  const Reg64 bias = rax;  // loaded from the stack when used

  // Broadcasts and B take the low registers: an EVEX vbroadcastss (into ymm16-31) measured
  // 17 % slower tiles on Zen 4 than VEX ones; the accumulators take the rest. Panels-A zmm
  // tiles have no broadcast registers (the FMAs broadcast from memory).
  int spare() const { return zmm_ && panels_ ? 0 : registers_ - (mr_ + 1) * vectors_; }
  Xmm vector(int index) const { return Xmm(zmm_ ? Operand::ZMM : Operand::YMM, index); }
  Xmm broadcast(int i) const { return vector(i % spare()); }
  Xmm b_vector(int j) const { return vector(spare() + j); }
  Xmm acc(int i, int j) const { return vector(spare() + vectors_ + i * vectors_ + j); }
  int vector_bytes() const { return lanes_ * 4; }

  void generate() {
    shl(ldc, 2);  // elements -> bytes
    if (strided_) {
      shl(lda, 2);
      lea(a3, ptr[lda + lda * 2]);
      add(a3, a);
    }
    if (panels_) shl(lda, 2);
    load_initial_tile();

    Label main_loop, remainder, remainder_loop, store;
    cmp(kc, unroll_);
    jb(remainder, T_NEAR);
    L(main_loop);
    for (int u = 0; u < unroll_; ++u) k_step(u);
    if (strided_)
      for (int i = 0; i < mr_; ++i) prefetcht0(ptr[a_element(i, kStridedPrefetchBytes / 4)]);
    if (panels_) prefetch_b();
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
      for (int j = 0; j < vectors_; ++j) zero(acc(i, j));
  }


  // The address of A(i, k0 + u) relative to the current position.
  RegExp a_element(int i, int u) {
    if (panels_) {
      const int r = i + lane_;  // row of the panels
      const int offset = (u * kPanelRows + r % kPanelRows) * 4;
      switch (r / kPanelRows) {
        case 0: return a + offset;
        case 1: return a + lda + offset;
        default: return a + lda * 2 + offset;
      }
    }
    if (!strided_) return a + (u * mr_ + i) * 4;
    const Reg64& base = i < 3 ? a : a3;
    switch (i % 3) {
      case 0: return base + u * 4;
      case 1: return base + lda + u * 4;
      default: return base + lda * 2 + u * 4;
    }
  }

  // Strided A streams MR rows of a matrix that is often in memory, not in cache (fully
  // connected weights): each main-loop iteration prefetches every row this far ahead.
  static constexpr int kStridedPrefetchBytes = 1024;
  // Panels A (the Winograd multiply) streams B, often from L3 or memory, in long runs (the
  // transformed kernel of one position is contiguous), at one line per k step for 6 to 14
  // rows of FMAs: each main-loop iteration prefetches its B lines this far ahead. Measured
  // on the 13x13 to 28x28 layers at batch 1 (reuse): 3 to 8 KiB alike, 15-40 % faster
  // than none; 1 KiB did little.
  static constexpr int kPanelsPrefetchBytes = 6144;
  // With far prefetch (B larger than the caches, read from memory): to L2 12 KiB ahead and
  // to L1 3 KiB ahead. Measured on vgg.conv5_2 and resnet18.conv5 reusing a 64 MiB U:
  // 1.25-1.4x at one thread, 1.1-1.2x at two; on B in L3 it was slower than the above.
  static constexpr int kFarL2PrefetchBytes = 12288;
  static constexpr int kFarL1PrefetchBytes = 3072;

  void prefetch_b() {
    for (int line = 0; line < unroll_ * nr_ * 4; line += 64) {
      if (far_) {
        prefetcht1(ptr[b + kFarL2PrefetchBytes + line]);
        prefetcht0(ptr[b + kFarL1PrefetchBytes + line]);
      } else {
        prefetcht0(ptr[b + kPanelsPrefetchBytes + line]);
      }
    }
  }

  void advance_a(int steps) {
    if (strided_) {
      add(a, steps * 4);
      add(a3, steps * 4);
    } else {
      add(a, steps * (panels_ ? kPanelRows : mr_) * 4);
    }
  }

  // One k: C[i][0..NR) += A(i, k) * B[k][0..NR) for every row.
  void k_step(int u) {
    for (int j = 0; j < vectors_; ++j) vmovups(b_vector(j), ptr[b + (u * nr_ + lanes_ * j) * 4]);
    for (int i = 0; i < mr_; ++i) {
      if (zmm_ && panels_) {  // one vector per row
        vfmadd231ps(acc(i, 0), b_vector(0), ptr_b[a_element(i, u)]);
        continue;
      }
      vbroadcastss(broadcast(i), ptr[a_element(i, u)]);
      for (int j = 0; j < vectors_; ++j) vfmadd231ps(acc(i, j), b_vector(j), broadcast(i));
    }
  }

  void store_tile() {
    const Xmm scratch = b_vector(0);
    if (flags_ & jit::kAccumulate) {
      mov(row, c);
      for (int i = 0; i < mr_; ++i) {
        for (int j = 0; j < vectors_; ++j) vaddps(acc(i, j), acc(i, j), ptr[row + vector_bytes() * j]);
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
      zero(scratch);
      for (int i = 0; i < mr_; ++i)
        for (int j = 0; j < vectors_; ++j) vmaxps(acc(i, j), acc(i, j), scratch);
    }
    mov(row, c);
    for (int i = 0; i < mr_; ++i) {
      for (int j = 0; j < vectors_; ++j) vmovups(ptr[row + vector_bytes() * j], acc(i, j));
      if (i + 1 < mr_) add(row, ldc);
    }
  }

  int mr_, nr_;
  bool zmm_;
  int lanes_, vectors_;
  uint32_t flags_;
  int unroll_;
  bool strided_;
  bool panels_;
  bool far_;
  int lane_;  // panels A: the first row's lane in the first panel
  int registers_;
};

}  // namespace

std::vector<uint8_t> generate_gemm_avx2(const jit::KernelKey& key) {
  if (!GemmAvx2Generator::fits(key) || key.k_unroll == 0) return {};
  return GemmAvx2Generator(key).bytes();
}

}  // namespace nnjit::gemm
