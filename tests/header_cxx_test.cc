// header_cxx_test.cc — <nnpack.h> as a C++ program sees it: every enumerator value, the legacy
// macros, struct layouts, pthreadpool flags (compile time), and the four inline overloads that
// old callers use (no workspace, no activation arguments) on a case small enough to check by hand.
#include <nnpack.h>  // first and alone: the header must be self-contained

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#define HEADER_ASSERT(...) static_assert(__VA_ARGS__, #__VA_ARGS__)

// enum nnp_status, including the three pairs that share a value
HEADER_ASSERT(nnp_status_success == 0);
HEADER_ASSERT(nnp_status_invalid_batch_size == 2);
HEADER_ASSERT(nnp_status_invalid_channels == 3);
HEADER_ASSERT(nnp_status_invalid_input_channels == 4);
HEADER_ASSERT(nnp_status_invalid_output_channels == 5);
HEADER_ASSERT(nnp_status_invalid_input_size == 10);
HEADER_ASSERT(nnp_status_invalid_input_stride == 11);
HEADER_ASSERT(nnp_status_invalid_input_padding == 12);
HEADER_ASSERT(nnp_status_invalid_kernel_size == 13);
HEADER_ASSERT(nnp_status_invalid_pooling_size == 14);
HEADER_ASSERT(nnp_status_invalid_pooling_stride == 15);
HEADER_ASSERT(nnp_status_invalid_algorithm == 16);
HEADER_ASSERT(nnp_status_invalid_transform_strategy == 17);
HEADER_ASSERT(nnp_status_invalid_output_subsampling == 13);
HEADER_ASSERT(nnp_status_invalid_activation == 14);
HEADER_ASSERT(nnp_status_invalid_activation_parameters == 15);
HEADER_ASSERT(nnp_status_unsupported_input_size == 20);
HEADER_ASSERT(nnp_status_unsupported_input_stride == 21);
HEADER_ASSERT(nnp_status_unsupported_input_padding == 22);
HEADER_ASSERT(nnp_status_unsupported_kernel_size == 23);
HEADER_ASSERT(nnp_status_unsupported_pooling_size == 24);
HEADER_ASSERT(nnp_status_unsupported_pooling_stride == 25);
HEADER_ASSERT(nnp_status_unsupported_algorithm == 26);
HEADER_ASSERT(nnp_status_unsupported_transform_strategy == 27);
HEADER_ASSERT(nnp_status_unsupported_activation == 28);
HEADER_ASSERT(nnp_status_unsupported_activation_parameters == 29);
HEADER_ASSERT(nnp_status_uninitialized == 50);
HEADER_ASSERT(nnp_status_unsupported_hardware == 51);
HEADER_ASSERT(nnp_status_out_of_memory == 52);
HEADER_ASSERT(nnp_status_insufficient_buffer == 53);
HEADER_ASSERT(nnp_status_misaligned_buffer == 54);

HEADER_ASSERT(nnp_activation_identity == 0);
HEADER_ASSERT(nnp_activation_relu == 1);

HEADER_ASSERT(nnp_convolution_algorithm_auto == 0);
HEADER_ASSERT(nnp_convolution_algorithm_ft8x8 == 1);
HEADER_ASSERT(nnp_convolution_algorithm_ft16x16 == 2);
HEADER_ASSERT(nnp_convolution_algorithm_wt8x8 == 3);
HEADER_ASSERT(nnp_convolution_algorithm_implicit_gemm == 4);
HEADER_ASSERT(nnp_convolution_algorithm_direct == 5);
HEADER_ASSERT(nnp_convolution_algorithm_wt8x8_fp16 == 6);

HEADER_ASSERT(nnp_convolution_transform_strategy_compute == 1);
HEADER_ASSERT(nnp_convolution_transform_strategy_precompute == 2);
HEADER_ASSERT(nnp_convolution_transform_strategy_reuse == 3);
#if !defined(nnp_convolution_transform_strategy_block_based) || !defined(nnp_convolution_transform_strategy_tuple_based)
#error "the legacy transform strategy names must be macros"
#endif
HEADER_ASSERT(nnp_convolution_transform_strategy_block_based == nnp_convolution_transform_strategy_compute);
HEADER_ASSERT(nnp_convolution_transform_strategy_tuple_based == nnp_convolution_transform_strategy_compute);
// the legacy names have the enum's type, so they pass where a strategy is expected
HEADER_ASSERT(std::is_same<decltype(nnp_convolution_transform_strategy_tuple_based),
                           nnp_convolution_transform_strategy>::value);

HEADER_ASSERT(sizeof(nnp_status) == sizeof(int));
HEADER_ASSERT(sizeof(nnp_activation) == sizeof(int));
HEADER_ASSERT(sizeof(nnp_convolution_algorithm) == sizeof(int));
HEADER_ASSERT(sizeof(nnp_convolution_transform_strategy) == sizeof(int));

HEADER_ASSERT(sizeof(nnp_size) == 2 * sizeof(size_t));
HEADER_ASSERT(offsetof(nnp_size, width) == 0);
HEADER_ASSERT(offsetof(nnp_size, height) == sizeof(size_t));

HEADER_ASSERT(sizeof(nnp_padding) == 4 * sizeof(size_t));
HEADER_ASSERT(offsetof(nnp_padding, top) == 0);
HEADER_ASSERT(offsetof(nnp_padding, right) == 1 * sizeof(size_t));
HEADER_ASSERT(offsetof(nnp_padding, bottom) == 2 * sizeof(size_t));
HEADER_ASSERT(offsetof(nnp_padding, left) == 3 * sizeof(size_t));

HEADER_ASSERT(sizeof(nnp_profile) == 5 * sizeof(double));
HEADER_ASSERT(offsetof(nnp_profile, total) == 0);
HEADER_ASSERT(offsetof(nnp_profile, input_transform) == 1 * sizeof(double));
HEADER_ASSERT(offsetof(nnp_profile, kernel_transform) == 2 * sizeof(double));
HEADER_ASSERT(offsetof(nnp_profile, output_transform) == 3 * sizeof(double));
HEADER_ASSERT(offsetof(nnp_profile, block_multiplication) == 4 * sizeof(double));

HEADER_ASSERT(std::is_standard_layout<nnp_size>::value && std::is_trivial<nnp_size>::value);
HEADER_ASSERT(std::is_standard_layout<nnp_padding>::value && std::is_trivial<nnp_padding>::value);
HEADER_ASSERT(std::is_standard_layout<nnp_profile>::value && std::is_trivial<nnp_profile>::value);

HEADER_ASSERT(PTHREADPOOL_FLAG_DISABLE_DENORMALS == 1);
HEADER_ASSERT(PTHREADPOOL_FLAG_YIELD_WORKERS == 2);
HEADER_ASSERT(std::is_pointer<pthreadpool_t>::value);

// The full C declarations keep their C signatures (the ABI): check a few by type.
HEADER_ASSERT(std::is_same<decltype(&nnp_initialize), nnp_status (*)()>::value);
HEADER_ASSERT(std::is_same<decltype(&nnp_softmax_output),
                           nnp_status (*)(size_t, size_t, const float*, float*, pthreadpool_t)>::value);
HEADER_ASSERT(std::is_same<decltype(&nnp_relu_input_gradient),
                           nnp_status (*)(size_t, size_t, const float*, const float*, float*, float,
                                          pthreadpool_t)>::value);
HEADER_ASSERT(std::is_same<decltype(&nnp_fully_connected_inference_f16f32),
                           nnp_status (*)(size_t, size_t, const float*, const void*, float*, pthreadpool_t)>::value);

namespace {

// Hand-checkable case: 1 channel, 3x3 input 1..9 (row-major), 2x2 kernel [1 2; 3 4], no padding.
const float kInput[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
const float kKernel[4] = {1, 2, 3, 4};
const float kBias[1] = {0.5f};
// forward: out[y][x] = in[y][x] + 2 in[y][x+1] + 3 in[y+1][x] + 4 in[y+1][x+1] + 0.5
//   (0,0): 1 + 4 + 12 + 20 = 37;  (0,1): 2 + 6 + 15 + 24 = 47;
//   (1,0): 4 + 10 + 21 + 32 = 67; (1,1): 5 + 12 + 24 + 36 = 77
const float kForward[4] = {37.5f, 47.5f, 67.5f, 77.5f};
// input gradient with grad_output g = [1 2; 3 4]: gi[y][x] = sum g[oy][ox] k[y-oy][x-ox]
//   row 0: 1*1 = 1;  1*2 + 2*1 = 4;  2*2 = 4
//   row 1: 1*3 + 3*1 = 6;  1*4 + 2*3 + 3*2 + 4*1 = 20;  2*4 + 4*2 = 16
//   row 2: 3*3 = 9;  3*4 + 4*3 = 24;  4*4 = 16
const float kGradOutput[4] = {1, 2, 3, 4};
const float kInputGradient[9] = {1, 4, 4, 6, 20, 16, 9, 24, 16};
// kernel gradient: gk[ky][kx] = sum g[oy][ox] in[oy+ky][ox+kx] = the forward sums with g as kernel
const float kKernelGradient[4] = {37, 47, 67, 77};

constexpr float kTolerance = 1e-3f;  // any algorithm: the exact values are small integers

class InlineOverloads : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_EQ(nnp_initialize(), nnp_status_success); }
  const nnp_size input_size{3, 3};
  const nnp_padding padding{0, 0, 0, 0};
  const nnp_size kernel_size{2, 2};
};

TEST_F(InlineOverloads, Output13Arguments) {
  float output[4];
  std::fill(output, output + 4, std::numeric_limits<float>::quiet_NaN());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  nnp_profile profile{nan, nan, nan, nan, nan};
  ASSERT_EQ(nnp_convolution_output(nnp_convolution_algorithm_auto, 1, 1, 1, input_size, padding, kernel_size, kInput,
                                   kKernel, kBias, output, nullptr, &profile),
            nnp_status_success);
  for (int i = 0; i < 4; i++) EXPECT_NEAR(output[i], kForward[i], kTolerance) << i;
  EXPECT_TRUE(std::isfinite(profile.total));
  EXPECT_TRUE(std::isfinite(profile.block_multiplication));
}

TEST_F(InlineOverloads, InputGradient12Arguments) {
  float grad_input[9];
  std::fill(grad_input, grad_input + 9, std::numeric_limits<float>::quiet_NaN());
  ASSERT_EQ(nnp_convolution_input_gradient(nnp_convolution_algorithm_auto, 1, 1, 1, input_size, padding, kernel_size,
                                           kGradOutput, kKernel, grad_input, nullptr, nullptr),
            nnp_status_success);
  for (int i = 0; i < 9; i++) EXPECT_NEAR(grad_input[i], kInputGradient[i], kTolerance) << i;
}

TEST_F(InlineOverloads, KernelGradient12Arguments) {
  float grad_kernel[4];
  std::fill(grad_kernel, grad_kernel + 4, std::numeric_limits<float>::quiet_NaN());
  ASSERT_EQ(nnp_convolution_kernel_gradient(nnp_convolution_algorithm_auto, 1, 1, 1, input_size, padding, kernel_size,
                                            kInput, kGradOutput, grad_kernel, nullptr, nullptr),
            nnp_status_success);
  for (int i = 0; i < 4; i++) EXPECT_NEAR(grad_kernel[i], kKernelGradient[i], kTolerance) << i;
}

TEST_F(InlineOverloads, Inference14Arguments) {
  float output[4];
  std::fill(output, output + 4, std::numeric_limits<float>::quiet_NaN());
  // MXNet's call: auto with the legacy tuple_based strategy name.
  ASSERT_EQ(nnp_convolution_inference(nnp_convolution_algorithm_auto, nnp_convolution_transform_strategy_tuple_based,
                                      1, 1, input_size, padding, kernel_size, nnp_size{1, 1}, kInput, kKernel, kBias,
                                      output, nullptr, nullptr),
            nnp_status_success);
  for (int i = 0; i < 4; i++) EXPECT_NEAR(output[i], kForward[i], kTolerance) << i;

  // stride 2x2 on the same input: only the top-left output
  float strided[1] = {std::numeric_limits<float>::quiet_NaN()};
  pthreadpool_t pool = pthreadpool_create(2);
  ASSERT_NE(pool, nullptr);
  ASSERT_EQ(nnp_convolution_inference(nnp_convolution_algorithm_auto, nnp_convolution_transform_strategy_block_based,
                                      1, 1, input_size, padding, kernel_size, nnp_size{2, 2}, kInput, kKernel, kBias,
                                      strided, pool, nullptr),
            nnp_status_success);
  pthreadpool_destroy(pool);
  EXPECT_NEAR(strided[0], kForward[0], kTolerance);
}

}  // namespace
