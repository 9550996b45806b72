/*
 * nnjit.h — nnjit's own extensions to the NNPACK interface.
 *
 * Nothing here exists in NNPACK; programs that want to stay portable between
 * NNPACK and nnjit include only <nnpack.h>. These functions let tools report what
 * the library decided without duplicating its rules.
 */
#ifndef NNJIT_H
#define NNJIT_H

#include <nnpack.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The four convolution entry points, as named by nnp_ext_convolution_algorithm. */
enum nnp_ext_convolution_operation {
	nnp_ext_convolution_output = 0,
	nnp_ext_convolution_input_gradient = 1,
	nnp_ext_convolution_kernel_gradient = 2,
	nnp_ext_convolution_inference = 3
};

/*
 * Validates a convolution exactly as the named entry point would (every status it
 * could return before touching data or workspace) and, on success, stores in
 * *chosen the algorithm that a call with `algorithm` would run: the one auto picks,
 * or `algorithm` itself when it is named explicitly. batch_size is ignored for
 * inference; subsampling and transform_strategy are used for inference only.
 * wt8x8 stands for Winograd on 3x3 kernels: where auto picks it for a small image
 * (at most 3x3 tiles of 8x8, stride 1), it runs F(4x4, 3x3) on 6x6
 * tiles; named explicitly, wt8x8 is always F(6x6, 3x3) on 8x8 tiles.
 */
enum nnp_status nnp_ext_convolution_algorithm(
	enum nnp_ext_convolution_operation operation,
	enum nnp_convolution_algorithm algorithm,
	enum nnp_convolution_transform_strategy transform_strategy,
	size_t batch_size,
	size_t input_channels,
	size_t output_channels,
	struct nnp_size input_size,
	struct nnp_padding input_padding,
	struct nnp_size kernel_size,
	struct nnp_size output_subsampling,
	enum nnp_convolution_algorithm* chosen);

/* "auto", "ft8x8", "ft16x16", "wt8x8", "implicit_gemm", "direct", "wt8x8_fp16"; NULL if unknown. */
const char* nnp_ext_algorithm_name(enum nnp_convolution_algorithm algorithm);

/*
 * The instruction set the kernels use after nnp_initialize: "reference", "avx2", ...
 * (the best one built, detected and allowed by the NNJIT_ISA environment variable).
 * "uninitialized" before nnp_initialize.
 */
const char* nnp_ext_isa_name(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NNJIT_H */
