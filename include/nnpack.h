/*
 * nnpack.h — nnjit's NNPACK-compatible C interface.
 *
 * This header is a drop-in replacement for NNPACK's: the names, enum values,
 * struct layouts and parameter orders below are the interface facts a program
 * built for NNPACK relies on, so such a program compiles and links against
 * nnjit's libnnpack unchanged. Everything here is specified in the project's
 * API description; the comments are ours.
 *
 * Conventions shared by every function:
 *  - Tensors are dense, row-major NCHW: input[batch][channels][height][width],
 *    convolution kernels [output_channels][input_channels][height][width],
 *    fully-connected kernels [output_channels][input_channels].
 *  - Call nnp_initialize() once first; before it every function returns
 *    nnp_status_uninitialized.
 *  - Arguments are validated before anything is computed; the first failing
 *    check decides the status.
 *  - A NULL thread pool runs everything on the calling thread. A pool passed in
 *    stays the caller's: the library never destroys it.
 *  - A non-NULL profile receives the seconds spent, per stage.
 */
#ifndef NNPACK_H
#define NNPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pthreadpool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. Three pairs of names share a value, as in NNPACK. */
enum nnp_status {
	nnp_status_success = 0,
	nnp_status_invalid_batch_size = 2,
	nnp_status_invalid_channels = 3,
	nnp_status_invalid_input_channels = 4,
	nnp_status_invalid_output_channels = 5,
	nnp_status_invalid_input_size = 10,
	nnp_status_invalid_input_stride = 11,
	nnp_status_invalid_input_padding = 12,
	nnp_status_invalid_kernel_size = 13,
	nnp_status_invalid_pooling_size = 14,
	nnp_status_invalid_pooling_stride = 15,
	nnp_status_invalid_algorithm = 16,
	nnp_status_invalid_transform_strategy = 17,
	nnp_status_invalid_output_subsampling = 13,
	nnp_status_invalid_activation = 14,
	nnp_status_invalid_activation_parameters = 15,

	nnp_status_unsupported_input_size = 20,
	nnp_status_unsupported_input_stride = 21,
	nnp_status_unsupported_input_padding = 22,
	nnp_status_unsupported_kernel_size = 23,
	nnp_status_unsupported_pooling_size = 24,
	nnp_status_unsupported_pooling_stride = 25,
	nnp_status_unsupported_algorithm = 26,
	nnp_status_unsupported_transform_strategy = 27,
	nnp_status_unsupported_activation = 28,
	nnp_status_unsupported_activation_parameters = 29,

	nnp_status_uninitialized = 50,
	nnp_status_unsupported_hardware = 51,
	nnp_status_out_of_memory = 52,
	nnp_status_insufficient_buffer = 53,
	nnp_status_misaligned_buffer = 54
};

/* Activation fused into the convolution's output (or differentiated through). */
enum nnp_activation {
	nnp_activation_identity = 0,
	nnp_activation_relu = 1
};

/* How a convolution is computed. auto lets the library choose. */
enum nnp_convolution_algorithm {
	nnp_convolution_algorithm_auto = 0,
	nnp_convolution_algorithm_ft8x8 = 1,      /* Fourier transform on 8x8 tiles */
	nnp_convolution_algorithm_ft16x16 = 2,    /* Fourier transform on 16x16 tiles */
	nnp_convolution_algorithm_wt8x8 = 3,      /* Winograd F(6x6, 3x3) on 8x8 tiles */
	nnp_convolution_algorithm_implicit_gemm = 4,
	nnp_convolution_algorithm_direct = 5,     /* 1x1 kernels only */
	nnp_convolution_algorithm_wt8x8_fp16 = 6  /* Winograd with fp16 storage where implemented */
};

/*
 * What nnp_convolution_inference does with the kernel:
 *  compute    — transform it during this call;
 *  precompute — only transform it, into workspace_buffer, and compute nothing else;
 *  reuse      — `kernel` already holds such precomputed data.
 */
enum nnp_convolution_transform_strategy {
	nnp_convolution_transform_strategy_compute = 1,
	nnp_convolution_transform_strategy_precompute = 2,
	nnp_convolution_transform_strategy_reuse = 3
};

/* Old spellings of the compute strategy. */
#define nnp_convolution_transform_strategy_block_based nnp_convolution_transform_strategy_compute
#define nnp_convolution_transform_strategy_tuple_based nnp_convolution_transform_strategy_compute

/* A 2-D extent: width first. */
struct nnp_size {
	size_t width;
	size_t height;
};

/* Implicit zero padding around an image, clockwise from the top. */
struct nnp_padding {
	size_t top;
	size_t right;
	size_t bottom;
	size_t left;
};

/* Seconds spent by one call, in total and per stage. */
struct nnp_profile {
	double total;
	double input_transform;
	double kernel_transform;
	double output_transform;
	double block_multiplication;
};

/* Detects the CPU and prepares the library. Idempotent and thread-safe. */
enum nnp_status nnp_initialize(void);

/* Releases what nnp_initialize and later calls acquired. Idempotent. */
enum nnp_status nnp_deinitialize(void);

/*
 * Workspace protocol of the four convolution functions:
 *  - workspace_buffer NULL, workspace_size non-NULL: store the bytes needed in
 *    *workspace_size and return success without computing;
 *  - both NULL: the library allocates what it needs;
 *  - workspace_buffer non-NULL: *workspace_size bytes at a 64-byte-aligned
 *    address; too few gives nnp_status_insufficient_buffer, a misaligned
 *    address nnp_status_misaligned_buffer.
 * Output size per axis: padding_before + input + padding_after - kernel + 1
 * (divided by the subsampling, rounding down, plus one, in inference).
 */

/* Forward pass over a batch: output = activation(input * kernel + bias), stride 1. */
enum nnp_status nnp_convolution_output(
	enum nnp_convolution_algorithm algorithm,
	size_t batch_size,
	size_t input_channels,
	size_t output_channels,
	struct nnp_size input_size,
	struct nnp_padding input_padding,
	struct nnp_size kernel_size,
	const float* input,
	const float* kernel,
	const float* bias,
	float* output,
	void* workspace_buffer,
	size_t* workspace_size,
	enum nnp_activation activation,
	const void* activation_parameters,
	pthreadpool_t threadpool,
	struct nnp_profile* profile);

/* Gradient of the loss with respect to the input (convolution with the flipped kernel). */
enum nnp_status nnp_convolution_input_gradient(
	enum nnp_convolution_algorithm algorithm,
	size_t batch_size,
	size_t input_channels,
	size_t output_channels,
	struct nnp_size input_size,
	struct nnp_padding input_padding,
	struct nnp_size kernel_size,
	const float* grad_output,
	const float* kernel,
	float* grad_input,
	void* workspace_buffer,
	size_t* workspace_size,
	enum nnp_activation activation,
	const void* activation_parameters,
	pthreadpool_t threadpool,
	struct nnp_profile* profile);

/* Gradient of the loss with respect to the kernel, summed over the batch. */
enum nnp_status nnp_convolution_kernel_gradient(
	enum nnp_convolution_algorithm algorithm,
	size_t batch_size,
	size_t input_channels,
	size_t output_channels,
	struct nnp_size input_size,
	struct nnp_padding input_padding,
	struct nnp_size kernel_size,
	const float* input,
	const float* grad_output,
	float* grad_kernel,
	void* workspace_buffer,
	size_t* workspace_size,
	enum nnp_activation activation,
	const void* activation_parameters,
	pthreadpool_t threadpool,
	struct nnp_profile* profile);

/* Forward pass for one image, with stride (output_subsampling) and kernel pre-transformation. */
enum nnp_status nnp_convolution_inference(
	enum nnp_convolution_algorithm algorithm,
	enum nnp_convolution_transform_strategy transform_strategy,
	size_t input_channels,
	size_t output_channels,
	struct nnp_size input_size,
	struct nnp_padding input_padding,
	struct nnp_size kernel_size,
	struct nnp_size output_subsampling,
	const float* input,
	const float* kernel,
	const float* bias,
	float* output,
	void* workspace_buffer,
	size_t* workspace_size,
	enum nnp_activation activation,
	const void* activation_parameters,
	pthreadpool_t threadpool,
	struct nnp_profile* profile);

/* output[b][o] = sum over i of input[b][i] * kernel[o][i]. No bias. */
enum nnp_status nnp_fully_connected_output(
	size_t batch_size,
	size_t input_channels,
	size_t output_channels,
	const float input[],
	const float kernel[],
	float output[],
	pthreadpool_t threadpool,
	struct nnp_profile* profile);

/* The same for a single input vector. */
enum nnp_status nnp_fully_connected_inference(
	size_t input_channels,
	size_t output_channels,
	const float* input,
	const float* kernel,
	float* output,
	pthreadpool_t threadpool);

/* The same with the kernel stored as IEEE 754 half-precision values. */
enum nnp_status nnp_fully_connected_inference_f16f32(
	size_t input_channels,
	size_t output_channels,
	const float* input,
	const void* kernel,
	float* output,
	pthreadpool_t threadpool);

/*
 * Max pooling. Output size per axis: ceil((pad_before + input + pad_after - pool) / stride) + 1;
 * the last window may hang over the edge. Padding and overhang cells take no part in the maximum.
 */
enum nnp_status nnp_max_pooling_output(
	size_t batch_size,
	size_t channels,
	struct nnp_size input_size,
	struct nnp_padding input_padding,
	struct nnp_size pooling_size,
	struct nnp_size pooling_stride,
	const float input[],
	float output[],
	pthreadpool_t threadpool);

/* Numerically stable softmax over the channels of each batch row. May run in place. */
enum nnp_status nnp_softmax_output(
	size_t batch_size,
	size_t channels,
	const float input[],
	float output[],
	pthreadpool_t threadpool);

/* Leaky ReLU: x, or x * negative_slope where x is negative. May run in place. */
enum nnp_status nnp_relu_output(
	size_t batch_size,
	size_t channels,
	const float input[],
	float output[],
	float negative_slope,
	pthreadpool_t threadpool);

/* Gradient of nnp_relu_output with respect to its input. */
enum nnp_status nnp_relu_input_gradient(
	size_t batch_size,
	size_t channels,
	const float grad_output[],
	const float input[],
	float grad_input[],
	float negative_slope,
	pthreadpool_t threadpool);

#ifdef __cplusplus
} /* extern "C" */

/* Overloads for callers written before workspaces and fused activations existed. */

inline enum nnp_status nnp_convolution_output(
	nnp_convolution_algorithm algorithm,
	size_t batch_size,
	size_t input_channels,
	size_t output_channels,
	nnp_size input_size,
	nnp_padding input_padding,
	nnp_size kernel_size,
	const float input[],
	const float kernel[],
	const float bias[],
	float output[],
	pthreadpool_t threadpool,
	nnp_profile* profile)
{
	return nnp_convolution_output(
		algorithm, batch_size, input_channels, output_channels,
		input_size, input_padding, kernel_size,
		input, kernel, bias, output,
		NULL, NULL, nnp_activation_identity, NULL, threadpool, profile);
}

inline enum nnp_status nnp_convolution_input_gradient(
	nnp_convolution_algorithm algorithm,
	size_t batch_size,
	size_t input_channels,
	size_t output_channels,
	nnp_size input_size,
	nnp_padding input_padding,
	nnp_size kernel_size,
	const float grad_output[],
	const float kernel[],
	float grad_input[],
	pthreadpool_t threadpool,
	nnp_profile* profile)
{
	return nnp_convolution_input_gradient(
		algorithm, batch_size, input_channels, output_channels,
		input_size, input_padding, kernel_size,
		grad_output, kernel, grad_input,
		NULL, NULL, nnp_activation_identity, NULL, threadpool, profile);
}

inline enum nnp_status nnp_convolution_kernel_gradient(
	nnp_convolution_algorithm algorithm,
	size_t batch_size,
	size_t input_channels,
	size_t output_channels,
	nnp_size input_size,
	nnp_padding input_padding,
	nnp_size kernel_size,
	const float input[],
	const float grad_output[],
	float grad_kernel[],
	pthreadpool_t threadpool,
	nnp_profile* profile)
{
	return nnp_convolution_kernel_gradient(
		algorithm, batch_size, input_channels, output_channels,
		input_size, input_padding, kernel_size,
		input, grad_output, grad_kernel,
		NULL, NULL, nnp_activation_identity, NULL, threadpool, profile);
}

inline enum nnp_status nnp_convolution_inference(
	nnp_convolution_algorithm algorithm,
	nnp_convolution_transform_strategy transform_strategy,
	size_t input_channels,
	size_t output_channels,
	nnp_size input_size,
	nnp_padding input_padding,
	nnp_size kernel_size,
	nnp_size output_subsampling,
	const float input[],
	const float kernel[],
	const float bias[],
	float output[],
	pthreadpool_t threadpool,
	nnp_profile* profile)
{
	return nnp_convolution_inference(
		algorithm, transform_strategy, input_channels, output_channels,
		input_size, input_padding, kernel_size, output_subsampling,
		input, kernel, bias, output,
		NULL, NULL, nnp_activation_identity, NULL, threadpool, profile);
}

#endif /* __cplusplus */

#endif /* NNPACK_H */
