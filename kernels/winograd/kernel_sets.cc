#include "kernels/winograd/kernel_sets.h"

#include "kernels/winograd/convolution.h"

namespace nnjit::winograd {
namespace {

template <size_t Tile>
struct Set {
  static bool applies(const ConvolutionProblem& problem, const Hardware&) { return serves(problem, Tile); }
  static size_t workspace(const ConvolutionProblem& problem, const Hardware& hardware, size_t threads) {
    return workspace_bytes(problem, Tile, hardware, threads);
  }
  static size_t kernel_bytes(const ConvolutionProblem& problem, const Hardware&) {
    return transformed_kernel_bytes(problem, Tile);
  }
  static void transform(const ConvolutionProblem& problem, const float* kernel, void* transformed,
                        const ExecutionContext& context) {
    transform_kernel(problem, Tile, kernel, transformed, context);
  }
  static nnp_status compute(const ConvolutionProblem& problem, const ConvolutionTensors& tensors,
                            const ExecutionContext& context) {
    return run(problem, Tile, tensors, context);
  }
};

}  // namespace

const ConvolutionKernelSet kWinogradKernels = {"wt8x8", Set<8>::applies, Set<8>::workspace, Set<8>::kernel_bytes,
                                               Set<8>::transform, Set<8>::compute};
const ConvolutionKernelSet kWinograd6x6Kernels = {"wt6x6", Set<6>::applies, Set<6>::workspace,
                                                  Set<6>::kernel_bytes, Set<6>::transform, Set<6>::compute};

}  // namespace nnjit::winograd
