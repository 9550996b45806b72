// A recording builder for fft_algorithm.h: running an algorithm with it yields a
// straight-line program of vector operations (a "trace"), which a code generator
// turns into machine code (generators_avx2.cc). ISA-neutral.
//
// While recording, operations on known zeros are folded away (x + 0, x * 0, ...), and
// negations are absorbed into neighbouring operations where that is exact
// (a + (-b) -> a - b, a * b + (-c) -> a * b - c, ...): both give the same bits as the
// unfolded arithmetic of the reference builder, up to the sign of zero results. After
// recording, operations that no store depends on are dropped (pruned transforms).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace nnjit::fft::trace {

enum class Op : uint8_t {
  load,      // from memory (mem)
  constant,  // value (all lanes)
  add,       // a + b
  sub,       // a - b
  mul,       // a * b
  fma,       // a * b + c
  fms,       // a * b - c
  fnma,      // c - a * b
  neg,       // -a
  max0,      // max(a, 0)
  store,     // a -> memory (mem)
};

// An address: base[base] + stride[stride] * multiple + disp bytes. The generator maps
// bases and strides to registers holding the kernel's pointer and stride arguments.
struct Mem {
  uint8_t base = 0;
  uint8_t stride = 0;  // 0: none
  uint16_t multiple = 0;
  int32_t disp = 0;
};

struct Node {
  Op op;
  int32_t a = -1, b = -1, c = -1;
  Mem mem{};
  float value = 0.0f;
};

using Value = int32_t;
inline constexpr Value kZero = -1;

class Program {
 public:
  std::vector<Node> nodes;
  std::vector<bool> live;  // after prune()

  // Marks the nodes that stores depend on.
  void prune();
  size_t live_count() const;
};

// The builder interface of fft_algorithm.h over a Program.
class Builder {
 public:
  using V = Value;
  explicit Builder(Program& program) : p_(program) {}

  V zero() const { return kZero; }
  V constant(float value);
  V load(const Mem& mem);
  void store(const Mem& mem, V value);

  V add(V a, V b);
  V sub(V a, V b);
  V mul(V a, V b);
  V fma(V a, V b, V c);
  V fms(V a, V b, V c);
  V fnma(V a, V b, V c);
  V neg(V a);
  V max0(V a);

 private:
  V emit(Node node);
  bool is(V v, Op op) const { return v >= 0 && p_.nodes[static_cast<size_t>(v)].op == op; }
  V operand(V v) const { return p_.nodes[static_cast<size_t>(v)].a; }

  Program& p_;
  std::map<uint32_t, V> constants_;
};

}  // namespace nnjit::fft::trace
