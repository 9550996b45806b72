// Cache detection: the legacy AMD CPUID decoding used where cpuinfo reports no caches.
#include <gtest/gtest.h>

#include "runtime/hardware.h"

namespace nnjit {
namespace {

constexpr size_t kKiB = 1024, kMiB = 1024 * 1024;

// Register values as an AMD EPYC (Zen 5) under KVM reports them: 48 KiB L1d, 1 MiB L2 and
// the package's 1016 x 512 KiB of L3, with unrelated low bits (ways, line sizes) set.
TEST(Hardware, DecodesAmdLegacyCacheLeavesAndCapsThePackageL3) {
  const uint32_t ecx5 = (48u << 24) | (12u << 16) | 0x0140;
  const uint32_t ecx6 = (1024u << 16) | 0x8140;
  const uint32_t edx6 = (1016u << 18) | 0x9140;
  const LegacyCaches c = decode_amd_legacy_caches(ecx5, ecx6, edx6);
  EXPECT_EQ(c.l1d_bytes, 48 * kKiB);
  EXPECT_EQ(c.l2_bytes, 1 * kMiB);
  EXPECT_EQ(c.l3_bytes, kLegacyL3CapBytes);
}

TEST(Hardware, KeepsAnL3BelowTheCapAndZerosWhereNothingIsReported) {
  const LegacyCaches small = decode_amd_legacy_caches(32u << 24, 512u << 16, 16u << 18);
  EXPECT_EQ(small.l1d_bytes, 32 * kKiB);
  EXPECT_EQ(small.l2_bytes, 512 * kKiB);
  EXPECT_EQ(small.l3_bytes, 8 * kMiB);
  const LegacyCaches none = decode_amd_legacy_caches(0, 0, 0);
  EXPECT_EQ(none.l1d_bytes + none.l2_bytes + none.l3_bytes, 0u);
}

// Whatever the source (cpuinfo, the legacy leaves or the defaults), the levels are ordered.
TEST(Hardware, DetectedCachesAreOrdered) {
  const Hardware hw = detect_hardware(nullptr);
  EXPECT_GT(hw.l1d_bytes, 0u);
  EXPECT_LE(hw.l1d_bytes, hw.l2_bytes);
  if (hw.l3_bytes != 0) EXPECT_LE(hw.l2_bytes, hw.l3_bytes);
  // A last-level cache shared by every processor is an L3 seen by several of them.
  if (hw.shared_last_level_cache) {
    EXPECT_GT(hw.l3_bytes, 0u);
    EXPECT_GT(hw.logical_processors, 1u);
  }
}

}  // namespace
}  // namespace nnjit
