/*
 * consumer.c — a program outside the project that uses an installed libnnpack, built twice by
 * tests/install_test.cmake: through find_package(nnpack) and through pkg-config.
 * Exits 0 when a small convolution, with and without a thread pool, gives the right numbers.
 */
#include <nnpack.h>

#include <stdio.h>

static int close_to(float got, float expected) {
	const float difference = got > expected ? got - expected : expected - got;
	return difference <= 1e-3f;
}

int main(void) {
	/* 1 channel, 3x3 input 1..9, 2x2 kernel [1 2; 3 4], bias 0.5, fused ReLU:
	 * 1*1 + 2*2 + 4*3 + 5*4 = 37, then 47, 67, 77 (+ 0.5) */
	const float input[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	const float kernel[4] = {1, 2, 3, 4};
	const float bias[1] = {0.5f};
	const float expected[4] = {37.5f, 47.5f, 67.5f, 77.5f};
	const struct nnp_size input_size = {3, 3};
	const struct nnp_padding padding = {0, 0, 0, 0};
	const struct nnp_size kernel_size = {2, 2};
	const struct nnp_size stride = {1, 1};
	float output[4] = {0, 0, 0, 0};
	pthreadpool_t pool;
	enum nnp_status status;
	int i;

	status = nnp_initialize();
	if (status != nnp_status_success) {
		fprintf(stderr, "nnp_initialize: status %d\n", (int) status);
		return 1;
	}
	status = nnp_convolution_output(nnp_convolution_algorithm_auto, 1, 1, 1, input_size, padding, kernel_size,
		input, kernel, bias, output, NULL, NULL, nnp_activation_relu, NULL, NULL, NULL);
	if (status != nnp_status_success) {
		fprintf(stderr, "nnp_convolution_output: status %d\n", (int) status);
		return 2;
	}
	for (i = 0; i < 4; i++) {
		if (!close_to(output[i], expected[i])) {
			fprintf(stderr, "nnp_convolution_output: output[%d] = %f, expected %f\n", i, output[i], expected[i]);
			return 3;
		}
	}

	pool = pthreadpool_create(2);
	if (pool == NULL) {
		fprintf(stderr, "pthreadpool_create failed\n");
		return 4;
	}
	for (i = 0; i < 4; i++) output[i] = 0.0f;
	status = nnp_convolution_inference(nnp_convolution_algorithm_auto, nnp_convolution_transform_strategy_compute,
		1, 1, input_size, padding, kernel_size, stride, input, kernel, bias, output, NULL, NULL,
		nnp_activation_identity, NULL, pool, NULL);
	pthreadpool_destroy(pool);
	if (status != nnp_status_success) {
		fprintf(stderr, "nnp_convolution_inference: status %d\n", (int) status);
		return 5;
	}
	for (i = 0; i < 4; i++) {
		if (!close_to(output[i], expected[i])) {
			fprintf(stderr, "nnp_convolution_inference: output[%d] = %f, expected %f\n", i, output[i], expected[i]);
			return 6;
		}
	}
	printf("nnpack consumer: ok\n");
	return 0;
}
