# fft_tests.cmake — tests of the FFT convolution family (kernels/fft), included from
# tests/CMakeLists.txt. Label: fft (`ctest -L fft`).
nnjit_add_internal_test(fft_transform_test fft fft_transform_test.cc)
nnjit_add_api_test(fft_convolution_test fft fft_convolution_test.cc)
nnjit_add_internal_test(fft_driver_test fft fft_driver_test.cc)
