// fp16_to_fp32 against an independent decoding, for all 65536 binary16 bit patterns,
// and against the F16C instruction when the CPU has it.
//
// The decoding here works from the value formula, not from bit fields of binary32:
//   subnormal (exponent 0):  (-1)^s * fraction * 2^-24
//   normal:                  (-1)^s * (1024 + fraction) * 2^(exponent - 25)
//   exponent 31:             infinity (fraction 0) or NaN.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

#include "kernels/reference/reference.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define NNJIT_TEST_HAVE_F16C 1
#endif

namespace {

using nnjit::reference::fp16_to_fp32;

constexpr uint32_t kPatterns = 65536;

bool is_nan_pattern(uint16_t h) { return (h & 0x7C00) == 0x7C00 && (h & 0x03FF) != 0; }

// The value of a non-NaN binary16 pattern, computed in double.
double decode(uint16_t h) {
  const bool negative = (h >> 15) != 0;
  const int exponent = (h >> 10) & 31;
  const int fraction = h & 1023;
  double magnitude;
  if (exponent == 31) {
    magnitude = std::numeric_limits<double>::infinity();
  } else if (exponent == 0) {
    magnitude = std::ldexp(static_cast<double>(fraction), -24);
  } else {
    magnitude = std::ldexp(static_cast<double>(1024 + fraction), exponent - 25);
  }
  return negative ? -magnitude : magnitude;
}

TEST(ReferenceFp16, AllNonNanPatternsMatchTheValueFormula) {
  for (uint32_t p = 0; p < kPatterns; p++) {
    const uint16_t h = static_cast<uint16_t>(p);
    if (is_nan_pattern(h)) {
      continue;
    }
    const float got = fp16_to_fp32(h);
    const double expected = decode(h);
    ASSERT_EQ(static_cast<double>(got), expected) << "pattern 0x" << std::hex << p;
    // Equality above does not see the sign of zero.
    ASSERT_EQ(std::signbit(got), (h & 0x8000) != 0) << "pattern 0x" << std::hex << p;
  }
}

TEST(ReferenceFp16, SpecialValues) {
  EXPECT_EQ(std::bit_cast<uint32_t>(fp16_to_fp32(0x0000)), 0x00000000u);  // +0
  EXPECT_EQ(std::bit_cast<uint32_t>(fp16_to_fp32(0x8000)), 0x80000000u);  // -0
  EXPECT_EQ(fp16_to_fp32(0x3C00), 1.0f);
  EXPECT_EQ(fp16_to_fp32(0xC000), -2.0f);
  EXPECT_EQ(fp16_to_fp32(0x7BFF), 65504.0f);                 // largest normal
  EXPECT_EQ(fp16_to_fp32(0x0400), 0x1p-14f);                 // smallest normal
  EXPECT_EQ(fp16_to_fp32(0x0001), 0x1p-24f);                 // smallest subnormal
  EXPECT_EQ(fp16_to_fp32(0x03FF), 1023.0f * 0x1p-24f);       // largest subnormal
  EXPECT_EQ(fp16_to_fp32(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(fp16_to_fp32(0xFC00), -std::numeric_limits<float>::infinity());
}

TEST(ReferenceFp16, NansStayNanKeepingSignAndPayload) {
  int nans = 0;
  for (uint32_t p = 0; p < kPatterns; p++) {
    const uint16_t h = static_cast<uint16_t>(p);
    if (!is_nan_pattern(h)) {
      continue;
    }
    nans++;
    const float got = fp16_to_fp32(h);
    ASSERT_TRUE(std::isnan(got)) << "pattern 0x" << std::hex << p;
    ASSERT_EQ(std::signbit(got), (h & 0x8000) != 0) << "pattern 0x" << std::hex << p;
    // The top ten binary32 fraction bits carry the binary16 payload, quiet bit set;
    // the low thirteen are zero.
    const uint32_t bits = std::bit_cast<uint32_t>(got);
    ASSERT_EQ((bits >> 13) & 0x3FFu, (h & 0x3FFu) | 0x200u) << "pattern 0x" << std::hex << p;
    ASSERT_EQ(bits & 0x1FFFu, 0u) << "pattern 0x" << std::hex << p;
  }
  EXPECT_EQ(nans, 2 * 1023);
}

#ifdef NNJIT_TEST_HAVE_F16C
// F16C instructions are VEX-encoded: the CPU must have them and the OS must save the
// AVX register state (CPUID.1:ECX bits 29 F16C, 28 AVX, 27 OSXSAVE; XCR0 bits 1-2).
// Written with CPUID rather than __builtin_cpu_supports("f16c"), which older Clang lacks.
bool cpu_has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
    return false;
  }
  const unsigned needed = (1u << 29) | (1u << 28) | (1u << 27);
  if ((ecx & needed) != needed) {
    return false;
  }
  unsigned xcr0_low = 0, xcr0_high = 0;
  __asm__("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
  return (xcr0_low & 0x6u) == 0x6u;
}

__attribute__((target("f16c"))) float f16c_convert(uint16_t h) {
  return _cvtsh_ss(static_cast<unsigned short>(h));
}

TEST(ReferenceFp16, AllPatternsMatchF16cBitForBit) {
  if (!cpu_has_f16c()) {
    GTEST_SKIP() << "this CPU has no F16C";
  }
  for (uint32_t p = 0; p < kPatterns; p++) {
    const uint16_t h = static_cast<uint16_t>(p);
    ASSERT_EQ(std::bit_cast<uint32_t>(fp16_to_fp32(h)), std::bit_cast<uint32_t>(f16c_convert(h)))
        << "pattern 0x" << std::hex << p;
  }
}
#else
TEST(ReferenceFp16, AllPatternsMatchF16cBitForBit) {
  GTEST_SKIP() << "F16C comparison is x86-only";
}
#endif

}  // namespace
