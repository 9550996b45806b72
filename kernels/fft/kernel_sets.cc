#include "kernels/fft/kernel_sets.h"

#include "kernels/fft/convolution.h"

namespace nnjit::fft {
namespace {

template <size_t Tile>
struct Set {
  static bool applies(const ConvolutionProblem& p, const Hardware&) { return serves(p, Tile); }
  static size_t workspace(const ConvolutionProblem& p, const Hardware& hw, size_t threads) {
    return workspace_bytes(p, Tile, hw, threads);
  }
  static size_t kernel_bytes(const ConvolutionProblem& p, const Hardware&) {
    return transformed_kernel_bytes(p, Tile);
  }
  static void transform(const ConvolutionProblem& p, const float* kernel, void* transformed,
                        const ExecutionContext& context) {
    transform_kernel(p, Tile, kernel, transformed, context);
  }
  static nnp_status compute(const ConvolutionProblem& p, const ConvolutionTensors& t,
                            const ExecutionContext& context) {
    return run(p, Tile, t, context);
  }
};

}  // namespace

const ConvolutionKernelSet kFft8x8Kernels = {"ft8x8",           Set<8>::applies,   Set<8>::workspace,
                                             Set<8>::kernel_bytes, Set<8>::transform, Set<8>::compute};
const ConvolutionKernelSet kFft16x16Kernels = {"ft16x16",           Set<16>::applies,   Set<16>::workspace,
                                               Set<16>::kernel_bytes, Set<16>::transform, Set<16>::compute};

}  // namespace nnjit::fft
