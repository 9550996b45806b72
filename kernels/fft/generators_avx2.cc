// x86-64 generators of the FFT family: the tile transforms (from traces of fft_algorithm.h,
// trace.h), the complex multiply-accumulate microkernel (cmac.h) and the staging transposes
// (staging.h). All compute on 256-bit vectors with AVX2+FMA; keys for Isa::avx512 get the
// same operations EVEX-encoded with the 32 registers of AVX-512VL (fewer spills in the
// 16x16 transforms; the results are the same bits).
#include "kernels/fft/generators.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <limits>
#include <map>
#include <memory>

#include "jit/x64/x64_generator.h"
#include "kernels/fft/cmac.h"
#include "kernels/fft/fft_algorithm.h"
#include "kernels/fft/staging.h"
#include "kernels/fft/trace.h"
#include "kernels/fft/transforms.h"

namespace nnjit::fft {
namespace {

using namespace Xbyak;
using trace::Mem;
using trace::Node;
using trace::Op;
using trace::Program;

// ---- traces of the transforms -------------------------------------------------------
// Symbolic bases and strides of the traces, bound to argument registers below.
enum Base : uint8_t { kIn = 0, kInIm = 1, kOut = 2, kOutIm = 3, kBias = 4, kBaseCount = 5 };
enum Stride : uint8_t { kNoStride = 0, kInStride = 1, kOutStride = 2, kStrideCount = 3 };

constexpr int32_t kVectorBytes = 32;

Program trace_forward(const ForwardSpec& spec) {
  Program program;
  trace::Builder b(program);
  forward_2d(
      b, spec.tile, spec.rows, spec.cols, spec.conjugate,
      [&](size_t r, size_t c) {
        return b.load({kIn, kInStride, static_cast<uint16_t>(r), static_cast<int32_t>(c) * kVectorBytes});
      },
      [&](size_t slot, trace::Value re, trace::Value im) {
        b.store({kOut, kOutStride, static_cast<uint16_t>(slot), 0}, re);
        b.store({kOutIm, kOutStride, static_cast<uint16_t>(slot), 0}, im);
        if (spec.summed) b.store({kOutIm, kOutStride, static_cast<uint16_t>(slot), kVectorBytes}, b.add(re, im));
      });
  program.prune();
  return program;
}

Program trace_inverse(const InverseSpec& spec) {
  Program program;
  trace::Builder b(program);
  const trace::Value scale = b.constant(1.0f / static_cast<float>(4 * spec.tile * spec.tile));
  const trace::Value bias = spec.bias ? b.load({kBias, kNoStride, 0, 0}) : trace::kZero;
  inverse_2d(
      b, spec.tile, spec.rows, spec.cols,
      [&](size_t slot) {
        return Cplx<trace::Value>{b.load({kIn, kInStride, static_cast<uint16_t>(slot), 0}),
                                  b.load({kInIm, kInStride, static_cast<uint16_t>(slot), 0})};
      },
      [&](size_t r, size_t c, trace::Value y) {
        trace::Value v = spec.bias ? b.fma(y, scale, bias) : b.mul(y, scale);
        if (spec.relu) v = b.max0(v);
        b.store({kOut, kOutStride, static_cast<uint16_t>(r), static_cast<int32_t>(c) * kVectorBytes}, v);
      });
  program.prune();
  return program;
}

// ---- trace -> AVX2 code ---------------------------------------------------------------
// One pass over the program in order. Values live in the 16 ymm registers (32 with
// AVX-512VL); when they run
// out, the value used furthest in the future is evicted (Belady): loads and constants are
// simply re-read later, computed values are spilled to the stack frame once. Loads and
// constants are read when first needed, and a value that is not in a register may serve
// as the memory operand of its consumer. Addresses base + stride * multiple use the scaled
// index directly for multiples 1, 2, 4, 8 and otherwise a small cache of multiplied
// strides in scratch registers. The allocation runs twice: a first pass sizes the stack
// frame, the second emits the final code.
class TraceGenerator : public jit::x64::X64Generator {
 public:
  struct Binding {
    Reg64 base[kBaseCount];
    Reg64 stride[kStrideCount];
  };

  TraceGenerator(const Program& program, const Binding& binding, void (*prologue)(TraceGenerator&), int registers)
      : X64Generator(512 * 1024), kRegisters(registers), p_(program), binding_(binding), prologue_(prologue) {
    collect_uses();
    run();  // sizing pass
    const size_t slots = max_slots_;
    reset();
    frame_slots_ = slots;
    run();
  }

 private:
  static constexpr int kMaxRegisters = 32;
  int kRegisters;  // 16 (AVX2) or 32 (AVX-512VL: EVEX encodings reach ymm16..31)
  static constexpr int kNone = -1;
  static constexpr size_t kNever = std::numeric_limits<size_t>::max();

  struct Location {
    int reg = kNone;
    int slot = kNone;
  };

  void collect_uses() {
    uses_.assign(p_.nodes.size(), {});
    for (size_t i = 0; i < p_.nodes.size(); ++i) {
      if (!p_.live[i]) continue;
      const Node& n = p_.nodes[i];
      for (int32_t operand : {n.a, n.b, n.c})
        if (operand >= 0) uses_[static_cast<size_t>(operand)].push_back(i);
    }
    // Constants in the pool: every constant value, plus the sign mask and zero.
    for (size_t i = 0; i < p_.nodes.size(); ++i) {
      if (!p_.live[i] || p_.nodes[i].op != Op::constant) continue;
      pool_index_.emplace(bits(p_.nodes[i].value), 0);
    }
    pool_index_.emplace(0x80000000u, 0);
    pool_index_.emplace(0u, 0);
    size_t index = 0;
    for (auto& [value, slot] : pool_index_) slot = index++;
  }

  static uint32_t bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
  }

  void run() {
    location_.assign(p_.nodes.size(), Location{});
    next_use_.assign(p_.nodes.size(), 0);
    for (int r = 0; r < kRegisters; ++r) holder_[r] = kNone;
    free_slots_.clear();
    slot_count_ = 0;
    max_slots_ = 0;
    for (auto& entry : gpr_cache_) entry = {0, 0, 0};
    gpr_clock_ = 0;
    pool_label_ = std::make_unique<Label>();

    push(rbp);
    mov(rbp, rsp);
    and_(rsp, -32);
    if (frame_slots_ > 0) sub(rsp, static_cast<uint32_t>(frame_slots_ * kVectorBytes));
    prologue_(*this);

    for (size_t i = 0; i < p_.nodes.size(); ++i) {
      if (!p_.live[i]) continue;
      const Node& n = p_.nodes[i];
      switch (n.op) {
        case Op::load:
        case Op::constant:
          break;  // read when first used
        case Op::store: {
          lock_ = 0;
          const int r = in_register(n.a);
          vmovups(address(n.mem), Ymm(r));
          consume(n, i, kNone);
          break;
        }
        default:
          arithmetic(n, i);
      }
    }

    mov(rsp, rbp);
    pop(rbp);
    vzeroupper();
    ret();
    align(32);
    L(*pool_label_);
    for (const auto& [value, slot] : pool_index_)
      for (int l = 0; l < 8; ++l) dd(value);
  }

  // ---- values and registers ----

  bool rematerializable(int32_t v) const {
    const Op op = p_.nodes[static_cast<size_t>(v)].op;
    return op == Op::load || op == Op::constant;
  }

  // Whether v can be read from memory as it is (not in a register).
  bool in_memory(int32_t v) const {
    const Location& l = location_[static_cast<size_t>(v)];
    return l.reg == kNone && (rematerializable(v) || l.slot != kNone);
  }

  Address memory_of(int32_t v) {
    const Node& n = p_.nodes[static_cast<size_t>(v)];
    if (n.op == Op::load) return address(n.mem);
    if (n.op == Op::constant) return pool(bits(n.value));
    return ptr[rsp + location_[static_cast<size_t>(v)].slot * kVectorBytes];
  }

  Address pool(uint32_t value) { return ptr[rip + *pool_label_ + static_cast<int>(pool_index_.at(value) * kVectorBytes)]; }

  size_t next_use(int32_t v) const {
    const auto& u = uses_[static_cast<size_t>(v)];
    const size_t k = next_use_[static_cast<size_t>(v)];
    return k < u.size() ? u[k] : kNever;
  }

  int take_register() {
    for (int r = 0; r < kRegisters; ++r)
      if (holder_[r] == kNone && !(lock_ & (1u << r))) return r;
    int victim = kNone;
    size_t furthest = 0;
    for (int r = 0; r < kRegisters; ++r) {
      if (lock_ & (1u << r)) continue;
      const size_t next = next_use(holder_[r]);
      // Prefer evicting values that need no store, at equal distance.
      const bool clean = rematerializable(holder_[r]) || location_[static_cast<size_t>(holder_[r])].slot != kNone;
      if (victim == kNone || next > furthest || (next == furthest && clean)) {
        victim = r;
        furthest = next;
      }
    }
    evict(victim);
    return victim;
  }

  void evict(int r) {
    const int32_t v = holder_[r];
    Location& l = location_[static_cast<size_t>(v)];
    if (!rematerializable(v) && l.slot == kNone) {
      if (!free_slots_.empty()) {
        l.slot = free_slots_.back();
        free_slots_.pop_back();
      } else {
        l.slot = static_cast<int>(slot_count_++);
        max_slots_ = std::max(max_slots_, slot_count_);
      }
      vmovaps(ptr[rsp + l.slot * kVectorBytes], Ymm(r));
    }
    l.reg = kNone;
    holder_[r] = kNone;
  }

  void assign(int32_t v, int r) {
    holder_[r] = v;
    location_[static_cast<size_t>(v)].reg = r;
  }

  // v in a register (read from memory if needed), locked for the current operation.
  int in_register(int32_t v) {
    Location& l = location_[static_cast<size_t>(v)];
    if (l.reg == kNone) {
      const int r = take_register();
      read(v, r);
      assign(v, r);
    }
    lock_ |= 1u << l.reg;
    return l.reg;
  }

  // Advances the operands past node i; dead operands release their register (unless it
  // became `kept`, the result's) and their stack slot.
  void consume(const Node& n, size_t i, int kept) {
    for (int32_t operand : {n.a, n.b, n.c}) {
      if (operand < 0) continue;
      const size_t v = static_cast<size_t>(operand);
      while (next_use_[v] < uses_[v].size() && uses_[v][next_use_[v]] <= i) ++next_use_[v];
      if (next_use_[v] < uses_[v].size()) continue;
      Location& l = location_[v];
      if (l.reg != kNone && l.reg != kept && holder_[l.reg] == operand) holder_[l.reg] = kNone;
      if (l.reg != kept) l.reg = kNone;
      if (l.slot != kNone) {
        free_slots_.push_back(l.slot);
        l.slot = kNone;
      }
    }
  }

  // Uses of `v` at node i (v may appear more than once) leave none after it.
  bool dies(int32_t v, size_t i) const {
    const auto& u = uses_[static_cast<size_t>(v)];
    size_t k = next_use_[static_cast<size_t>(v)];
    while (k < u.size() && u[k] <= i) ++k;
    return k == u.size();
  }

  bool held(int32_t v) const { return location_[static_cast<size_t>(v)].reg != kNone; }
  int reg_of(int32_t v) const { return location_[static_cast<size_t>(v)].reg; }

  // ---- addresses ----

  Address address(const Mem& m) {
    const Reg64 base = binding_.base[m.base];
    if (m.stride == kNoStride || m.multiple == 0) return ptr[base + m.disp];
    const Reg64 stride = binding_.stride[m.stride];
    switch (m.multiple) {
      case 1: return ptr[base + stride + m.disp];
      case 2: return ptr[base + stride * 2 + m.disp];
      case 4: return ptr[base + stride * 4 + m.disp];
      case 8: return ptr[base + stride * 8 + m.disp];
      default: return ptr[base + scaled_stride(m.stride, m.multiple) + m.disp];
    }
  }

  // A scratch register holding stride * multiple.
  Reg64 scaled_stride(uint8_t stride, uint16_t multiple) {
    static const Reg64 scratch[kGprCache] = {rax, r10, r11};
    size_t lru = 0;
    for (size_t k = 0; k < kGprCache; ++k) {
      GprEntry& e = gpr_cache_[k];
      if (e.stride == stride && e.multiple == multiple && e.stamp != 0) {
        e.stamp = ++gpr_clock_;
        return scratch[k];
      }
      if (e.stamp < gpr_cache_[lru].stamp) lru = k;
    }
    imul(scratch[lru], binding_.stride[stride], multiple);
    gpr_cache_[lru] = {stride, multiple, ++gpr_clock_};
    return scratch[lru];
  }

  // ---- arithmetic ----

  void arithmetic(const Node& n, size_t i) {
    lock_ = 0;
    switch (n.op) {
      case Op::add:
      case Op::mul: {
        // Commutative: one operand may come from memory.
        int32_t x = n.a, y = n.b;
        if (in_memory(x) && !in_memory(y)) std::swap(x, y);
        const int rx = in_register(x);
        const bool y_memory = in_memory(y);
        const int ry = y_memory ? kNone : in_register(y);
        const int d = result_register(n, i, {x, y});
        const Ymm dst(d), src(rx);
        with_operand(y_memory, y, ry, [&](const Operand& o) {
          if (n.op == Op::add) vaddps(dst, src, o);
          else vmulps(dst, src, o);
        });
        finish(n, i, d);
        return;
      }
      case Op::sub: {
        const int ra = in_register(n.a);
        const bool b_memory = in_memory(n.b);
        const int rb = b_memory ? kNone : in_register(n.b);
        const int d = result_register(n, i, {n.a, n.b});
        with_operand(b_memory, n.b, rb, [&](const Operand& o) { vsubps(Ymm(d), Ymm(ra), o); });
        finish(n, i, d);
        return;
      }
      case Op::neg: {
        const int ra = in_register(n.a);
        const int d = result_register(n, i, {n.a});
        vxorps(Ymm(d), Ymm(ra), pool(0x80000000u));
        finish(n, i, d);
        return;
      }
      case Op::max0: {
        const int ra = in_register(n.a);
        const int d = result_register(n, i, {n.a});
        vmaxps(Ymm(d), Ymm(ra), pool(0u));
        finish(n, i, d);
        return;
      }
      default:
        fused(n, i);
    }
  }

  // A register for the result of a non-destructive operation: a dying operand's, a free
  // one, or an evicted one.
  int result_register(const Node& n, size_t i, std::initializer_list<int32_t> operands) {
    for (int32_t v : operands)
      if (held(v) && dies(v, i)) return reg_of(v);
    (void)n;
    return take_register();
  }

  void finish(const Node& n, size_t i, int d) {
    consume(n, i, d);
    const int32_t self = static_cast<int32_t>(&n - p_.nodes.data());
    if (holder_[d] != kNone && holder_[d] != self) location_[static_cast<size_t>(holder_[d])].reg = kNone;
    assign(self, d);
    if (uses_[static_cast<size_t>(self)].empty()) holder_[d] = kNone, location_[static_cast<size_t>(self)].reg = kNone;
  }

  // fma (a*b + c), fms (a*b - c), fnma (c - a*b). Instructions read every source before
  // writing, so the result may take the register of any dying operand.
  void fused(const Node& n, size_t i) {
    const int32_t a = n.a, b = n.b, c = n.c;
    if (!(held(c) && dies(c, i))) {
      int32_t m = kNone;
      if (held(a) && dies(a, i)) m = a;
      else if (held(b) && dies(b, i)) m = b;
      if (m != kNone) {
        // Form 213: m = other * m + c (c may come from memory).
        const int32_t other = m == a ? b : a;
        const int rm = in_register(m);
        const int ro = in_register(other);
        const bool c_memory = in_memory(c);
        const int rc = c_memory ? kNone : in_register(c);
        const Ymm x1(rm), x2(ro);
        with_operand(c_memory, c, rc, [&](const Operand& x3) {
          switch (n.op) {
            case Op::fma: vfmadd213ps(x1, x2, x3); break;
            case Op::fms: vfmsub213ps(x1, x2, x3); break;
            default: vfnmadd213ps(x1, x2, x3); break;
          }
        });
        finish(n, i, rm);
        return;
      }
    }
    // Form 231: acc = x * y + acc, where acc is c's register if c dies there, else a fresh
    // register holding c (read from memory, or copied).
    int32_t x = a, y = b;
    if (in_memory(x) && !in_memory(y)) std::swap(x, y);
    const int rx = in_register(x);
    const bool y_memory = in_memory(y);
    const int ry = y_memory ? kNone : in_register(y);
    int d;
    if (held(c) && dies(c, i)) {
      d = reg_of(c);
      lock_ |= 1u << d;
    } else if (held(c)) {
      const int rc = reg_of(c);
      lock_ |= 1u << rc;
      d = take_register();
      vmovaps(Ymm(d), Ymm(rc));
    } else {
      d = take_register();
      read(c, d);
    }
    const Ymm x1(d), x2(rx);
    with_operand(y_memory, y, ry, [&](const Operand& x3) {
      switch (n.op) {
        case Op::fma: vfmadd231ps(x1, x2, x3); break;
        case Op::fms: vfmsub231ps(x1, x2, x3); break;
        default: vfnmadd231ps(x1, x2, x3); break;
      }
    });
    finish(n, i, d);
  }

  // Reads a value that is in memory (load, constant or spill slot) into register r.
  void read(int32_t v, int r) {
    const Node& n = p_.nodes[static_cast<size_t>(v)];
    if (n.op == Op::constant && bits(n.value) == 0) vxorps(Ymm(r), Ymm(r), Ymm(r));
    else if (n.op == Op::load) vmovups(Ymm(r), address(n.mem));
    else vmovaps(Ymm(r), memory_of(v));
  }

  // f(memory operand of v) or f(register r).
  template <class F>
  void with_operand(bool memory, int32_t v, int r, F&& f) {
    if (memory) f(memory_of(v));
    else f(Ymm(r));
  }

  static constexpr size_t kGprCache = 3;
  struct GprEntry {
    uint8_t stride;
    uint16_t multiple;
    uint64_t stamp;
  };

  const Program& p_;
  Binding binding_;
  void (*prologue_)(TraceGenerator&);
  std::vector<std::vector<size_t>> uses_;
  std::vector<size_t> next_use_;
  std::vector<Location> location_;
  int32_t holder_[kMaxRegisters];
  uint32_t lock_ = 0;
  std::vector<int> free_slots_;
  size_t slot_count_ = 0, max_slots_ = 0, frame_slots_ = 0;
  std::map<uint32_t, size_t> pool_index_;
  std::unique_ptr<Label> pool_label_;
  GprEntry gpr_cache_[kGprCache] = {};
  uint64_t gpr_clock_ = 0;

};

// Forward: (in = rdi, in_stride = rsi, out = rdx, out_stride = rcx, out_im = r8 -> out + out_im).
void forward_prologue(TraceGenerator& g) { g.lea(g.r8, g.ptr[g.rdx + g.r8]); }
// Inverse: (in = rdi, in_stride = rsi, in_im = rdx -> in + in_im, out = rcx, out_stride = r8, bias = r9).
void inverse_prologue(TraceGenerator& g) { g.lea(g.rdx, g.ptr[g.rdi + g.rdx]); }

ForwardSpec decode_forward(const jit::KernelKey& key) {
  return {key.mr, static_cast<uint8_t>(key.nr / 16 + 1), static_cast<uint8_t>(key.nr % 16 + 1),
          (key.flags & kConjugate) != 0, (key.flags & kSummed) != 0};
}

InverseSpec decode_inverse(const jit::KernelKey& key) {
  return {key.mr, static_cast<uint8_t>(key.nr / 16 + 1), static_cast<uint8_t>(key.nr % 16 + 1),
          (key.flags & jit::kBias) != 0, (key.flags & jit::kRelu) != 0};
}

int registers(Isa isa) { return isa == Isa::avx512 ? 32 : 16; }

bool valid_extent(uint8_t tile, uint8_t rows, uint8_t cols) {
  return (tile == 8 || tile == 16) && rows >= 1 && rows <= tile && cols >= 1 && cols <= tile;
}

// ---- complex multiply-accumulate (cmac.h) ---------------------------------------------
// Registers, for nr columns: accumulators ymm0 .. ymm(3 nr - 1) (column n: P1 = 3n,
// P2 = 3n + 1, P3 = 3n + 2; the pointwise variant uses 2n and 2n + 1), then A: re, im (then
// Ai - Ar), Ar + Ai; B: re, im, re + im; the lane mask. AVX2 (16 registers) serves up to
// 3 columns; AVX-512VL (32 registers, the same 256-bit operations EVEX-encoded, masked A
// loads under an opmask) up to 8.
// Per k: two vector loads of A (masked or not), per column three broadcasts of B (Br, Bi,
// Br + Bi) and three FMAs (pointwise: two of each). The k loop is unrolled k_unroll times
// (blocked B: 8).
// Column n of B or C is at base + n * stride: bases at columns 0, 3 and 6 and scaled
// indices 1, 2 (and 4) reach columns 0..7.
// Paired calls (AVX-512 only) run both 8-row blocks in one zmm register per operand: A's
// two blocks joined by a 256-bit insert, B as embedded broadcasts of the FMAs, so a column
// takes three 512-bit FMAs instead of six 256-bit ones; the halves of C are stored to the
// two blocks. Each lane sees the operations
// of an unpaired call, so the bits are the same.
class CmacGenerator : public jit::x64::X64Generator {
 public:
  explicit CmacGenerator(const jit::KernelKey& key)
      : nr_(key.nr),
        unroll_(key.k_unroll),
        evex_(key.isa == Isa::avx512),
        pointwise_((key.flags & kPointwise) != 0),
        accumulate_((key.flags & jit::kAccumulate) != 0),
        masked_((key.flags & kMaskedA) != 0),
        blocked_((key.flags & kBlockedB) != 0),
        paired_((key.flags & kPairedA) != 0) {
    if (paired_) {
      // zmm: A of both blocks (re, im, sum), then the accumulators.
      first_acc_ = 3;
    } else {
      const int first = static_cast<int>(3 * nr_);
      a_re = Ymm(first);
      a_im = Ymm(first + 1);
      a_sum = Ymm(first + 2);
      br = Ymm(first + 3);
      bim = Ymm(first + 4);
      bs = Ymm(first + 5);
      mask = Ymm(first + 6);
    }
    generate();
  }

  // Paired calls run in zmm (3 nr accumulators and 5 temporaries of 32): AVX-512, unmasked A.
  static bool serves(const jit::KernelKey& key) {
    if (!(key.flags & kPairedA)) return true;
    return key.isa == Isa::avx512 && !(key.flags & kMaskedA);
  }

 private:
  // Argument block offsets (CmacArgs).
  static constexpr int kA = offsetof(CmacArgs, a), kLda = offsetof(CmacArgs, lda), kAIm = offsetof(CmacArgs, a_im);
  static constexpr int kB = offsetof(CmacArgs, b), kLdbK = offsetof(CmacArgs, ldb_k),
                       kLdbN = offsetof(CmacArgs, ldb_n);
  static constexpr int kC = offsetof(CmacArgs, c), kLdcN = offsetof(CmacArgs, ldc_n);
  static constexpr int kK = offsetof(CmacArgs, k), kMask = offsetof(CmacArgs, mask),
                       kPrefetch = offsetof(CmacArgs, prefetch), kAPair = offsetof(CmacArgs, a_pair);
  static constexpr int kIm = static_cast<int>(kLanes * sizeof(float));  // B and C: imaginary parts
  static constexpr int kSum = 2 * kIm;                                   // B: re + im

  // rdi: the arguments, then the prefetch stream; rbx, rbp saved (B bases at columns 3, 6).
  const Reg64 args = rdi, a = rsi, a_im_offset = rdx, lda = rcx, b = r8, b3 = rbx, b6 = rbp, ldb_k = r10, ldb_n = r11,
              k = rax, pf = rdi, scratch = r9, a2 = r12;  // a2: block 1's A (paired)
  Ymm a_re, a_im, a_sum, br, bim, bs, mask;  // unpaired calls
  int first_acc_ = 0;

  // Accumulator `part` of column n (ymm; the zmm of the same number when paired).
  Ymm acc(size_t n, int part) const { return Ymm(first_acc_ + static_cast<int>(n) * parts() + part); }
  int parts() const { return pointwise_ ? 2 : 3; }

  // Column n (< 8) of a row of B or C: base (column 0), base3, base6 + n' * stride.
  static RegExp column(const Reg64& base, const Reg64& base3, const Reg64& base6, const Reg64& stride, size_t n,
                       int disp) {
    switch (n) {
      case 0: return base + disp;
      case 1: return base + stride + disp;
      case 2: return base + stride * 2 + disp;
      case 3: return base3 + disp;
      case 4: return base + stride * 4 + disp;
      case 5: return base3 + stride * 2 + disp;
      case 6: return base6 + disp;
      default: return base6 + stride + disp;
    }
  }
  RegExp b_at(size_t n, int disp) const { return column(b, b3, b6, ldb_n, n, disp); }


  void generate() {
    push(rbx);
    push(rbp);
    if (paired_) push(a2);
    push(args);  // restored for the stores (rdi becomes the prefetch stream)
    mov(a, ptr[args + kA]);
    if (paired_) {
      mov(a2, ptr[args + kAPair]);
      add(a2, a);
    }
    mov(a_im_offset, ptr[args + kAIm]);
    mov(lda, ptr[args + kLda]);
    mov(b, ptr[args + kB]);
    mov(ldb_k, ptr[args + kLdbK]);
    mov(ldb_n, ptr[args + kLdbN]);
    lea(b3, ptr[b + ldb_n * 2]);
    add(b3, ldb_n);
    lea(b6, ptr[b3 + ldb_n * 2]);
    add(b6, ldb_n);
    if (masked_) {
      mov(scratch, ptr[args + kMask]);
      vmovups(mask, ptr[scratch]);
      if (evex_) vpmovd2m(k1, mask);
    }
    mov(k, ptr[args + kK]);
    mov(pf, ptr[args + kPrefetch]);  // last use of args until the stores
    for (size_t n = 0; n < nr_; ++n)
      for (int part = 0; part < parts(); ++part) {
        if (paired_) vxorps(Zmm(acc(n, part).getIdx()), Zmm(acc(n, part).getIdx()), Zmm(acc(n, part).getIdx()));
        else zero(acc(n, part));
      }

    Label main_loop, remainder, remainder_loop, done;
    // Blocked B: the main loop covers blocks of 8 k (B at displacements 4u, then the next
    // block); the remainder stays within one block (4 bytes per k). Otherwise the main
    // loop is unrolled k_unroll times and B advances by ldb_k per k.
    const int block = blocked_ ? static_cast<int>(kLanes) : unroll_;
    cmp(k, block);
    jb(remainder, T_NEAR);
    L(main_loop);
    for (int u = 0; u < block; ++u) {
      step(blocked_ ? u * 4 : 0);
      if (!blocked_) advance_b(ldb_k);
    }
    if (blocked_) advance_b(ldb_k);
    sub(k, block);
    cmp(k, block);
    jae(main_loop, T_NEAR);
    L(remainder);
    test(k, k);
    jz(done, T_NEAR);
    L(remainder_loop);
    step(0);
    if (blocked_) {
      mov(scratch, 4);
      advance_b(scratch);
    } else {
      advance_b(ldb_k);
    }
    dec(k);
    jnz(remainder_loop, T_NEAR);
    L(done);
    store();
    if (paired_) pop(a2);
    pop(rbp);
    pop(rbx);
    vzeroupper();
    ret();
  }


  void advance_b(const Reg64& stride) {
    add(b, stride);
    if (nr_ > 3) add(b3, stride);  // bases of columns 3.. and 6.. only where used
    if (nr_ > 6) add(b6, stride);
  }

  // One k: accumulate A[k] (x) B[k][n] for every column (B at displacement `disp`), then
  // advance A. One line of the prefetch stream per k.
  void step(int disp) {
    prefetcht0(ptr[pf]);
    add(pf, 64);
    if (paired_) {
      step_paired(disp);
      return;
    }
    const Ymm ar = a_re, ai = a_im;
    if (masked_ && evex_) {
      vmovups(ar | k1 | T_z, ptr[a]);
      vmovups(ai | k1 | T_z, ptr[a + a_im_offset]);
    } else if (masked_) {
      vmaskmovps(ar, mask, ptr[a]);
      vmaskmovps(ai, mask, ptr[a + a_im_offset]);
    } else {
      vmovups(ar, ptr[a]);
      vmovups(ai, ptr[a + a_im_offset]);
    }
    if (!pointwise_) {
      vaddps(a_sum, ar, ai);  // Ar + Ai
      vsubps(ai, ai, ar);     // Ai - Ar
    }
    for (size_t n = 0; n < nr_; ++n) {
      vbroadcastss(br, ptr[b_at(n, disp)]);
      vbroadcastss(bim, ptr[b_at(n, disp + kIm)]);
      if (pointwise_) {
        vfmadd231ps(acc(n, 0), ar, br);
        vfmadd231ps(acc(n, 1), ai, bim);
      } else {
        vbroadcastss(bs, ptr[b_at(n, disp + kSum)]);
        vfmadd231ps(acc(n, 0), ar, bs);
        vfmadd231ps(acc(n, 1), a_sum, bim);
        vfmadd231ps(acc(n, 2), ai, br);
      }
    }
    add(a, lda);
  }

  // The paired k step in zmm: lanes 0..7 block 0 (A at a), lanes 8..15 block 1 (A at a2).
  void step_paired(int disp) {
    const Zmm zar(0), zai(1), zsum(2);
    vmovups(Ymm(zar.getIdx()), ptr[a]);
    vinsertf64x4(zar, zar, ptr[a2], 1);
    vmovups(Ymm(zai.getIdx()), ptr[a + a_im_offset]);
    vinsertf64x4(zai, zai, ptr[a2 + a_im_offset], 1);
    if (!pointwise_) {
      vaddps(zsum, zar, zai);  // Ar + Ai
      vsubps(zai, zai, zar);   // Ai - Ar
    }
    for (size_t n = 0; n < nr_; ++n) {
      const Zmm p1(acc(n, 0).getIdx()), p2(acc(n, 1).getIdx());
      if (pointwise_) {
        vfmadd231ps(p1, zar, ptr_b[b_at(n, disp)]);
        vfmadd231ps(p2, zai, ptr_b[b_at(n, disp + kIm)]);
      } else {
        const Zmm p3(acc(n, 2).getIdx());
        vfmadd231ps(p1, zar, ptr_b[b_at(n, disp + kSum)]);
        vfmadd231ps(p2, zsum, ptr_b[b_at(n, disp + kIm)]);
        vfmadd231ps(p3, zai, ptr_b[b_at(n, disp)]);
      }
    }
    add(a, lda);
    add(a2, lda);
  }

  void store() {
    // The registers of the k loop are free now: C and its bases at columns 3 and 6, ldc_n.
    const Reg64 c = rsi, c3 = rdx, c6 = r8, ldc_n = rcx;
    pop(args);
    mov(c, ptr[args + kC]);
    mov(ldc_n, ptr[args + kLdcN]);
    lea(c3, ptr[c + ldc_n * 2]);
    add(c3, ldc_n);
    lea(c6, ptr[c3 + ldc_n * 2]);
    add(c6, ldc_n);
    // Paired: block 1's C is the next 64 bytes (its real parts, then its imaginary ones).
    for (size_t n = 0; n < nr_; ++n) {
      int re = acc(n, 0).getIdx(), im = acc(n, 1).getIdx();
      if (!pointwise_) {
        const int p1 = re, p2 = im, p3 = acc(n, 2).getIdx();
        if (paired_) {
          vsubps(Zmm(p2), Zmm(p1), Zmm(p2));  // P1 - P2
          vaddps(Zmm(p3), Zmm(p1), Zmm(p3));  // P1 + P3
        } else {
          vsubps(Ymm(p2), Ymm(p1), Ymm(p2));
          vaddps(Ymm(p3), Ymm(p1), Ymm(p3));
        }
        re = p2;
        im = p3;
      }
      for (int part = 0; part < 2; ++part) {
        const int sum = part == 0 ? re : im, disp = part == 0 ? 0 : kIm;
        const Address block0 = ptr[column(c, c3, c6, ldc_n, n, disp)];
        if (!paired_) {
          if (accumulate_) vaddps(Ymm(sum), Ymm(sum), block0);
          vmovups(block0, Ymm(sum));
          continue;
        }
        const Address block1 = ptr[column(c, c3, c6, ldc_n, n, disp + 2 * kIm)];
        if (accumulate_) {
          vmovups(ymm0, block0);
          vinsertf64x4(zmm0, zmm0, block1, 1);
          vaddps(Zmm(sum), Zmm(sum), zmm0);
        }
        vmovups(block0, Ymm(sum));
        vextractf64x4(block1, Zmm(sum), 1);
      }
    }
  }

  size_t nr_;
  int unroll_;
  bool evex_, pointwise_, accumulate_, masked_, blocked_, paired_;
};

// ---- staging (staging.h) ---------------------------------------------------------------
// Per row and 8-column chunk: 8 loads (one per channel, 8 columns each; masked at the
// image edges), an 8x8 transpose in registers (unpack, shuffle, 128-bit permute: 24
// shuffles) and 8 stores (one per column, 8 channels each); unstaging is the mirror image,
// its last chunk written `width` columns wide with 4-, 2- and 1-column stores (masked
// stores are slow on some cores), so the key holds the tile width.
// Channel c of a row is at base p0, p3 or p6 (channels 0, 3, 6) plus 0, 1 or 2 planes.
class StageGenerator : public jit::x64::X64Generator {
 public:
  explicit StageGenerator(const jit::KernelKey& key)
      : unstage_(key.family == jit::KernelFamily::f32_fft_unstage),
        chunks_(key.mr),
        masked_((key.flags & kColumnMasks) != 0),
        width_(unstage_ ? key.nr - 8 * (key.mr - 1) : 8) {
    generate();
  }

 private:
  const Reg64 args = rdi, tile = rsi, tile_row = rdx, p0 = rcx, p3 = r8, p6 = r9, plane = r10, image_row = r11,
              rows = rax;
  const Ymm mask = ymm15;

  Address channel(int c, int chunk) { return channel_at(c, chunk, 0); }
  Address channel_at(int c, int chunk, int column) {
    const int disp = chunk * 32 + column * 4;
    switch (c) {
      case 0: return ptr[p0 + disp];
      case 1: return ptr[p0 + plane + disp];
      case 2: return ptr[p0 + plane * 2 + disp];
      case 3: return ptr[p3 + disp];
      case 4: return ptr[p3 + plane + disp];
      case 5: return ptr[p3 + plane * 2 + disp];
      case 6: return ptr[p6 + disp];
      default: return ptr[p6 + plane + disp];
    }
  }

  // ymm0..7 (rows of an 8x8 block) -> the transposed rows, handed to `sink(i, ymm)` from
  // ymm8..ymm15 (ymm0..7 are free by then).
  template <class Sink>
  void transpose(Sink&& sink) {
    for (int i = 0; i < 4; ++i) {
      vunpcklps(Ymm(8 + 2 * i), Ymm(2 * i), Ymm(2 * i + 1));
      vunpckhps(Ymm(9 + 2 * i), Ymm(2 * i), Ymm(2 * i + 1));
    }
    // t0..t7 = ymm8..15 -> u0..u7 = ymm0..7
    vshufps(ymm0, ymm8, ymm10, 0x44);
    vshufps(ymm1, ymm8, ymm10, 0xEE);
    vshufps(ymm2, ymm9, ymm11, 0x44);
    vshufps(ymm3, ymm9, ymm11, 0xEE);
    vshufps(ymm4, ymm12, ymm14, 0x44);
    vshufps(ymm5, ymm12, ymm14, 0xEE);
    vshufps(ymm6, ymm13, ymm15, 0x44);
    vshufps(ymm7, ymm13, ymm15, 0xEE);
    for (int i = 0; i < 4; ++i) {
      vperm2f128(Ymm(8 + i), Ymm(i), Ymm(4 + i), 0x20);
      vperm2f128(Ymm(12 + i), Ymm(i), Ymm(4 + i), 0x31);
    }
    // Results in ymm8..15; ymm0..7 are free for the sink.
    for (int i = 0; i < 8; ++i) sink(i, Ymm(8 + i));
  }

  void generate() {
    // Argument block: StageArgs {src, plane, src_row, dst, dst_row, rows, masks} or
    // UnstageArgs {src, src_row, dst, plane, dst_row, rows, masks}.
    if (!unstage_) {
      mov(p0, ptr[args + offsetof(StageArgs, src)]);
      mov(plane, ptr[args + offsetof(StageArgs, plane)]);
      mov(image_row, ptr[args + offsetof(StageArgs, src_row)]);
      mov(tile, ptr[args + offsetof(StageArgs, dst)]);
      mov(tile_row, ptr[args + offsetof(StageArgs, dst_row)]);
      mov(rows, ptr[args + offsetof(StageArgs, rows)]);
    } else {
      mov(tile, ptr[args + offsetof(UnstageArgs, src)]);
      mov(tile_row, ptr[args + offsetof(UnstageArgs, src_row)]);
      mov(p0, ptr[args + offsetof(UnstageArgs, dst)]);
      mov(plane, ptr[args + offsetof(UnstageArgs, plane)]);
      mov(image_row, ptr[args + offsetof(UnstageArgs, dst_row)]);
      mov(rows, ptr[args + offsetof(UnstageArgs, rows)]);
    }
    mov(args, ptr[args + (unstage_ ? offsetof(UnstageArgs, masks) : offsetof(StageArgs, masks))]);  // rdi = masks
    lea(p3, ptr[p0 + plane * 2]);
    add(p3, plane);
    lea(p6, ptr[p3 + plane * 2]);
    add(p6, plane);

    Label loop, done;
    test(rows, rows);
    jz(done, T_NEAR);
    L(loop);
    for (int chunk = 0; chunk < static_cast<int>(chunks_); ++chunk) {
      if (!unstage_) {
        if (masked_) vmovdqu(mask, ptr[rdi + chunk * 32]);
        for (int c = 0; c < 8; ++c) {
          if (masked_) vmaskmovps(Ymm(c), mask, channel(c, chunk));
          else vmovups(Ymm(c), channel(c, chunk));
        }
        transpose([&](int column, const Ymm& v) { vmovups(ptr[tile + (chunk * 8 + column) * 32], v); });
      } else {
        for (int column = 0; column < 8; ++column) vmovups(Ymm(column), ptr[tile + (chunk * 8 + column) * 32]);
        // The last chunk may be narrower (width_ columns): 4-, 2- and 1-column stores.
        const int width = chunk + 1 == static_cast<int>(chunks_) ? width_ : 8;
        transpose([&](int c, const Ymm& v) {
          if (width == 8) {
            vmovups(channel(c, chunk), v);
            return;
          }
          const Xmm low(v.getIdx());
          int done = 0;
          if (width >= 4) {
            vmovups(channel_at(c, chunk, 0), low);
            done = 4;
            if (width > 4) vextractf128(Xmm(c), v, 1);
          }
          const Xmm rest = done == 4 ? Xmm(c) : low;
          if (width - done >= 2) {
            vmovlps(channel_at(c, chunk, done), rest);
            done += 2;
            if (width - done >= 1) vmovhlps(rest, rest, rest);
          }
          if (width - done >= 1) vmovss(channel_at(c, chunk, done), rest);
        });
      }
    }
    add(tile, tile_row);
    add(p0, image_row);
    add(p3, image_row);
    add(p6, image_row);
    dec(rows);
    jnz(loop, T_NEAR);
    L(done);
    vzeroupper();
    ret();
  }

  bool unstage_;
  size_t chunks_;
  bool masked_;
  int width_;  // unstage: columns of the last chunk
};

}  // namespace

std::vector<uint8_t> generate_transform_avx2(const jit::KernelKey& key) {
  using namespace Xbyak::util;
  if (key.family == jit::KernelFamily::f32_fft_forward) {
    const ForwardSpec spec = decode_forward(key);
    if (!valid_extent(spec.tile, spec.rows, spec.cols)) return {};
    // (in = rdi, in_stride = rsi, out = rdx, out_stride = rcx, out + out_im = r8)
    const TraceGenerator::Binding binding{{rdi, rdi, rdx, r8, rdi}, {rsi, rsi, rcx}};
    return TraceGenerator(trace_forward(spec), binding, forward_prologue, registers(key.isa)).bytes();
  }
  if (key.family == jit::KernelFamily::f32_fft_inverse) {
    const InverseSpec spec = decode_inverse(key);
    if (!valid_extent(spec.tile, spec.rows, spec.cols)) return {};
    // (in = rdi, in_stride = rsi, in + in_im = rdx, out = rcx, out_stride = r8, bias = r9)
    const TraceGenerator::Binding binding{{rdi, rdx, rcx, rcx, r9}, {rsi, rsi, r8}};
    return TraceGenerator(trace_inverse(spec), binding, inverse_prologue, registers(key.isa)).bytes();
  }
  return {};
}

std::vector<uint8_t> generate_cmac_avx2(const jit::KernelKey& key) {
  if (key.mr != kLanes || key.nr < 1 || key.nr > cmac_columns(key.isa) || key.k_unroll < 1 || key.k_unroll > 8 ||
      !CmacGenerator::serves(key))
    return {};
  return CmacGenerator(key).bytes();
}

}  // namespace nnjit::fft

namespace nnjit::fft {

std::vector<uint8_t> generate_stage_avx2(const jit::KernelKey& key) {
  if (key.mr < 1 || key.mr > 2) return {};
  if (key.family == jit::KernelFamily::f32_fft_stage && key.nr != kLanes) return {};
  if (key.family == jit::KernelFamily::f32_fft_unstage && (key.nr <= 8 * (key.mr - 1) || key.nr > 8 * key.mr))
    return {};
  if (key.family != jit::KernelFamily::f32_fft_stage && key.family != jit::KernelFamily::f32_fft_unstage) return {};
  return StageGenerator(key).bytes();
}

}  // namespace nnjit::fft
