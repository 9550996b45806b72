// FFT convolution drivers (kernels/fft/convolution.cc) through their kernel sets:
//  - with code generation failing, every transform and the multiply-accumulate fall back to
//    their reference twins, which give the same bits (up to the sign of zero);
//  - the blocking over tiles (many small blocks vs one) and over channels (more than 256
//    input channels) does not change forward results, and the kernel gradient's
//    accumulation over blocks stays within rounding of the single-block result;
//  - results agree with the reference convolution kernels.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "jit/code_memory.h"
#include "jit/kernel_cache.h"
#include "kernels/fft/convolution.h"
#include "kernels/fft/kernel_sets.h"
#include "kernels/reference/reference.h"
#include "runtime/hardware.h"
#include "tests/random_vector.h"

namespace nnjit::fft {
namespace {

constexpr uint32_t kSeed = 20261127;

struct Free {
  void operator()(void* p) const { std::free(p); }
};

using nnjit::testing::random_vector;

struct Problem {
  ConvolutionProblem p;
  std::vector<float> input, kernel, bias, grad_output;
};

Problem make(ConvolutionOperation op, size_t batch, size_t cin, size_t cout, size_t h, size_t w, size_t k,
             uint32_t seed) {
  Problem pr;
  const size_t pad = k / 2;
  pr.p = {op, batch, cin, cout, {w, h}, {pad, pad, pad, pad}, {k, k}, {1, 1}, op == ConvolutionOperation::output,
          nnp_convolution_transform_strategy_compute};
  std::mt19937 rng(seed);
  const nnp_size out = pr.p.output_size();
  pr.input = random_vector(batch * cin * h * w, rng);
  pr.kernel = random_vector(cout * cin * k * k, rng);
  pr.bias = random_vector(cout, rng);
  pr.grad_output = random_vector(batch * cout * out.height * out.width, rng);
  return pr;
}

size_t result_size(const Problem& pr) {
  const ConvolutionProblem& p = pr.p;
  switch (p.operation) {
    case ConvolutionOperation::input_gradient: return p.batch_size * p.input_channels * p.input_size.height * p.input_size.width;
    case ConvolutionOperation::kernel_gradient:
      return p.output_channels * p.input_channels * p.kernel_size.height * p.kernel_size.width;
    default: return p.batch_size * p.output_channels * p.output_size().height * p.output_size().width;
  }
}

std::vector<float> run(const ConvolutionKernelSet& set, const Problem& pr, pthreadpool_t pool) {
  const Hardware hw = detect_hardware(nullptr);
  const size_t bytes = set.workspace_bytes(pr.p, hw, pthreadpool_get_threads_count(pool));
  std::unique_ptr<void, Free> workspace(std::aligned_alloc(64, (bytes + 63) / 64 * 64 + 64));
  nnp_profile profile{};
  const ExecutionContext context{workspace.get(), bytes, pool, &hw, &profile};
  std::vector<float> result(result_size(pr), std::numeric_limits<float>::quiet_NaN());
  ConvolutionTensors t{pr.input.data(), pr.kernel.data(), pr.bias.data(), result.data()};
  if (pr.p.operation == ConvolutionOperation::input_gradient) t = {pr.grad_output.data(), pr.kernel.data(), nullptr, result.data()};
  if (pr.p.operation == ConvolutionOperation::kernel_gradient) t = {pr.input.data(), pr.grad_output.data(), nullptr, result.data()};
  EXPECT_EQ(set.run(pr.p, t, context), nnp_status_success);
  return result;
}

std::vector<float> reference_result(const Problem& pr) {
  const ConvolutionProblem& p = pr.p;
  const reference::ConvolutionShape shape{p.batch_size, p.input_channels, p.output_channels, p.input_size,
                                          p.padding,    p.kernel_size,    p.stride};
  std::vector<float> result(result_size(pr));
  switch (p.operation) {
    case ConvolutionOperation::input_gradient:
      reference::convolution_input_gradient(shape, pr.grad_output.data(), pr.kernel.data(), result.data(), nullptr);
      break;
    case ConvolutionOperation::kernel_gradient:
      reference::convolution_kernel_gradient(shape, pr.input.data(), pr.grad_output.data(), result.data(), nullptr);
      break;
    default:
      reference::convolution_output(shape, pr.input.data(), pr.kernel.data(), pr.bias.data(), result.data(), p.relu,
                                    nullptr);
  }
  return result;
}

// Largest |a - b| relative to the largest |b|.
double relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0.0, scale = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i])) return INFINITY;
    diff = std::max(diff, std::fabs(double(a[i]) - b[i]));
    scale = std::max(scale, std::fabs(double(b[i])));
  }
  return diff / std::max(scale, 1e-30);
}

void expect_same(const std::vector<float>& a, const std::vector<float>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    // == treats +0 and -0 as equal; NaN fails.
    ASSERT_TRUE(a[i] == b[i]) << what << ": element " << i << ": " << a[i] << " vs " << b[i];
  }
}

const ConvolutionKernelSet& set_for(size_t tile) { return tile == 8 ? kFft8x8Kernels : kFft16x16Kernels; }

struct Shape {
  ConvolutionOperation op;
  size_t tile, batch, cin, cout, h, w, k;
};

const Shape kShapes[] = {
    {ConvolutionOperation::output, 8, 2, 300, 13, 9, 11, 3},  // two channel blocks of the multiply-accumulate
    {ConvolutionOperation::output, 16, 1, 11, 19, 30, 21, 5},
    {ConvolutionOperation::input_gradient, 8, 2, 9, 17, 12, 10, 5},
    {ConvolutionOperation::input_gradient, 16, 1, 7, 5, 20, 23, 9},
    {ConvolutionOperation::kernel_gradient, 8, 3, 11, 10, 13, 9, 3},
    {ConvolutionOperation::kernel_gradient, 16, 2, 5, 12, 21, 17, 7},
    // Whole pairs of 8-channel blocks (the paired multiply-accumulate), then a whole single
    // block (40 channels) or a partial one (33).
    {ConvolutionOperation::output, 8, 1, 5, 40, 11, 10, 3},
    {ConvolutionOperation::input_gradient, 16, 2, 33, 6, 9, 8, 5},
    // Kernel gradient: two pairs of output channel blocks and a partial single one (33), one
    // pair and a whole single block (24); 19 input channels: 6 + 2 columns per whole block of
    // B, then 3.
    {ConvolutionOperation::kernel_gradient, 8, 2, 19, 33, 10, 9, 3},
    {ConvolutionOperation::kernel_gradient, 16, 1, 19, 24, 13, 12, 5},
};

std::string describe(const Shape& s) {
  static const char* ops[] = {"output", "input_gradient", "kernel_gradient", "inference"};
  return std::string(ops[int(s.op)]) + " ft" + std::to_string(s.tile) + " batch " + std::to_string(s.batch) + ", " +
         std::to_string(s.cin) + "->" + std::to_string(s.cout) + ", " + std::to_string(s.h) + "x" +
         std::to_string(s.w) + ", kernel " + std::to_string(s.k);
}

TEST(FftDriver, ReferenceFallbackGivesTheSameBits) {
  std::mt19937 rng(kSeed);
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(describe(s));
    const Problem pr = make(s.op, s.batch, s.cin, s.cout, s.h, s.w, s.k, kSeed + s.cin);
    const std::vector<float> generated = run(set_for(s.tile), pr, nullptr);
    jit::clear_kernel_cache();
    jit::simulate_code_memory_failure(true);
    const std::vector<float> fallback = run(set_for(s.tile), pr, nullptr);
    jit::simulate_code_memory_failure(false);
    jit::clear_kernel_cache();
    expect_same(generated, fallback, "generated vs reference transforms");
    EXPECT_LE(relative_difference(generated, reference_result(pr)), 1e-5);  // sanity; bounds: fft_convolution_test
  }
}

TEST(FftDriver, BlockingOverTilesKeepsResults) {
  struct Pool {
    pthreadpool_t pool = pthreadpool_create(2);
    ~Pool() { pthreadpool_destroy(pool); }
  } pool;
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(describe(s));
    const Problem pr = make(s.op, s.batch, s.cin, s.cout, s.h, s.w, s.k, kSeed + 7 * s.cin);
    const std::vector<float> one_block = run(set_for(s.tile), pr, pool.pool);
    set_block_budget_for_testing(1);  // one tile per block
    const std::vector<float> many = run(set_for(s.tile), pr, pool.pool);
    set_block_budget_for_testing(size_t{200} << 10);
    const std::vector<float> some = run(set_for(s.tile), pr, nullptr);
    set_block_budget_for_testing(0);
    if (s.op == ConvolutionOperation::kernel_gradient) {
      // Sums over the blocks in another order.
      EXPECT_LE(relative_difference(many, one_block), 1e-6);
      EXPECT_LE(relative_difference(some, one_block), 1e-6);
    } else {
      expect_same(one_block, many, "one block vs one tile per block");
      expect_same(one_block, some, "one block vs blocks of 200 KiB");
    }
  }
}

// Forward blocks hold at least twice the transformed kernel where half the last-level cache
// does (a heavy kernel is streamed once per block): the workspace of a 128-channel 3x3 layer
// at 112x112 with ft16x16 (a 16 MiB kernel) grows with a large L3, and that of a 16-channel
// one (128 KiB) does not.
TEST(FftDriver, BlocksGrowWithTheKernelWhereTheCacheHoldsThem) {
  Hardware small = detect_hardware(nullptr), large = small;
  small.l3_bytes = size_t{8} << 20;
  large.l3_bytes = size_t{256} << 20;
  auto workspace = [](size_t channels, const Hardware& hw) {
    const Problem pr = make(ConvolutionOperation::output, 1, channels, channels, 112, 112, 3, kSeed);
    return kFft16x16Kernels.workspace_bytes(pr.p, hw, 1);
  };
  EXPECT_GT(workspace(128, large), workspace(128, small) + (size_t{8} << 20));  // X + Y of 64 tiles, not 12
  EXPECT_EQ(workspace(16, large), workspace(16, small));
}

// The compute strategy with one block of tiles transforms the kernel panel by panel inside the
// multiply (no whole transformed kernel in the workspace) only where X and a panel fit 3/4 of
// the L2, as every panel rereads X: a resnet18.conv2-shaped call (64 -> 64 at 56x56, ft16x16,
// X 1.5 MiB) transforms the whole kernel (4 MiB) first with a 2 MiB L2 and not with 8 MiB.
TEST(FftDriver, KernelTransformFusesOnlyWhereTheL2HoldsX) {
  Hardware small = detect_hardware(nullptr), large = small;
  small.l2_bytes = size_t{2} << 20;
  large.l2_bytes = size_t{8} << 20;
  const Problem pr = make(ConvolutionOperation::inference, 1, 64, 64, 56, 56, 3, kSeed);
  const size_t whole_kernel = kFft16x16Kernels.transformed_kernel_bytes(pr.p, small);
  EXPECT_GE(kFft16x16Kernels.workspace_bytes(pr.p, small, 1), whole_kernel);
  EXPECT_LT(kFft16x16Kernels.workspace_bytes(pr.p, large, 1), whole_kernel);
}

}  // namespace
}  // namespace nnjit::fft
