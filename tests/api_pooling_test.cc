// api_pooling_test.cc — nnp_max_pooling_output against this file's own max pooling.
//
// Semantics (API.md and the recorded decision): output extent per axis =
// ceil(doz(pad_before + input + pad_after, pool) / stride) + 1, doz(a, b) = max(a - b, 0);
// each output is the maximum over the window cells inside the input (padding and overhang take
// no part); a window covering only padding or overhang gives -infinity. Max is exact, so
// results are compared bit for bit, and across thread counts too.
#include <nnpack.h>

#include "tests/api_testing.h"

#include <limits>
#include <string>
#include <vector>

namespace {

const bool kInitialized = api_test::InitializeLibraryForAllTests();

using api_test::BitDifferences;
using api_test::Doz;
using api_test::kNaN;
using api_test::SharedPool;

struct PoolCase {
  const char* name;
  size_t batch, channels;
  size_t height, width;
  nnp_padding padding;  // top, right, bottom, left
  size_t pool_h, pool_w;
  size_t stride_h, stride_w;

  size_t out_h() const {
    return (Doz(padding.top + height + padding.bottom, pool_h) + stride_h - 1) / stride_h + 1;
  }
  size_t out_w() const {
    return (Doz(padding.left + width + padding.right, pool_w) + stride_w - 1) / stride_w + 1;
  }
};

void PrintTo(const PoolCase& c, std::ostream* out) { *out << c.name; }

std::vector<float> ExactMaxPool(const PoolCase& c, const std::vector<float>& input) {
  const size_t oh = c.out_h(), ow = c.out_w();
  std::vector<float> out(c.batch * c.channels * oh * ow);
  for (size_t plane = 0; plane < c.batch * c.channels; plane++) {
    for (size_t oy = 0; oy < oh; oy++) {
      for (size_t ox = 0; ox < ow; ox++) {
        float m = -std::numeric_limits<float>::infinity();
        for (size_t wy = 0; wy < c.pool_h; wy++) {
          const size_t py = oy * c.stride_h + wy;  // row in the padded image
          if (py < c.padding.top || py - c.padding.top >= c.height) continue;
          for (size_t wx = 0; wx < c.pool_w; wx++) {
            const size_t px = ox * c.stride_w + wx;
            if (px < c.padding.left || px - c.padding.left >= c.width) continue;
            m = std::max(m, input[(plane * c.height + (py - c.padding.top)) * c.width + (px - c.padding.left)]);
          }
        }
        out[(plane * oh + oy) * ow + ox] = m;
      }
    }
  }
  return out;
}

const PoolCase kCases[] = {
    {"2x2s2_even", 1, 1, 8, 8, {0, 0, 0, 0}, 2, 2, 2, 2},
    {"2x2s2_batch3_channels5", 3, 5, 6, 10, {0, 0, 0, 0}, 2, 2, 2, 2},
    {"2x2s2_odd_overhang", 2, 3, 7, 9, {0, 0, 0, 0}, 2, 2, 2, 2},
    {"2x2s2_padding1", 1, 2, 8, 8, {1, 1, 1, 1}, 2, 2, 2, 2},
    {"2x2s2_padding1_odd", 2, 1, 7, 5, {1, 1, 1, 1}, 2, 2, 2, 2},
    {"3x3s2", 1, 3, 13, 13, {0, 0, 0, 0}, 3, 3, 2, 2},
    {"3x3s2_even_overhang", 2, 2, 12, 14, {0, 0, 0, 0}, 3, 3, 2, 2},
    {"3x3s2_padding1", 1, 2, 13, 11, {1, 1, 1, 1}, 3, 3, 2, 2},
    {"3x3s1", 1, 2, 6, 5, {0, 0, 0, 0}, 3, 3, 1, 1},
    {"3x3s1_padding1", 2, 1, 6, 5, {1, 1, 1, 1}, 3, 3, 1, 1},
    {"1x1s1", 2, 3, 4, 7, {0, 0, 0, 0}, 1, 1, 1, 1},
    {"rect_2x3_stride1x2", 1, 2, 9, 10, {0, 0, 0, 0}, 2, 3, 1, 2},
    {"rect_3x2_stride3x1", 1, 2, 10, 9, {0, 0, 0, 0}, 3, 2, 3, 1},
    {"padding_top_only", 1, 2, 7, 7, {1, 0, 0, 0}, 2, 2, 2, 2},
    {"padding_right_only", 1, 2, 7, 7, {0, 1, 0, 0}, 2, 2, 2, 2},
    {"padding_bottom_only", 1, 2, 7, 7, {0, 0, 2, 0}, 3, 3, 2, 2},
    {"padding_left_only", 1, 2, 7, 7, {0, 0, 0, 2}, 3, 3, 2, 2},
    {"image1x1_window2x2", 1, 1, 1, 1, {0, 0, 0, 0}, 2, 2, 2, 2},
    {"image1x2_window3x3", 2, 2, 1, 2, {0, 0, 0, 0}, 3, 3, 1, 1},
    {"image2x1_window3x3_padding", 1, 1, 2, 1, {1, 2, 0, 1}, 3, 3, 2, 3},
    // the second window (rows 3..5) lies entirely in bottom padding and overhang: -infinity
    {"window_only_padding_rows", 1, 2, 2, 4, {0, 0, 2, 0}, 3, 2, 3, 2},
    // the same on columns
    {"window_only_padding_columns", 1, 1, 4, 2, {0, 2, 0, 0}, 2, 3, 2, 3},
    {"window5x1_stride3x1", 1, 1, 11, 4, {4, 0, 0, 0}, 5, 1, 3, 1},
    {"window7x7_stride5", 1, 2, 9, 9, {6, 0, 0, 6}, 7, 7, 5, 5},
    {"large_plane_2x2s2", 1, 3, 32, 32, {0, 0, 0, 0}, 2, 2, 2, 2},
};

class MaxPooling : public ::testing::TestWithParam<size_t> {};

TEST_P(MaxPooling, MatchesExactMaxForAnyThreadCount) {
  const PoolCase& c = kCases[GetParam()];
  const uint32_t seed = 3000 + uint32_t(GetParam());
  api_test::PrintSeed(c.name, seed);
  SCOPED_TRACE(std::string(c.name) + ", seed " + std::to_string(seed) + ", output " + std::to_string(c.out_h()) +
               "x" + std::to_string(c.out_w()));
  api_test::Rng rng(seed);
  // Negative values as well as positive: padding must never act as a zero.
  std::vector<float> input = rng.Vector(c.batch * c.channels * c.height * c.width, -2.0f, 1.0f);
  const std::vector<float> exact = ExactMaxPool(c, input);
  for (size_t threads : api_test::kThreadCounts) {
    SCOPED_TRACE(api_test::PoolName(threads));
    std::vector<float> output(exact.size(), kNaN);
    ASSERT_EQ(nnp_max_pooling_output(c.batch, c.channels, nnp_size{c.width, c.height}, c.padding,
                                     nnp_size{c.pool_w, c.pool_h}, nnp_size{c.stride_w, c.stride_h}, input.data(),
                                     output.data(), SharedPool(threads)),
              nnp_status_success);
    EXPECT_EQ(BitDifferences(exact, output), "");
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, MaxPooling, ::testing::Range(size_t(0), std::size(kCases)),
                         [](const ::testing::TestParamInfo<size_t>& info) { return kCases[info.param].name; });

// The cases above must include windows with no input cell (so the -infinity rule is tested)
// and negative maxima next to padding (so "padding is not zero" is tested).
TEST(MaxPoolingCases, CoverEmptyWindowsAndNegativeMaximaAtPadding) {
  bool empty_window = false;
  for (const PoolCase& c : kCases) {
    std::vector<float> input(c.batch * c.channels * c.height * c.width, -1.0f);
    for (float x : ExactMaxPool(c, input)) empty_window |= std::isinf(x);
  }
  EXPECT_TRUE(empty_window);
}

// All-negative input with padding on every side: every window's maximum is negative (a
// library that treated padding as 0 would output 0 at the borders).
TEST(MaxPoolingSemantics, PaddingIsNotZero) {
  const size_t h = 5, w = 5;
  std::vector<float> input(h * w);
  for (size_t i = 0; i < input.size(); i++) input[i] = -1.0f - float(i);
  const PoolCase c{"negative", 1, 1, h, w, {1, 1, 1, 1}, 2, 2, 2, 2};
  ASSERT_EQ(c.out_h(), 4u);  // ceil((1 + 5 + 1 - 2) / 2) + 1
  std::vector<float> output(c.out_h() * c.out_w(), kNaN);
  ASSERT_EQ(nnp_max_pooling_output(1, 1, nnp_size{w, h}, c.padding, nnp_size{2, 2}, nnp_size{2, 2}, input.data(),
                                   output.data(), nullptr),
            nnp_status_success);
  for (size_t i = 0; i < output.size(); i++) EXPECT_LT(output[i], 0.0f) << i;
  EXPECT_EQ(BitDifferences(ExactMaxPool(c, input), output), "");
  EXPECT_EQ(output[0], -1.0f);  // the corner window holds padding and input[0][0] only
}

// An image 2 rows high with 2 rows of bottom padding and a 3-row window, stride 3: output rows =
// ceil((2 + 2 - 3) / 3) + 1 = 2; the second row's windows start at row 3, past the image.
TEST(MaxPoolingSemantics, WindowOverOnlyPaddingIsMinusInfinity) {
  const std::vector<float> input = {1.0f, -2.0f, 3.0f, -4.0f};  // 2x2
  std::vector<float> output(2 * 1, kNaN);
  ASSERT_EQ(nnp_max_pooling_output(1, 1, nnp_size{2, 2}, nnp_padding{0, 0, 2, 0}, nnp_size{2, 3}, nnp_size{2, 3},
                                   input.data(), output.data(), nullptr),
            nnp_status_success);
  EXPECT_EQ(output[0], 3.0f);
  EXPECT_EQ(output[1], -std::numeric_limits<float>::infinity());
}

TEST(MaxPoolingSemantics, BatchOrChannelsZeroWritesNothing) {
  const std::vector<float> input(64, 1.0f);
  std::vector<float> output(64, kNaN);
  EXPECT_EQ(nnp_max_pooling_output(0, 3, nnp_size{4, 4}, nnp_padding{0, 0, 0, 0}, nnp_size{2, 2}, nnp_size{2, 2},
                                   input.data(), output.data(), nullptr),
            nnp_status_success);
  EXPECT_EQ(nnp_max_pooling_output(2, 0, nnp_size{4, 4}, nnp_padding{0, 0, 0, 0}, nnp_size{2, 2}, nnp_size{2, 2},
                                   input.data(), output.data(), SharedPool(2)),
            nnp_status_success);
  EXPECT_TRUE(api_test::AllNaN(output));
}

}  // namespace
