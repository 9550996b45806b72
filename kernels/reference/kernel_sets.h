// The reference kernels packaged as kernel sets: the last entry of every dispatch
// table, serving any algorithm on any machine.
#pragma once

#include "kernels/kernel_set.h"

namespace nnjit::reference {

extern const ConvolutionKernelSet kConvolutionKernels;
extern const FullyConnectedKernelSet kFullyConnectedKernels;
extern const MaxPoolingKernelSet kMaxPoolingKernels;
extern const ActivationKernelSet kActivationKernels;

}  // namespace nnjit::reference
