// Base for x86-64 generators: an xbyak assembler whose buffer is plain memory that
// is never executed. generate() emits; bytes() hands the code to the kernel cache,
// which copies it into read+execute pages (jit/code_memory).
#pragma once

#include <cstdint>
#include <vector>

#include <xbyak/xbyak.h>

namespace nnjit::jit::x64 {

class X64Generator : public Xbyak::CodeGenerator {
 public:
  explicit X64Generator(size_t max_bytes = 16 * 1024)
      : Xbyak::CodeGenerator(max_bytes, Xbyak::DontSetProtectRWE) {}

  std::vector<uint8_t> bytes() const { return {getCode(), getCode() + getSize()}; }

 protected:
  // System V AMD64 integer argument registers, in order.
  const Xbyak::Reg64 arg0 = rdi, arg1 = rsi, arg2 = rdx, arg3 = rcx, arg4 = r8, arg5 = r9;

  // v = 0 (a ymm or zmm). zmm and ymm16-31 exist only with EVEX encodings (AVX-512F/VL),
  // where vxorps would need AVX512DQ: vpxord there.
  void zero(const Xbyak::Xmm& v) {
    if (v.getIdx() < 16 && !v.isZMM()) vxorps(v, v, v);
    else vpxord(v, v, v);
  }
};

}  // namespace nnjit::jit::x64
