// Winograd F(6x6, 3x3) convolutions (wt8x8) through the public API against a double-precision
// direct convolution: odd channel counts, sizes that are not multiples of 6, partial tiles,
// padding on each side, images smaller than a tile, batches, stride 2, ReLU, NULL bias, the
// input gradient; identical bits for every thread count; the JIT pipeline against the
// all-reference one (reference transforms and reference GEMM microkernel) on every shape;
// precompute/reuse across calls and threads; the fallback when code generation fails.
#include <nnjit.h>
#include <nnpack.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "jit/code_memory.h"
#include "jit/kernel_cache.h"
#include "kernels/kernel_set.h"
#include "kernels/winograd/kernel_sets.h"
#include "runtime/dispatch.h"
#include "runtime/hardware.h"
#include "runtime/selector.h"
#include "tests/api_testing.h"
#include "tests/winograd_testing.h"

namespace {

const bool kInitialized = api_test::InitializeLibraryForAllTests();

using api_test::BitDifferences;
using api_test::ConvOp;
using api_test::ConvShape;
using api_test::Exact;
using api_test::kNaN;
using api_test::SharedPool;

constexpr nnp_convolution_algorithm kWt8x8 = nnp_convolution_algorithm_wt8x8;

struct Case {
  const char* name;
  size_t batch, input_channels, output_channels, height, width;
  nnp_padding padding;  // top, right, bottom, left
  size_t stride;        // 2: inference only
  bool relu, bias;
};

void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

const nnp_padding kPad1{1, 1, 1, 1};
const nnp_padding kNoPad{0, 0, 0, 0};

const Case kCases[] = {
    {"c1_image1x1_pad1", 2, 1, 1, 1, 1, kPad1, 1, false, true},  // images smaller than a tile
    {"c3_image4x5_pad1", 3, 3, 5, 4, 5, kPad1, 1, true, true},
    {"c3_image3x3_pad2_0_1_2", 1, 3, 9, 3, 3, {2, 0, 1, 2}, 1, false, true},
    {"c17_7x9_pad_top", 1, 17, 3, 7, 9, {1, 0, 0, 0}, 1, true, false},
    {"c3_9x7_pad_right", 3, 3, 17, 9, 7, {0, 2, 0, 0}, 1, false, true},
    {"c1_11x9_pad_bottom", 1, 1, 65, 11, 9, {0, 0, 2, 0}, 1, true, true},
    {"c17_9x11_pad_left", 3, 17, 1, 9, 11, {0, 0, 0, 1}, 1, false, false},
    {"c3_14x14_whole_tiles", 1, 3, 8, 14, 14, kNoPad, 1, false, true},  // 12x12 output: 2x2 whole tiles
    {"c65_13x19_pad1", 1, 65, 17, 13, 19, kPad1, 1, true, true},
    {"c65_17_batch3_several_blocks", 3, 65, 17, 66, 66, kPad1, 1, false, true},  // 363 tiles: 2 blocks
    {"c17_65_23x20_pad1", 1, 17, 65, 23, 20, kPad1, 1, true, false},
    // Tile counts for the multiply's row chunks (12 rows, a remainder of 1-2 rows joining
    // the chunk before it): 13, 14 (7 per image at batch 2) and 25 tiles.
    {"c17_5_8x80_13_tiles", 1, 17, 5, 8, 80, kNoPad, 1, true, true},
    {"c9_33_8x44_batch2_14_tiles", 2, 9, 33, 8, 44, kNoPad, 1, false, true},
    {"c5_7_30x30_pad1_25_tiles", 1, 5, 7, 30, 30, kPad1, 1, false, true},
    // 100 tiles, 5 panels of output channels: with a 0.3-2.6 MiB L2 the compute strategy
    // fuses the kernel transform on one thread and runs private blocks on two.
    {"c33_65_56x56_fused_or_private", 1, 33, 65, 56, 56, kPad1, 1, true, true},
    // 49 tiles: with a 16 KiB L2 on two threads the compute strategy runs a fused stage per
    // thread over 25 and 24 tiles (block sizes not multiples of the tile group).
    {"c17_9_40x40_pad1_fused_per_thread", 1, 17, 9, 40, 40, kPad1, 1, true, true},
    // 13 tiles of 64 KiB: with a 512 KiB L2 (Zen 3; the reference pipeline runs with one),
    // private blocks of 6 tiles on two threads, their count rounded up to a multiple of the
    // threads (3 -> 4) and then back down to what 6-tile blocks need (no empty last block).
    {"c128_6x78_13_tiles_few_private_blocks", 1, 128, 128, 6, 78, kPad1, 1, false, true},
    // stride 2 (inference)
    {"s2_c3_13x12_pad1", 1, 3, 4, 13, 12, kPad1, 2, true, true},
    {"s2_c17_16x16_pad1", 1, 17, 19, 16, 16, kPad1, 2, false, false},
    {"s2_c1_5x7_nopad", 1, 1, 3, 5, 7, kNoPad, 2, true, true},
    {"s2_c65_21x23_pad_2_0_1_2", 1, 65, 9, 21, 23, {2, 0, 1, 2}, 2, false, true},
    {"s2_c3_3x3_pad1", 1, 3, 2, 3, 3, kPad1, 2, false, true},
};

ConvShape ShapeOf(const Case& c, ConvOp op) {
  ConvShape s;
  s.batch = op == ConvOp::inference ? 1 : c.batch;
  s.input_channels = c.input_channels;
  s.output_channels = c.output_channels;
  s.input = {c.width, c.height};
  s.padding = c.padding;
  s.kernel = {3, 3};
  s.stride = {c.stride, c.stride};
  return s;
}

struct Data {
  std::vector<float> input, kernel, bias, grad_output;
};

Data RandomData(const ConvShape& s, uint32_t seed) {
  std::mt19937 rng(seed);
  Data d;
  d.input = winograd_test::RandomVector(s.input_elements(), rng);
  d.kernel = winograd_test::RandomVector(s.kernel_elements(), rng);
  d.bias = winograd_test::RandomVector(s.output_channels, rng);
  d.grad_output = winograd_test::RandomVector(s.output_elements(), rng);
  return d;
}

struct Options {
  bool relu = false;
  bool bias = true;
  nnp_convolution_transform_strategy strategy = nnp_convolution_transform_strategy_compute;
  const float* kernel = nullptr;  // reuse: the transformed kernel
  pthreadpool_t pool = nullptr;
};

std::vector<float> RunApi(ConvOp op, const ConvShape& s, const Data& d, const Options& o) {
  const size_t elements = op == ConvOp::input_gradient ? s.input_elements() : s.output_elements();
  std::vector<float> result(elements, kNaN);
  const float* kernel = o.kernel != nullptr ? o.kernel : d.kernel.data();
  const nnp_activation activation = o.relu ? nnp_activation_relu : nnp_activation_identity;
  nnp_status status = nnp_status_success;
  switch (op) {
    case ConvOp::output:
      status = nnp_convolution_output(kWt8x8, s.batch, s.input_channels, s.output_channels, s.input, s.padding,
                                      s.kernel, d.input.data(), kernel, o.bias ? d.bias.data() : nullptr,
                                      result.data(), nullptr, nullptr, activation, nullptr, o.pool, nullptr);
      break;
    case ConvOp::input_gradient:
      status = nnp_convolution_input_gradient(kWt8x8, s.batch, s.input_channels, s.output_channels, s.input,
                                              s.padding, s.kernel, d.grad_output.data(), kernel, result.data(),
                                              nullptr, nullptr, nnp_activation_identity, nullptr, o.pool, nullptr);
      break;
    case ConvOp::inference:
      status = nnp_convolution_inference(kWt8x8, o.strategy, s.input_channels, s.output_channels, s.input,
                                         s.padding, s.kernel, s.stride, d.input.data(), kernel,
                                         o.bias ? d.bias.data() : nullptr, result.data(), nullptr, nullptr,
                                         activation, nullptr, o.pool, nullptr);
      break;
    case ConvOp::kernel_gradient:
      break;
  }
  EXPECT_EQ(status, nnp_status_success);
  return result;
}

// The same call through the kernel set on a machine description without JIT: reference
// transforms and the reference twin of the GEMM microkernel, in a workspace of exactly the
// size the set asks for (so that a sanitizer sees any overrun). The plan depends on the L2
// size (blocks of tiles private to a thread, or shared blocks staged across the threads);
// `l2_bytes` (0: this machine's) selects it, and the bits must not change. A small `l3_bytes`
// makes the kernel transform write U with streaming stores; `pool` runs it on several threads.
std::vector<float> RunReferencePipeline(ConvOp op, const ConvShape& s, const Data& d, const Options& o,
                                        size_t l2_bytes = 0, size_t l3_bytes = 0, pthreadpool_t pool = nullptr,
                                        const nnjit::ConvolutionKernelSet& set = nnjit::winograd::kWinogradKernels,
                                        bool this_machines_isa = false) {
  nnjit::Hardware hw = nnjit::detect_hardware(nullptr);
  if (!this_machines_isa) hw.isa = nnjit::Isa::reference;
  if (l2_bytes != 0) hw.l2_bytes = l2_bytes;
  if (l3_bytes != 0) hw.l3_bytes = l3_bytes;
  const nnjit::ConvolutionProblem problem{
      op == ConvOp::input_gradient ? nnjit::ConvolutionOperation::input_gradient
      : op == ConvOp::output       ? nnjit::ConvolutionOperation::output
                                   : nnjit::ConvolutionOperation::inference,
      s.batch, s.input_channels, s.output_channels, s.input, s.padding, s.kernel, s.stride, o.relu,
      nnp_convolution_transform_strategy_compute};
  EXPECT_TRUE(set.applies(problem, hw));
  const size_t bytes = set.workspace_bytes(problem, hw, std::max<size_t>(1, pthreadpool_get_threads_count(pool)));
  EXPECT_EQ(bytes % 64, 0u);
  std::unique_ptr<void, decltype(&std::free)> workspace(std::aligned_alloc(64, bytes), &std::free);
  const size_t elements = op == ConvOp::input_gradient ? s.input_elements() : s.output_elements();
  std::vector<float> result(elements, kNaN);
  nnp_profile profile{};
  const nnjit::ExecutionContext context{workspace.get(), bytes, pool, &hw, &profile};
  const nnjit::ConvolutionTensors tensors{op == ConvOp::input_gradient ? d.grad_output.data() : d.input.data(),
                                          d.kernel.data(), o.bias ? d.bias.data() : nullptr, result.data()};
  EXPECT_EQ(set.run(problem, tensors, context), nnp_status_success);
  return result;
}

// |got - exact| within the Winograd bound of winograd_testing.h, per element. `worst_ratio`
// (if given) is raised to the largest |got - exact| over the bound's data term alone.
std::string CheckAccuracy(ConvOp op, const ConvShape& s, const Data& d, const Options& o,
                          const std::vector<float>& got, double* worst_ratio = nullptr) {
  const Exact exact = op == ConvOp::input_gradient
                          ? api_test::ExactInputGradient(s, d.grad_output, d.kernel)
                          : api_test::ExactForward(s, d.input, d.kernel, o.bias ? d.bias.data() : nullptr, o.relu);
  const size_t channels = op == ConvOp::input_gradient ? s.output_channels : s.input_channels;
  const double data = winograd_test::MaxAbs(op == ConvOp::input_gradient ? d.grad_output : d.input);
  const double kernel = winograd_test::MaxAbs(d.kernel);
  const double bound =
      winograd_test::WinogradBound(channels, data, kernel, o.bias ? winograd_test::MaxAbs(d.bias) : 0.0);
  if (worst_ratio != nullptr) {
    const double unit = winograd_test::WinogradBound(channels, data, kernel);
    for (size_t i = 0; i < got.size(); ++i)
      *worst_ratio = std::max(*worst_ratio, std::fabs(got[i] - exact.value[i]) / unit);
  }
  return api_test::CompareWithBound(got, exact, [&](double, size_t) { return bound; });
}

// Options of a case's operation: ReLU and bias where the operation has them.
Options OptionsOf(const Case& c, ConvOp op) {
  Options o;
  o.relu = op != ConvOp::input_gradient && c.relu;
  o.bias = op != ConvOp::input_gradient && c.bias;
  return o;
}

std::vector<ConvOp> OpsOf(const Case& c) {
  if (c.stride != 1) return {ConvOp::inference};
  return {ConvOp::output, ConvOp::input_gradient, ConvOp::inference};
}

class WinogradConvolution : public ::testing::TestWithParam<size_t> {};

// Under NNJIT_ISA=reference the library serves wt8x8 with its reference convolutions (the
// fast kernel families are not used), which these tests do not describe.
bool LibraryRunsWinogradKernels() { return std::string(nnp_ext_isa_name()) != "reference"; }

TEST_P(WinogradConvolution, MatchesDirectConvolutionReferencePipelineAndEveryThreadCount) {
  if (!LibraryRunsWinogradKernels()) GTEST_SKIP() << "NNJIT_ISA=reference: wt8x8 runs the reference convolution";
  const Case& c = kCases[GetParam()];
  for (ConvOp op : OpsOf(c)) {
    const ConvShape s = ShapeOf(c, op);
    const uint32_t seed = 7000u + 10u * uint32_t(GetParam()) + uint32_t(op);
    api_test::PrintSeed(std::string(c.name) + " " + api_test::ConvOpName(op), seed);
    SCOPED_TRACE(std::string(api_test::ConvOpName(op)) + ": " + s.ToString() + ", seed " + std::to_string(seed));
    const Data d = RandomData(s, seed);
    Options o = OptionsOf(c, op);

    const std::vector<float> got = RunApi(op, s, d, o);
    const std::string error = CheckAccuracy(op, s, d, o, got);
    EXPECT_TRUE(error.empty()) << error;

    EXPECT_EQ(BitDifferences(got, RunReferencePipeline(op, s, d, o)), "") << "JIT vs reference pipeline";
    EXPECT_EQ(BitDifferences(got, RunReferencePipeline(op, s, d, o, 16 * 1024)), "")
        << "JIT vs reference pipeline, 16 KiB L2 (shared, staged blocks)";
    EXPECT_EQ(BitDifferences(got, RunReferencePipeline(op, s, d, o, 0, 16 * 1024)), "")
        << "JIT vs reference pipeline, 16 KiB L3 (U written past the caches)";
    EXPECT_EQ(BitDifferences(got, RunReferencePipeline(op, s, d, o, 16 * 1024, 0, SharedPool(2))), "")
        << "JIT vs reference pipeline, 16 KiB L2 on two threads (a fused stage per thread, or staged)";
    EXPECT_EQ(BitDifferences(got, RunReferencePipeline(op, s, d, o, 512 * 1024, 0, SharedPool(2))), "")
        << "JIT vs reference pipeline, 512 KiB L2 on two threads (private blocks, few: rounded to the threads)";
    for (size_t threads : {size_t(1), size_t(2)}) {
      o.pool = SharedPool(threads);
      EXPECT_EQ(BitDifferences(got, RunApi(op, s, d, o)), "") << api_test::PoolName(threads) << " vs NULL pool";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, WinogradConvolution, ::testing::Range(size_t(0), std::size(kCases)),
                         [](const ::testing::TestParamInfo<size_t>& info) { return kCases[info.param].name; });

// F(4x4, 3x3) on 6x6 tiles (the kernel set; the API runs it only under auto): the
// stride-1 cases against the exact result, and the same bits for every plan (blocking by L2
// size, U past the caches, two threads) and for the JIT code of this machine.
class Winograd6x6Convolution : public ::testing::TestWithParam<size_t> {};

TEST_P(Winograd6x6Convolution, MatchesDirectConvolutionAndEveryPlan) {
  const Case& c = kCases[GetParam()];
  if (c.stride != 1) GTEST_SKIP() << "F(4x4, 3x3) runs stride 1 only";
  const nnjit::ConvolutionKernelSet& set = nnjit::winograd::kWinograd6x6Kernels;
  double worst = 0.0;
  for (ConvOp op : OpsOf(c)) {
    const ConvShape s = ShapeOf(c, op);
    const uint32_t seed = 9000u + 10u * uint32_t(GetParam()) + uint32_t(op);
    api_test::PrintSeed(std::string(c.name) + " " + api_test::ConvOpName(op), seed);
    SCOPED_TRACE(std::string(api_test::ConvOpName(op)) + ": " + s.ToString() + ", seed " + std::to_string(seed));
    const Data d = RandomData(s, seed);
    const Options o = OptionsOf(c, op);
    const std::vector<float> got = RunReferencePipeline(op, s, d, o, 0, 0, nullptr, set);
    const std::string error = CheckAccuracy(op, s, d, o, got, &worst);
    EXPECT_TRUE(error.empty()) << error;
    EXPECT_EQ(BitDifferences(got, RunReferencePipeline(op, s, d, o, 16 * 1024, 0, nullptr, set)), "") << "16 KiB L2";
    EXPECT_EQ(BitDifferences(got, RunReferencePipeline(op, s, d, o, 0, 16 * 1024, nullptr, set)), "") << "16 KiB L3";
    EXPECT_EQ(BitDifferences(got, RunReferencePipeline(op, s, d, o, 16 * 1024, 0, SharedPool(2), set)), "")
        << "16 KiB L2, two threads";
    EXPECT_EQ(BitDifferences(got, RunReferencePipeline(op, s, d, o, 512 * 1024, 0, SharedPool(2), set)), "")
        << "512 KiB L2, two threads";
    EXPECT_EQ(BitDifferences(got, RunReferencePipeline(op, s, d, o, 0, 0, SharedPool(2), set, true)), "")
        << "JIT transforms and microkernels of this machine, two threads";
  }
  // Measured at most 0.113 of the 8x8 tiles' bound (128 n u |d| |g|) on these cases: F(4x4)'s
  // bound is 24 n u |d| |g|.
  std::printf("[ measured ] %s F(4x4): max |err| / wt8x8 bound = %.3f\n", c.name, worst);
  EXPECT_LE(worst, 24.0 / 128.0);
}

INSTANTIATE_TEST_SUITE_P(Cases, Winograd6x6Convolution, ::testing::Range(size_t(0), std::size(kCases)),
                         [](const ::testing::TestParamInfo<size_t>& info) { return kCases[info.param].name; });

// auto's choice between the two tile sizes (runtime/selector.cc): F(4x4, 3x3) for images of at
// most 3x3 tiles of 8x8 with stride 1 (every strategy); wt8x8 otherwise and when named.
TEST(Winograd6x6Selection, AutoTakesSmallTilesOnSmallImagesOnly) {
  const nnjit::Hardware hw = nnjit::detect_hardware(nullptr);
  auto choice = [&](nnjit::ConvolutionOperation op, int algorithm, int strategy, size_t size, size_t stride) {
    const nnjit::ConvolutionCall call{op, algorithm, strategy, 1, 16, 16, {size, size}, {1, 1, 1, 1},
                                      {3, 3}, {stride, stride}, nnp_activation_identity, nullptr};
    nnp_convolution_algorithm chosen = nnp_convolution_algorithm_auto;
    EXPECT_EQ(nnjit::select_convolution_algorithm(call, hw, &chosen), nnp_status_success);
    return chosen;
  };
  using nnjit::ConvolutionOperation;
  const int compute = nnp_convolution_transform_strategy_compute, reuse = nnp_convolution_transform_strategy_reuse;
  const int automatic = nnp_convolution_algorithm_auto, wt8x8 = nnp_convolution_algorithm_wt8x8;
  const bool fast = nnjit::has_fast_convolution_kernels(
      nnjit::kAlgorithmWt6x6, nnjit::problem_of({ConvolutionOperation::output, automatic, compute, 1, 16, 16, {14, 14},
                                                  {1, 1, 1, 1}, {3, 3}, {1, 1}, nnp_activation_identity, nullptr}),
      hw);
  if (!fast) GTEST_SKIP() << "no fast F(4x4, 3x3) kernels here";
  for (size_t size : {1u, 7u, 13u, 14u, 18u}) {
    EXPECT_EQ(choice(ConvolutionOperation::inference, automatic, compute, size, 1), nnjit::kAlgorithmWt6x6) << size;
    EXPECT_EQ(choice(ConvolutionOperation::output, automatic, compute, size, 1), nnjit::kAlgorithmWt6x6) << size;
    EXPECT_EQ(choice(ConvolutionOperation::input_gradient, automatic, compute, size, 1), nnjit::kAlgorithmWt6x6)
        << size;
    EXPECT_EQ(choice(ConvolutionOperation::inference, automatic, reuse, size, 1), nnjit::kAlgorithmWt6x6) << size;
    EXPECT_EQ(choice(ConvolutionOperation::inference, wt8x8, compute, size, 1), wt8x8) << size;
  }
  EXPECT_EQ(choice(ConvolutionOperation::inference, automatic, compute, 19, 1), wt8x8);  // 4x4 tiles of 8x8
  EXPECT_EQ(choice(ConvolutionOperation::output, automatic, compute, 28, 1), wt8x8);
  EXPECT_NE(choice(ConvolutionOperation::inference, automatic, compute, 14, 2), nnjit::kAlgorithmWt6x6);  // stride 2
  // The extension reports the family.
  nnp_convolution_algorithm reported = nnp_convolution_algorithm_auto;
  ASSERT_EQ(nnp_ext_convolution_algorithm(nnp_ext_convolution_inference, nnp_convolution_algorithm_auto,
                                          nnp_convolution_transform_strategy_compute, 1, 16, 16, {14, 14},
                                          {1, 1, 1, 1}, {3, 3}, {1, 1}, &reported),
            nnp_status_success);
  EXPECT_EQ(reported, nnp_convolution_algorithm_wt8x8);
}

// The plan on two threads with the compute strategy where private blocks fit the L2: they
// reread all of U per block, so where U outgrows the L2 each thread runs a fused stage of its
// own instead and no whole U is written (the workspace holds none); a U that fits stays.
TEST(WinogradPlan, TwoThreadsFuseWhereTheKernelOutgrowsTheL2) {
  nnjit::Hardware hw = nnjit::detect_hardware(nullptr);
  hw.isa = nnjit::Isa::reference;
  hw.l2_bytes = size_t{2} << 20;
  auto workspace = [&](size_t channels, nnp_convolution_transform_strategy strategy) {
    const nnjit::ConvolutionProblem problem{nnjit::ConvolutionOperation::inference, 1, channels, channels, {56, 56},
                                            {1, 1, 1, 1}, {3, 3}, {1, 1}, false, strategy};
    return nnjit::winograd::kWinogradKernels.workspace_bytes(problem, hw, 2);
  };
  const auto compute = nnp_convolution_transform_strategy_compute, reuse = nnp_convolution_transform_strategy_reuse;
  const size_t u256 = 64 * 256 * 256 * sizeof(float), u64 = 64 * 64 * 64 * sizeof(float);  // 16 MiB, 1 MiB
  EXPECT_LT(workspace(256, compute), u256);  // fused per thread
  // 64 channels: U (1 MiB) fits the L2 and private blocks keep it; so does the reuse
  // strategy, which transforms nothing.
  EXPECT_GE(workspace(64, compute), u64 + workspace(64, reuse));
}

// ---- precompute / reuse -----------------------------------------------------------------

TEST(WinogradPrecompute, ReuseEqualsComputeAcrossCallsAndThreads) {
  if (!LibraryRunsWinogradKernels()) GTEST_SKIP() << "NNJIT_ISA=reference: wt8x8 runs the reference convolution";
  // 17 -> 19 channels: the last 16-channel panel (3 wide) and the last 8 lanes are partial.
  for (size_t stride : {size_t(1), size_t(2)}) {
    ConvShape s = ShapeOf({"", 1, 17, 19, 15, 14, kPad1, stride, true, true}, ConvOp::inference);
    const uint32_t seed = 7500u + uint32_t(stride);
    api_test::PrintSeed("precompute stride " + std::to_string(stride), seed);
    SCOPED_TRACE(s.ToString());
    const Data d = RandomData(s, seed);

    size_t size = 0;
    ASSERT_EQ(nnp_convolution_inference(kWt8x8, nnp_convolution_transform_strategy_precompute, s.input_channels,
                                        s.output_channels, s.input, s.padding, s.kernel, s.stride, nullptr, nullptr,
                                        nullptr, nullptr, nullptr, &size, nnp_activation_identity, nullptr, nullptr,
                                        nullptr),
              nnp_status_success);
    EXPECT_EQ(size, 64 * s.output_channels * s.input_channels * sizeof(float));
    std::unique_ptr<void, decltype(&std::free)> transformed(std::aligned_alloc(64, size), &std::free);
    ASSERT_EQ(nnp_convolution_inference(kWt8x8, nnp_convolution_transform_strategy_precompute, s.input_channels,
                                        s.output_channels, s.input, s.padding, s.kernel, s.stride, nullptr,
                                        d.kernel.data(), nullptr, nullptr, transformed.get(), &size,
                                        nnp_activation_identity, nullptr, SharedPool(2), nullptr),
              nnp_status_success);

    Options compute;
    compute.relu = true;
    Options reuse = compute;
    reuse.strategy = nnp_convolution_transform_strategy_reuse;
    reuse.kernel = static_cast<const float*>(transformed.get());
    // Two different images through one transformed kernel, with and without a pool.
    for (uint32_t image = 0; image < 2; ++image) {
      Data di = d;
      if (image == 1) di.input = RandomData(s, seed + 100).input;
      const std::vector<float> expected = RunApi(ConvOp::inference, s, di, compute);
      EXPECT_TRUE(CheckAccuracy(ConvOp::inference, s, di, compute, expected).empty());
      for (size_t threads : {size_t(0), size_t(2)}) {
        reuse.pool = SharedPool(threads);
        EXPECT_EQ(BitDifferences(expected, RunApi(ConvOp::inference, s, di, reuse)), "")
            << "image " << image << ", " << api_test::PoolName(threads);
      }
    }
    // Callers share transformed kernels between threads.
    const std::vector<float> expected = RunApi(ConvOp::inference, s, d, compute);
    std::atomic<int> mismatches{0};
    auto worker = [&] {
      Options o = reuse;
      o.pool = nullptr;
      for (int i = 0; i < 3; ++i)
        if (!BitDifferences(expected, RunApi(ConvOp::inference, s, d, o)).empty()) ++mismatches;
    };
    std::thread a(worker), b(worker);
    a.join();
    b.join();
    EXPECT_EQ(mismatches.load(), 0);
  }
}

// auto on a small image runs F(4x4, 3x3) with every strategy: the precomputed kernel has 36
// positions, and reusing it gives the bits of the compute strategy.
TEST(WinogradPrecompute, AutoOnSmallImagesPrecomputesSixBySixTiles) {
  if (!LibraryRunsWinogradKernels()) GTEST_SKIP() << "NNJIT_ISA=reference: the reference convolution runs";
  const ConvShape s = ShapeOf({"", 1, 17, 19, 13, 13, kPad1, 1, true, true}, ConvOp::inference);
  const Data d = RandomData(s, 7600);
  auto call = [&](nnp_convolution_transform_strategy strategy, const float* kernel, float* output, void* buffer,
                  size_t* size, pthreadpool_t pool) {
    return nnp_convolution_inference(nnp_convolution_algorithm_auto, strategy, s.input_channels, s.output_channels,
                                     s.input, s.padding, s.kernel, s.stride, output ? d.input.data() : nullptr, kernel,
                                     output ? d.bias.data() : nullptr, output, buffer, size, nnp_activation_relu,
                                     nullptr, pool, nullptr);
  };
  size_t size = 0;
  ASSERT_EQ(call(nnp_convolution_transform_strategy_precompute, nullptr, nullptr, nullptr, &size, nullptr),
            nnp_status_success);
  EXPECT_EQ(size, (36 * s.output_channels * s.input_channels * sizeof(float) + 63) / 64 * 64);  // sizes: whole lines
  std::unique_ptr<void, decltype(&std::free)> transformed(std::aligned_alloc(64, size), &std::free);
  ASSERT_EQ(call(nnp_convolution_transform_strategy_precompute, d.kernel.data(), nullptr, transformed.get(), &size,
                 SharedPool(2)),
            nnp_status_success);
  std::vector<float> computed(s.output_elements(), kNaN), reused(s.output_elements(), kNaN);
  ASSERT_EQ(call(nnp_convolution_transform_strategy_compute, d.kernel.data(), computed.data(), nullptr, nullptr,
                 nullptr),
            nnp_status_success);
  Options o;
  o.relu = true;
  EXPECT_TRUE(CheckAccuracy(ConvOp::inference, s, d, o, computed).empty());
  for (size_t threads : {size_t(0), size_t(2)}) {
    ASSERT_EQ(call(nnp_convolution_transform_strategy_reuse, static_cast<const float*>(transformed.get()),
                   reused.data(), nullptr, nullptr, SharedPool(threads)),
              nnp_status_success);
    EXPECT_EQ(BitDifferences(computed, reused), "") << api_test::PoolName(threads);
  }
}

// ---- no JIT ----------------------------------------------------------------------------------

// With code generation failing, the whole algorithm runs on reference transforms (and the
// reference GEMM microkernel) and gives the same bits.
TEST(WinogradFallback, ConvolutionWithoutCodeGeneration) {
  const ConvShape s = ShapeOf({"", 2, 17, 9, 13, 11, kPad1, 1, true, true}, ConvOp::output);
  const uint32_t seed = 7600;
  api_test::PrintSeed("fallback", seed);
  const Data d = RandomData(s, seed);
  Options o;
  o.relu = true;
  const std::vector<float> with_jit = RunApi(ConvOp::output, s, d, o);
  nnjit::jit::clear_kernel_cache();
  nnjit::jit::simulate_code_memory_failure(true);
  const std::vector<float> without_jit = RunApi(ConvOp::output, s, d, o);
  nnjit::jit::simulate_code_memory_failure(false);
  nnjit::jit::clear_kernel_cache();  // failures are cached too
  EXPECT_EQ(BitDifferences(with_jit, without_jit), "");
  const std::string error = CheckAccuracy(ConvOp::output, s, d, o, without_jit);
  EXPECT_TRUE(error.empty()) << error;
}

}  // namespace
