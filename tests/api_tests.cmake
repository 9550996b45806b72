# api_tests.cmake — the public-API test suite, included from tests/CMakeLists.txt.
#
# Everything here uses only the installed interface (nnpack.h, nnjit.h, pthreadpool.h) and
# libnnpack. Labels: status, convolution, fc, pooling, activation, uninitialized, header,
# exports, install (`ctest -L status`, ...).

# --- GoogleTest binaries (libnnpack + gtest_main) ---
nnjit_add_api_test(api_status_test status api_status_test.cc)
# The same table's rows that pass enum values outside the enumerations' ranges (see the file).
nnjit_add_api_test(api_status_enum_test status api_status_test.cc)
target_compile_definitions(api_status_enum_test PRIVATE API_STATUS_OUT_OF_RANGE_ENUMS=1)
nnjit_add_api_test(api_selector_test status api_selector_test.cc)
# API.md's auto rule is checked with the portable kernels only (the tuned choice can differ
# where a faster kernel exists); the tuned choice is checked on this machine's own ISA.
set_tests_properties(api_selector_test PROPERTIES ENVIRONMENT NNJIT_ISA=reference)
add_test(NAME api_selector_tuned_test COMMAND api_selector_test --gtest_filter=TunedAuto.*)
set_tests_properties(api_selector_tuned_test PROPERTIES LABELS status)
nnjit_add_api_test(api_convolution_test convolution api_convolution_test.cc)
nnjit_add_api_test(api_fully_connected_test fc api_fully_connected_test.cc)
nnjit_add_api_test(api_pooling_test pooling api_pooling_test.cc)
nnjit_add_api_test(api_activation_test activation api_activation_test.cc)
# Its own binary: nothing in it may initialize the library before the tests do.
nnjit_add_api_test(api_uninitialized_test uninitialized api_uninitialized_test.cc)

# --- the header as C99 and as C++ ---
add_executable(header_c_test header_c_test.c)
target_link_libraries(header_c_test PRIVATE nnpack)
set_target_properties(header_c_test PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_compile_options(header_c_test PRIVATE -Wall -Wextra -pedantic -Werror -Wstrict-prototypes)
add_test(NAME header_c_test COMMAND header_c_test)
set_tests_properties(header_c_test PROPERTIES LABELS header)

nnjit_add_api_test(header_cxx_test header header_cxx_test.cc)
target_compile_options(header_cxx_test PRIVATE -Wall -Wextra -pedantic -Werror)

# Compile-only: the header (with its inline overloads) as C++11. A failure breaks the build.
add_library(header_cxx11_check OBJECT header_cxx11_check.cc)
target_include_directories(header_cxx11_check PRIVATE ${PROJECT_SOURCE_DIR}/include)
set_target_properties(header_cxx11_check PROPERTIES CXX_STANDARD 11 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
target_compile_options(header_cxx11_check PRIVATE -Wall -Wextra -pedantic -Werror)

# --- exported symbols and SONAME of the shared library ---
if(BUILD_SHARED_LIBS)
  if(NNJIT_USE_SYSTEM_PTHREADPOOL)
    set(nnjit_exports_check_pthreadpool OFF)
  else()
    set(nnjit_exports_check_pthreadpool ON)
  endif()
  set(nnjit_exports_tools "")
  if(CMAKE_NM)
    list(APPEND nnjit_exports_tools "-DNM=${CMAKE_NM}")
  endif()
  if(CMAKE_READELF)
    list(APPEND nnjit_exports_tools "-DREADELF=${CMAKE_READELF}")
  endif()
  add_test(NAME exports_test
    COMMAND ${CMAKE_COMMAND} "-DLIBRARY=$<TARGET_FILE:nnpack>"
            "-DCHECK_PTHREADPOOL=${nnjit_exports_check_pthreadpool}" ${nnjit_exports_tools}
            -P ${CMAKE_CURRENT_SOURCE_DIR}/exports_test.cmake)
  set_tests_properties(exports_test PROPERTIES LABELS exports)
endif()

# --- install, then build a consumer with find_package and with pkg-config ---
add_test(NAME install_test
  COMMAND ${CMAKE_COMMAND}
          "-DBUILD_DIR=${PROJECT_BINARY_DIR}"
          "-DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/install_test"
          "-DCONSUMER_DIR=${CMAKE_CURRENT_SOURCE_DIR}/install_consumer"
          "-DLIBDIR=${CMAKE_INSTALL_LIBDIR}"
          "-DINCLUDEDIR=${CMAKE_INSTALL_INCLUDEDIR}"
          "-DGENERATOR=${CMAKE_GENERATOR}"
          "-DC_COMPILER=${CMAKE_C_COMPILER}"
          "-DCXX_COMPILER=${CMAKE_CXX_COMPILER}"
          "-DSHARED=${BUILD_SHARED_LIBS}"
          "-DSANITIZE=${NNJIT_SANITIZE}"
          "-DCONFIG=$<CONFIG>"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/install_test.cmake)
set_tests_properties(install_test PROPERTIES LABELS install TIMEOUT 600)
