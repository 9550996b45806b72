#include "kernels/activation/activation.h"

namespace nnjit::activation {

#if defined(__x86_64__)
const ActivationKernelSet kActivationKernelsAvx2 = {"f32_activation__avx2", f32_relu__avx2,
                                                    f32_relu_gradient__avx2, f32_softmax__avx2};
#endif

}  // namespace nnjit::activation
