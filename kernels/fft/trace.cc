#include "kernels/fft/trace.h"

#include <cmath>
#include <cstring>

namespace nnjit::fft::trace {

void Program::prune() {
  live.assign(nodes.size(), false);
  for (size_t i = nodes.size(); i-- > 0;) {
    const Node& n = nodes[i];
    if (n.op != Op::store && !live[i]) continue;
    live[i] = true;
    for (int32_t operand : {n.a, n.b, n.c})
      if (operand >= 0) live[static_cast<size_t>(operand)] = true;
  }
}

size_t Program::live_count() const {
  size_t count = 0;
  for (bool l : live) count += l ? 1 : 0;
  return count;
}

Value Builder::emit(Node node) {
  p_.nodes.push_back(node);
  return static_cast<Value>(p_.nodes.size() - 1);
}

Value Builder::constant(float value) {
  if (value == 0.0f && !std::signbit(value)) return kZero;
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  auto it = constants_.find(bits);
  if (it != constants_.end()) return it->second;
  Node n{Op::constant};
  n.value = value;
  const Value v = emit(n);
  constants_.emplace(bits, v);
  return v;
}

Value Builder::load(const Mem& mem) {
  Node n{Op::load};
  n.mem = mem;
  return emit(n);
}

void Builder::store(const Mem& mem, Value value) {
  if (value == kZero) {
    // A materialised +0.0 (the generator zeroes a register for it).
    Node z{Op::constant};
    z.value = 0.0f;
    value = emit(z);
  }
  Node n{Op::store, value};
  n.mem = mem;
  emit(n);
}

Value Builder::add(Value a, Value b) {
  if (a == kZero) return b;
  if (b == kZero) return a;
  if (is(b, Op::neg)) return sub(a, operand(b));
  if (is(a, Op::neg)) return sub(b, operand(a));
  return emit({Op::add, a, b});
}

Value Builder::sub(Value a, Value b) {
  if (b == kZero) return a;
  if (a == b) return kZero;
  if (a == kZero) return neg(b);
  if (is(b, Op::neg)) return add(a, operand(b));
  return emit({Op::sub, a, b});
}

Value Builder::mul(Value a, Value b) {
  if (a == kZero || b == kZero) return kZero;
  return emit({Op::mul, a, b});
}

Value Builder::fma(Value a, Value b, Value c) {
  if (a == kZero || b == kZero) return c;
  if (c == kZero) return mul(a, b);
  if (is(c, Op::neg)) return fms(a, b, operand(c));
  if (is(a, Op::neg)) return fnma(operand(a), b, c);
  if (is(b, Op::neg)) return fnma(a, operand(b), c);
  return emit({Op::fma, a, b, c});
}

Value Builder::fms(Value a, Value b, Value c) {
  if (a == kZero || b == kZero) return neg(c);
  if (c == kZero) return mul(a, b);
  if (is(c, Op::neg)) return fma(a, b, operand(c));
  return emit({Op::fms, a, b, c});
}

Value Builder::fnma(Value a, Value b, Value c) {
  if (a == kZero || b == kZero) return c;
  if (c == kZero) return neg(mul(a, b));
  if (is(a, Op::neg)) return fma(operand(a), b, c);
  if (is(b, Op::neg)) return fma(a, operand(b), c);
  return emit({Op::fnma, a, b, c});
}

Value Builder::neg(Value a) {
  if (a == kZero) return kZero;
  if (is(a, Op::neg)) return operand(a);
  return emit({Op::neg, a});
}

Value Builder::max0(Value a) {
  if (a == kZero) return kZero;
  return emit({Op::max0, a});
}

}  // namespace nnjit::fft::trace
