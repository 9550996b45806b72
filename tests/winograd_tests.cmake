# winograd_tests.cmake — tests of the Winograd family, F(6x6, 3x3) and F(4x4, 3x3) (label winograd), included
# from tests/CMakeLists.txt. Both link nnjit_core's objects: they reach the transforms and the
# kernel set directly, and the public API through the same objects.
nnjit_add_internal_test(winograd_transforms_test winograd winograd_transforms_test.cc)
nnjit_add_internal_test(winograd_convolution_test winograd winograd_convolution_test.cc)
