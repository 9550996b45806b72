/*
 * header_c_test.c — <nnpack.h> as a C99 program sees it (compiled with -std=c99 -pedantic
 * -Werror). Compile-time: every enumerator value, the two legacy strategy macros, the layouts
 * of nnp_size, nnp_padding and nnp_profile, and the pthreadpool flags. Run time: initialize
 * and run one small convolution and one ReLU through the C ABI.
 */
#include <nnpack.h>

/* _Static_assert is C11; __extension__ keeps -pedantic quiet in C99 mode. */
#define HEADER_ASSERT(condition) __extension__ _Static_assert(condition, #condition)

/* enum nnp_status, including the three pairs that share a value */
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

/* enum nnp_activation */
HEADER_ASSERT(nnp_activation_identity == 0);
HEADER_ASSERT(nnp_activation_relu == 1);

/* enum nnp_convolution_algorithm */
HEADER_ASSERT(nnp_convolution_algorithm_auto == 0);
HEADER_ASSERT(nnp_convolution_algorithm_ft8x8 == 1);
HEADER_ASSERT(nnp_convolution_algorithm_ft16x16 == 2);
HEADER_ASSERT(nnp_convolution_algorithm_wt8x8 == 3);
HEADER_ASSERT(nnp_convolution_algorithm_implicit_gemm == 4);
HEADER_ASSERT(nnp_convolution_algorithm_direct == 5);
HEADER_ASSERT(nnp_convolution_algorithm_wt8x8_fp16 == 6);

/* enum nnp_convolution_transform_strategy and the legacy macros */
HEADER_ASSERT(nnp_convolution_transform_strategy_compute == 1);
HEADER_ASSERT(nnp_convolution_transform_strategy_precompute == 2);
HEADER_ASSERT(nnp_convolution_transform_strategy_reuse == 3);
#if !defined(nnp_convolution_transform_strategy_block_based) || !defined(nnp_convolution_transform_strategy_tuple_based)
#error "the legacy transform strategy names must be macros"
#endif
HEADER_ASSERT(nnp_convolution_transform_strategy_block_based == 1);
HEADER_ASSERT(nnp_convolution_transform_strategy_tuple_based == 1);

/* the enums are int-sized, as a C ABI passes them */
HEADER_ASSERT(sizeof(enum nnp_status) == sizeof(int));
HEADER_ASSERT(sizeof(enum nnp_activation) == sizeof(int));
HEADER_ASSERT(sizeof(enum nnp_convolution_algorithm) == sizeof(int));
HEADER_ASSERT(sizeof(enum nnp_convolution_transform_strategy) == sizeof(int));

/* struct nnp_size: width first */
HEADER_ASSERT(sizeof(struct nnp_size) == 2 * sizeof(size_t));
HEADER_ASSERT(offsetof(struct nnp_size, width) == 0);
HEADER_ASSERT(offsetof(struct nnp_size, height) == sizeof(size_t));

/* struct nnp_padding: clockwise from the top */
HEADER_ASSERT(sizeof(struct nnp_padding) == 4 * sizeof(size_t));
HEADER_ASSERT(offsetof(struct nnp_padding, top) == 0);
HEADER_ASSERT(offsetof(struct nnp_padding, right) == 1 * sizeof(size_t));
HEADER_ASSERT(offsetof(struct nnp_padding, bottom) == 2 * sizeof(size_t));
HEADER_ASSERT(offsetof(struct nnp_padding, left) == 3 * sizeof(size_t));

/* struct nnp_profile: five doubles */
HEADER_ASSERT(sizeof(struct nnp_profile) == 5 * sizeof(double));
HEADER_ASSERT(offsetof(struct nnp_profile, total) == 0);
HEADER_ASSERT(offsetof(struct nnp_profile, input_transform) == 1 * sizeof(double));
HEADER_ASSERT(offsetof(struct nnp_profile, kernel_transform) == 2 * sizeof(double));
HEADER_ASSERT(offsetof(struct nnp_profile, output_transform) == 3 * sizeof(double));
HEADER_ASSERT(offsetof(struct nnp_profile, block_multiplication) == 4 * sizeof(double));

/* <pthreadpool.h> comes with <nnpack.h> */
HEADER_ASSERT(PTHREADPOOL_FLAG_DISABLE_DENORMALS == 1);
HEADER_ASSERT(PTHREADPOOL_FLAG_YIELD_WORKERS == 2);
HEADER_ASSERT(sizeof(pthreadpool_t) == sizeof(void*));

static int close_to(float got, float expected) {
	const float difference = got > expected ? got - expected : expected - got;
	return difference <= 1e-3f;
}

int main(void) {
	/* 1 channel, 3x3 input 1..9, 2x2 kernel [1 2; 3 4], bias 0.5:
	 * 1*1+2*2+4*3+5*4 = 37, 47, 67, 77 (+ 0.5) */
	const float input[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	const float kernel[4] = {1, 2, 3, 4};
	const float bias[1] = {0.5f};
	const float expected[4] = {37.5f, 47.5f, 67.5f, 77.5f};
	float output[4] = {0, 0, 0, 0};
	const struct nnp_size input_size = {3, 3};
	const struct nnp_padding padding = {0, 0, 0, 0};
	const struct nnp_size kernel_size = {2, 2};
	const float relu_input[4] = {-2.0f, -0.5f, 0.0f, 3.0f};
	float relu_output[4] = {0, 0, 0, 0};
	enum nnp_status status;
	int i;

	if (nnp_initialize() != nnp_status_success) return 1;
	status = nnp_convolution_output(nnp_convolution_algorithm_auto, 1, 1, 1, input_size, padding, kernel_size,
		input, kernel, bias, output, NULL, NULL, nnp_activation_identity, NULL, NULL, NULL);
	if (status != nnp_status_success) return 2;
	for (i = 0; i < 4; i++) {
		if (!close_to(output[i], expected[i])) return 3;
	}
	if (nnp_relu_output(1, 4, relu_input, relu_output, 0.5f, NULL) != nnp_status_success) return 4;
	if (relu_output[0] != -1.0f || relu_output[1] != -0.25f || relu_output[2] != 0.0f || relu_output[3] != 3.0f) {
		return 5;
	}
	return 0;
}
