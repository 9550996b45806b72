# The network runner (tools/network.h) and the nnjit-bench command line (label: network).
if(TARGET nnjit_network AND TARGET nnjit-bench)
  nnjit_add_api_test(network_test network network_test.cc)
  target_link_libraries(network_test PRIVATE nnjit_network)

  add_executable(network_cli_test network_cli_test.cc)
  target_link_libraries(network_cli_test PRIVATE GTest::gtest GTest::gtest_main)
  target_compile_definitions(network_cli_test PRIVATE NNJIT_BENCH_PATH="$<TARGET_FILE:nnjit-bench>")
  add_test(NAME network_cli_test COMMAND network_cli_test)
  set_tests_properties(network_cli_test PROPERTIES LABELS network TIMEOUT 300)
  add_dependencies(network_cli_test nnjit-bench)
endif()
