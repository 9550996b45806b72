# winograd_tests.cmake — tests of the Winograd F(6x6, 3x3) family (label winograd), included
# from tests/CMakeLists.txt. Both link nnjit_core's objects: they reach the transforms and the
# kernel set directly, and the public API through the same objects.
nnjit_add_internal_test(winograd_transforms_test winograd winograd_transforms_test.cc)
nnjit_add_internal_test(winograd_convolution_test winograd winograd_convolution_test.cc)
