// header_cxx11_check.cc — compiled, never run: <nnpack.h> (and the C++ inline overloads in it)
// must compile as C++11 with -pedantic -Werror, for callers that still build that way.
#include <nnpack.h>

static_assert(nnp_status_misaligned_buffer == 54, "nnpack.h in C++11");
static_assert(sizeof(nnp_padding) == 4 * sizeof(size_t), "nnpack.h in C++11");

// Take the address of each inline overload so that its body is compiled.
using OutputOverload = nnp_status (*)(nnp_convolution_algorithm, size_t, size_t, size_t, nnp_size, nnp_padding,
                                      nnp_size, const float*, const float*, const float*, float*, pthreadpool_t,
                                      nnp_profile*);
using InferenceOverload = nnp_status (*)(nnp_convolution_algorithm, nnp_convolution_transform_strategy, size_t,
                                         size_t, nnp_size, nnp_padding, nnp_size, nnp_size, const float*,
                                         const float*, const float*, float*, pthreadpool_t, nnp_profile*);
using GradientOverload = nnp_status (*)(nnp_convolution_algorithm, size_t, size_t, size_t, nnp_size, nnp_padding,
                                        nnp_size, const float*, const float*, float*, pthreadpool_t, nnp_profile*);

OutputOverload header_cxx11_output = &nnp_convolution_output;
InferenceOverload header_cxx11_inference = &nnp_convolution_inference;
GradientOverload header_cxx11_input_gradient = &nnp_convolution_input_gradient;
GradientOverload header_cxx11_kernel_gradient = &nnp_convolution_kernel_gradient;
