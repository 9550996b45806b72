# Activation kernel family: the AVX2 kernels against the reference (internals).
nnjit_add_internal_test(activation_kernels_test activation activation_kernels_test.cc)
