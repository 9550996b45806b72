# Pooling kernel family: the AVX2 2x2/2 kernel against the reference (internals).
nnjit_add_internal_test(pooling_kernels_test pooling pooling_kernels_test.cc)
