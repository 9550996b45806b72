# install_test.cmake — `cmake --install` the build tree into a scratch prefix, then build and run
# a consumer project (tests/install_consumer) against it twice: with CMake's
# find_package(nnpack CONFIG) + nnpack::nnpack, and with `cc $(pkg-config --cflags --libs nnpack)`.
#
# Variables (-D): BUILD_DIR, WORK_DIR (scratch, wiped), CONSUMER_DIR, LIBDIR and INCLUDEDIR
# (GNUInstallDirs values), GENERATOR, C_COMPILER, CXX_COMPILER, SHARED (BUILD_SHARED_LIBS),
# SANITIZE (NNJIT_SANITIZE: the consumer must be built with the same sanitizers), CONFIG.
cmake_minimum_required(VERSION 3.25)

foreach(variable BUILD_DIR WORK_DIR CONSUMER_DIR LIBDIR INCLUDEDIR GENERATOR C_COMPILER)
  if(NOT DEFINED ${variable} OR "${${variable}}" STREQUAL "")
    message(FATAL_ERROR "install test: -D${variable}=... is required")
  endif()
endforeach()

function(run_step description)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "install test: ${description} failed (${result}):\n${ARGN}\n${output}")
  endif()
  message(STATUS "install test: ${description}: ok")
  set(step_output "${output}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

# 1. install
set(config_args "")
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()
run_step("cmake --install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}" ${config_args})

foreach(file
    "${INCLUDEDIR}/nnpack.h" "${INCLUDEDIR}/nnjit.h"
    "${LIBDIR}/pkgconfig/nnpack.pc"
    "${LIBDIR}/cmake/nnpack/nnpackConfig.cmake" "${LIBDIR}/cmake/nnpack/nnpackConfigVersion.cmake")
  if(NOT EXISTS "${prefix}/${file}")
    message(FATAL_ERROR "install test: ${prefix}/${file} was not installed")
  endif()
endforeach()
if(SHARED)
  file(GLOB shared_objects "${prefix}/${LIBDIR}/libnnpack.so*")
  if(NOT EXISTS "${prefix}/${LIBDIR}/libnnpack.so" OR NOT EXISTS "${prefix}/${LIBDIR}/libnnpack.so.0")
    message(FATAL_ERROR "install test: libnnpack.so and libnnpack.so.0 expected in ${prefix}/${LIBDIR}, found: ${shared_objects}")
  endif()
else()
  if(NOT EXISTS "${prefix}/${LIBDIR}/libnnpack.a")
    message(FATAL_ERROR "install test: ${prefix}/${LIBDIR}/libnnpack.a was not installed")
  endif()
endif()

set(sanitize_flags "")
if(SANITIZE)
  set(sanitize_flags "-fsanitize=${SANITIZE}")
endif()

# 2. find_package(nnpack CONFIG REQUIRED) + nnpack::nnpack
set(consumer_build "${WORK_DIR}/consumer-build")
set(configure_args
  -S "${CONSUMER_DIR}" -B "${consumer_build}" -G "${GENERATOR}"
  "-DCMAKE_PREFIX_PATH=${prefix}" "-DEXPECTED_PREFIX=${prefix}"
  "-DCMAKE_C_COMPILER=${C_COMPILER}" -DCMAKE_BUILD_TYPE=Release
  "-DCMAKE_C_FLAGS=${sanitize_flags}" "-DCMAKE_CXX_FLAGS=${sanitize_flags}"
  "-DCMAKE_EXE_LINKER_FLAGS=${sanitize_flags}")
if(CXX_COMPILER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
run_step("configure the consumer with find_package(nnpack)" "${CMAKE_COMMAND}" ${configure_args})
run_step("build the consumer" "${CMAKE_COMMAND}" --build "${consumer_build}" --config Release)
set(consumer "${consumer_build}/nnpack_consumer")
if(NOT EXISTS "${consumer}")
  file(GLOB_RECURSE consumer "${consumer_build}/nnpack_consumer" "${consumer_build}/*/nnpack_consumer")
endif()
run_step("run the CMake-built consumer" "${consumer}")
if(NOT step_output MATCHES "nnpack consumer: ok")
  message(FATAL_ERROR "install test: the CMake-built consumer did not report success:\n${step_output}")
endif()

# 3. pkg-config
find_program(PKG_CONFIG_EXECUTABLE NAMES pkg-config pkgconf REQUIRED)
set(pkg_static "")
if(NOT SHARED)
  set(pkg_static --static)
endif()
run_step("pkg-config --cflags --libs nnpack"
  "${CMAKE_COMMAND}" -E env "PKG_CONFIG_PATH=${prefix}/${LIBDIR}/pkgconfig"
  "${PKG_CONFIG_EXECUTABLE}" ${pkg_static} --cflags --libs nnpack)
string(STRIP "${step_output}" pkg_flags)
message(STATUS "install test: pkg-config flags: ${pkg_flags}")
if(NOT pkg_flags MATCHES "-lnnpack")
  message(FATAL_ERROR "install test: pkg-config gives no -lnnpack: ${pkg_flags}")
endif()
separate_arguments(pkg_flag_list UNIX_COMMAND "${pkg_flags}")
separate_arguments(sanitize_flag_list UNIX_COMMAND "${sanitize_flags}")
set(pc_consumer "${WORK_DIR}/nnpack_consumer_pkgconfig")
run_step("cc consumer.c $(pkg-config --cflags --libs nnpack)"
  "${C_COMPILER}" -std=c99 ${sanitize_flag_list} "${CONSUMER_DIR}/consumer.c" -o "${pc_consumer}" ${pkg_flag_list})
run_step("run the pkg-config-built consumer with LD_LIBRARY_PATH"
  "${CMAKE_COMMAND}" -E env "LD_LIBRARY_PATH=${prefix}/${LIBDIR}" "${pc_consumer}")
if(NOT step_output MATCHES "nnpack consumer: ok")
  message(FATAL_ERROR "install test: the pkg-config-built consumer did not report success:\n${step_output}")
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
message(STATUS "install test: OK")
