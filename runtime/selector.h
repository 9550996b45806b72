// Which convolution algorithm serves a call: API.md's eligibility table for an
// explicitly named algorithm, and the `auto` rule.
#pragma once

#include <nnpack.h>

#include "kernels/hardware.h"
#include "runtime/validation.h"

namespace nnjit {

// For a validated call: the algorithm that will run, or
// nnp_status_unsupported_algorithm (26) when the named algorithm cannot serve the
// shape, or nnp_status_unsupported_transform_strategy (27) when it cannot apply
// the transform strategy. `auto` always finds an algorithm: API.md's rule, except
// that implicit GEMM runs instead (where it has fast kernels on this hardware) when
// the rule's algorithm has none, and for 1x1 stride-1 kernels (a 1x1 convolution is
// a matrix product).
nnp_status select_convolution_algorithm(const ConvolutionCall& call, const Hardware& hardware,
                                        nnp_convolution_algorithm* chosen);

// The kernel-level description of a validated call.
ConvolutionProblem problem_of(const ConvolutionCall& call);

// The auto rule alone (API.md), for a validated call.
nnp_convolution_algorithm auto_convolution_algorithm(const ConvolutionCall& call);

}  // namespace nnjit
