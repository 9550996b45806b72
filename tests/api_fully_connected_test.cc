// api_fully_connected_test.cc — nnp_fully_connected_output, _inference and _inference_f16f32
// against this file's double-precision products; thread-count independence; profile.
//
// Semantics (API.md): output[b][o] = sum_i input[b][i] * kernel[o][i], no bias; the f16f32
// form reads the kernel as IEEE 754 binary16, decoded here by api_test::DecodeHalf.
#include <nnpack.h>

#include "tests/api_testing.h"

#include <string>
#include <vector>

namespace {

const bool kInitialized = api_test::InitializeLibraryForAllTests();

using api_test::BitDifferences;
using api_test::Exact;
using api_test::kNaN;
using api_test::SharedPool;

// Exact products: output[b][o] = sum_i input[b][i] * weight(o, i).
template <typename Weight>
Exact ExactFc(size_t batch, size_t in, size_t out, const std::vector<float>& input, Weight weight) {
  Exact e;
  e.value.assign(batch * out, 0.0);
  e.abs_sum.assign(batch * out, 0.0);
  e.terms = in + 1;
  for (size_t b = 0; b < batch; b++) {
    for (size_t o = 0; o < out; o++) {
      double sum = 0.0, abs_sum = 0.0;
      for (size_t i = 0; i < in; i++) {
        const double term = double(input[b * in + i]) * weight(o, i);
        sum += term;
        abs_sum += std::fabs(term);
      }
      e.value[b * out + o] = sum;
      e.abs_sum[b * out + o] = abs_sum;
    }
  }
  return e;
}

double Bound(double abs_sum, size_t terms) { return api_test::FloatAccumulationBound(abs_sum, terms); }

struct FcShape {
  size_t batch, in, out;
};

const FcShape kShapes[] = {
    {1, 1, 1}, {1, 1, 7}, {1, 7, 1}, {2, 3, 5}, {5, 17, 3}, {1, 63, 17}, {2, 64, 16},
    {5, 129, 33}, {1, 255, 9}, {3, 1, 17}, {5, 100, 1},
};

std::string Name(const FcShape& s) {
  return "batch " + std::to_string(s.batch) + ", " + std::to_string(s.in) + " -> " + std::to_string(s.out);
}

TEST(FullyConnected, OutputMatchesExactProductsForAnyThreadCount) {
  for (size_t index = 0; index < std::size(kShapes); index++) {
    const FcShape& s = kShapes[index];
    const uint32_t seed = 2000 + uint32_t(index);
    api_test::PrintSeed("fc output " + Name(s), seed);
    SCOPED_TRACE(Name(s) + ", seed " + std::to_string(seed));
    api_test::Rng rng(seed);
    const std::vector<float> input = rng.Vector(s.batch * s.in);
    const std::vector<float> kernel = rng.Vector(s.out * s.in);
    const Exact exact = ExactFc(s.batch, s.in, s.out, input, [&](size_t o, size_t i) { return double(kernel[o * s.in + i]); });

    std::vector<float> reference;
    for (size_t threads : api_test::kThreadCounts) {
      SCOPED_TRACE(api_test::PoolName(threads));
      std::vector<float> output(s.batch * s.out, kNaN);
      ASSERT_EQ(nnp_fully_connected_output(s.batch, s.in, s.out, input.data(), kernel.data(), output.data(),
                                           SharedPool(threads), nullptr),
                nnp_status_success);
      if (threads == 0) {
        reference = output;
        const std::string error = api_test::CompareWithBound(output, exact, Bound);
        EXPECT_TRUE(error.empty()) << error;
      } else {
        EXPECT_EQ(BitDifferences(reference, output), "");
      }
    }
  }
}

TEST(FullyConnected, InferenceMatchesExactProductsForAnyThreadCount) {
  for (size_t index = 0; index < std::size(kShapes); index++) {
    const FcShape& s = kShapes[index];
    const uint32_t seed = 2100 + uint32_t(index);
    api_test::PrintSeed("fc inference " + Name(s), seed);
    SCOPED_TRACE(Name(s) + " (batch ignored), seed " + std::to_string(seed));
    api_test::Rng rng(seed);
    const std::vector<float> input = rng.Vector(s.in);
    const std::vector<float> kernel = rng.Vector(s.out * s.in);
    const Exact exact = ExactFc(1, s.in, s.out, input, [&](size_t o, size_t i) { return double(kernel[o * s.in + i]); });

    std::vector<float> reference;
    for (size_t threads : api_test::kThreadCounts) {
      SCOPED_TRACE(api_test::PoolName(threads));
      std::vector<float> output(s.out, kNaN);
      ASSERT_EQ(nnp_fully_connected_inference(s.in, s.out, input.data(), kernel.data(), output.data(),
                                              SharedPool(threads)),
                nnp_status_success);
      if (threads == 0) {
        reference = output;
        const std::string error = api_test::CompareWithBound(output, exact, Bound);
        EXPECT_TRUE(error.empty()) << error;
      } else {
        EXPECT_EQ(BitDifferences(reference, output), "");
      }
    }
  }
}

// Random binary16 patterns over the whole finite range, with every fourth one forced to be
// subnormal (exponent field 0) and some signed zeros.
std::vector<uint16_t> RandomHalves(api_test::Rng& rng, size_t n) {
  std::vector<uint16_t> h(n);
  for (size_t i = 0; i < n; i++) {
    uint16_t bits = uint16_t(rng.Bits() & 0xFFFF);
    if (((bits >> 10) & 0x1F) == 0x1F) bits = uint16_t(bits & 0x83FF);  // no inf/NaN: make it subnormal
    if (i % 4 == 1) bits = uint16_t(bits & 0x83FF);                       // subnormal (or zero)
    if (i % 17 == 5) bits = uint16_t(bits & 0x8000);                      // +0 or -0
    h[i] = bits;
  }
  return h;
}

TEST(FullyConnected, F16F32DecodesIeeeHalvesIncludingSubnormals) {
  // Spot-check the test's own decoder on known values first.
  EXPECT_EQ(api_test::DecodeHalf(0x3C00), 1.0);
  EXPECT_EQ(api_test::DecodeHalf(0xC000), -2.0);
  EXPECT_EQ(api_test::DecodeHalf(0x7BFF), 65504.0);
  EXPECT_EQ(api_test::DecodeHalf(0x0001), std::ldexp(1.0, -24));   // smallest subnormal
  EXPECT_EQ(api_test::DecodeHalf(0x03FF), 1023 * std::ldexp(1.0, -24));  // largest subnormal
  EXPECT_EQ(api_test::DecodeHalf(0x0400), std::ldexp(1.0, -14));   // smallest normal
  EXPECT_EQ(api_test::DecodeHalf(0x3555), 0x1.554p-2);

  for (size_t index = 0; index < std::size(kShapes); index++) {
    const FcShape& s = kShapes[index];
    const uint32_t seed = 2200 + uint32_t(index);
    api_test::PrintSeed("fc f16f32 " + Name(s), seed);
    SCOPED_TRACE(Name(s) + " (batch ignored), seed " + std::to_string(seed));
    api_test::Rng rng(seed);
    const std::vector<float> input = rng.Vector(s.in);
    const std::vector<uint16_t> kernel = RandomHalves(rng, s.out * s.in);
    const Exact exact =
        ExactFc(1, s.in, s.out, input, [&](size_t o, size_t i) { return api_test::DecodeHalf(kernel[o * s.in + i]); });

    std::vector<float> reference;
    for (size_t threads : api_test::kThreadCounts) {
      SCOPED_TRACE(api_test::PoolName(threads));
      std::vector<float> output(s.out, kNaN);
      ASSERT_EQ(nnp_fully_connected_inference_f16f32(s.in, s.out, input.data(), kernel.data(), output.data(),
                                                     SharedPool(threads)),
                nnp_status_success);
      if (threads == 0) {
        reference = output;
        const std::string error = api_test::CompareWithBound(output, exact, Bound);
        EXPECT_TRUE(error.empty()) << error;
      } else {
        EXPECT_EQ(BitDifferences(reference, output), "");
      }
    }
  }
}

// A single subnormal weight against input 1.0: the output is exactly the decoded subnormal,
// so flushing half subnormals to zero shows.
TEST(FullyConnected, F16F32SubnormalWeightsAreExact) {
  const uint16_t halves[] = {0x0001, 0x8001, 0x0200, 0x03FF, 0x83FF, 0x0400, 0x3C00, 0x0000, 0x8000};
  for (uint16_t h : halves) {
    SCOPED_TRACE(::testing::Message() << "half 0x" << std::hex << h);
    const float input = 1.0f;
    float output = kNaN;
    ASSERT_EQ(nnp_fully_connected_inference_f16f32(1, 1, &input, &h, &output, nullptr), nnp_status_success);
    EXPECT_EQ(double(output), api_test::DecodeHalf(h));
  }
  // Several outputs, one weight each row: output[o] = 4 * decode(w[o]) (input 4, 1 channel).
  std::vector<uint16_t> column(33);
  for (size_t o = 0; o < column.size(); o++) column[o] = uint16_t(o * 31 % 1024) | (o % 2 ? 0x8000 : 0);
  const float four = 4.0f;
  std::vector<float> out(column.size(), kNaN);
  ASSERT_EQ(nnp_fully_connected_inference_f16f32(1, column.size(), &four, column.data(), out.data(), SharedPool(2)),
            nnp_status_success);
  for (size_t o = 0; o < column.size(); o++) EXPECT_EQ(double(out[o]), 4.0 * api_test::DecodeHalf(column[o])) << o;
}

TEST(FullyConnected, OutputProfileFieldsAreWritten) {
  api_test::Rng rng(2300);
  const std::vector<float> input = rng.Vector(2 * 17), kernel = rng.Vector(5 * 17);
  std::vector<float> output(2 * 5, kNaN);
  for (size_t threads : {size_t(0), size_t(2)}) {
    SCOPED_TRACE(api_test::PoolName(threads));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    nnp_profile profile{nan, nan, nan, nan, nan};
    ASSERT_EQ(nnp_fully_connected_output(2, 17, 5, input.data(), kernel.data(), output.data(), SharedPool(threads),
                                         &profile),
              nnp_status_success);
    const double fields[] = {profile.input_transform, profile.kernel_transform, profile.output_transform,
                             profile.block_multiplication};
    EXPECT_TRUE(std::isfinite(profile.total));
    EXPECT_GE(profile.total, 0.0);
    for (double field : fields) {
      EXPECT_TRUE(std::isfinite(field));
      EXPECT_GE(field, 0.0);
      EXPECT_GE(profile.total, field);
    }
  }
}

// Zeros in, zeros out (never NaN), with garbage-free outputs.
TEST(FullyConnected, ZeroInputsGiveZeros) {
  const std::vector<float> input(2 * 9, 0.0f), kernel(4 * 9, 0.0f);
  const std::vector<uint16_t> kernel16(4 * 9, 0);
  std::vector<float> output(2 * 4, kNaN);
  ASSERT_EQ(nnp_fully_connected_output(2, 9, 4, input.data(), kernel.data(), output.data(), nullptr, nullptr),
            nnp_status_success);
  for (float x : output) EXPECT_EQ(x, 0.0f);
  output.assign(4, kNaN);
  ASSERT_EQ(nnp_fully_connected_inference(9, 4, input.data(), kernel.data(), output.data(), nullptr),
            nnp_status_success);
  for (float x : output) EXPECT_EQ(x, 0.0f);
  output.assign(4, kNaN);
  ASSERT_EQ(nnp_fully_connected_inference_f16f32(9, 4, input.data(), kernel16.data(), output.data(), nullptr),
            nnp_status_success);
  for (float x : output) EXPECT_EQ(x, 0.0f);
}

}  // namespace
