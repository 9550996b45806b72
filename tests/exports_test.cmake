# exports_test.cmake — run as `cmake -DLIBRARY=<libnnpack.so> [-DCHECK_PTHREADPOOL=ON] -P exports_test.cmake`.
#
# The shared libnnpack exports the NNPACK API, nnjit's nnp_ext_* extension and (unless built
# against the system libpthreadpool) the pthreadpool API, and nothing else; its SONAME is
# libnnpack.so.0 so that programs linked against NNPACK's shared library load it.
cmake_minimum_required(VERSION 3.25)

if(NOT LIBRARY OR NOT EXISTS "${LIBRARY}")
  message(FATAL_ERROR "exports test: LIBRARY='${LIBRARY}' does not exist")
endif()
if(NOT DEFINED NM)
  set(NM nm)
endif()
if(NOT DEFINED READELF)
  set(READELF readelf)
endif()

execute_process(COMMAND "${NM}" -D --defined-only "${LIBRARY}"
  OUTPUT_VARIABLE nm_output ERROR_VARIABLE nm_error RESULT_VARIABLE nm_result)
if(NOT nm_result EQUAL 0)
  message(FATAL_ERROR "exports test: ${NM} failed (${nm_result}): ${nm_error}")
endif()

# Lines look like "000000000001a2b0 T nnp_initialize" (maybe with "@@VERSION" after the name).
string(REPLACE "\n" ";" nm_lines "${nm_output}")
set(exported "")
set(strays "")
foreach(line IN LISTS nm_lines)
  if(line MATCHES "^[0-9a-fA-F]* *([A-Za-z]) ([^ @]+)(@.*)?$")
    set(type "${CMAKE_MATCH_1}")
    set(name "${CMAKE_MATCH_2}")
    # Types that define an exported symbol: text, data, bss, weak, read-only, indirect function.
    if(NOT type MATCHES "^[TDBWVRi]$")
      continue()
    endif()
    # The version-script node (absolute 'A' symbols never reach here) and the ELF init/fini hooks.
    if(name STREQUAL "_init" OR name STREQUAL "_fini")
      continue()
    endif()
    list(APPEND exported "${name}")
    if(NOT name MATCHES "^(nnp_|pthreadpool_)")
      list(APPEND strays "${type} ${name}")
    endif()
  endif()
endforeach()

list(LENGTH exported exported_count)
message(STATUS "exports test: ${exported_count} exported symbols in ${LIBRARY}")
if(exported_count EQUAL 0)
  message(FATAL_ERROR "exports test: no exported symbol found; nm output:\n${nm_output}")
endif()

set(failed FALSE)
if(strays)
  list(JOIN strays "\n  " stray_text)
  message(SEND_ERROR "exports test: symbols outside nnp_* / pthreadpool_* are exported:\n  ${stray_text}")
  set(failed TRUE)
endif()

# Every public function of nnpack.h and nnjit.h ...
set(required
  nnp_initialize nnp_deinitialize
  nnp_convolution_output nnp_convolution_input_gradient nnp_convolution_kernel_gradient nnp_convolution_inference
  nnp_fully_connected_output nnp_fully_connected_inference nnp_fully_connected_inference_f16f32
  nnp_max_pooling_output nnp_softmax_output nnp_relu_output nnp_relu_input_gradient
  nnp_ext_convolution_algorithm nnp_ext_algorithm_name nnp_ext_isa_name)
# ... and of pthreadpool.h, current and legacy, when libnnpack carries its own pool.
if(CHECK_PTHREADPOOL)
  list(APPEND required
    pthreadpool_create pthreadpool_get_threads_count pthreadpool_destroy
    pthreadpool_parallelize_1d pthreadpool_parallelize_1d_tile_1d
    pthreadpool_parallelize_2d pthreadpool_parallelize_2d_tile_1d pthreadpool_parallelize_2d_tile_2d
    pthreadpool_parallelize_3d pthreadpool_parallelize_3d_tile_1d pthreadpool_parallelize_3d_tile_2d
    pthreadpool_parallelize_4d pthreadpool_parallelize_4d_tile_1d pthreadpool_parallelize_4d_tile_2d
    pthreadpool_compute_1d pthreadpool_compute_1d_tiled pthreadpool_compute_2d pthreadpool_compute_2d_tiled
    pthreadpool_compute_3d_tiled pthreadpool_compute_4d_tiled)
endif()
set(missing "")
foreach(name IN LISTS required)
  if(NOT name IN_LIST exported)
    list(APPEND missing "${name}")
  endif()
endforeach()
if(missing)
  list(JOIN missing " " missing_text)
  message(SEND_ERROR "exports test: public functions missing from the dynamic symbol table: ${missing_text}")
  set(failed TRUE)
endif()

# SONAME
execute_process(COMMAND "${READELF}" -d "${LIBRARY}"
  OUTPUT_VARIABLE readelf_output ERROR_VARIABLE readelf_error RESULT_VARIABLE readelf_result)
if(NOT readelf_result EQUAL 0)
  message(FATAL_ERROR "exports test: ${READELF} failed (${readelf_result}): ${readelf_error}")
endif()
if(readelf_output MATCHES "\\(SONAME\\)[^\n]*\\[([^]\n]*)\\]")
  set(soname "${CMAKE_MATCH_1}")
  if(NOT soname STREQUAL "libnnpack.so.0")
    message(SEND_ERROR "exports test: SONAME is '${soname}', expected 'libnnpack.so.0'")
    set(failed TRUE)
  endif()
else()
  message(SEND_ERROR "exports test: no SONAME in ${LIBRARY}")
  set(failed TRUE)
endif()

if(failed)
  message(FATAL_ERROR "exports test failed")
endif()
message(STATUS "exports test: OK (${exported_count} symbols, SONAME ${soname})")
