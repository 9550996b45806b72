#include "kernels/winograd/kernel_sets.h"

#include "kernels/winograd/convolution.h"

namespace nnjit::winograd {
namespace {

bool applies(const ConvolutionProblem& problem, const Hardware&) { return serves(problem); }

size_t workspace(const ConvolutionProblem& problem, const Hardware& hardware, size_t threads) {
  return workspace_bytes(problem, hardware, threads);
}

size_t kernel_bytes(const ConvolutionProblem& problem, const Hardware&) { return transformed_kernel_bytes(problem); }

}  // namespace

const ConvolutionKernelSet kWinogradKernels = {"wt8x8", applies, workspace, kernel_bytes, transform_kernel, run};

}  // namespace nnjit::winograd
