// bench_layers: nnjit's public API on the layer set of bench/layers.tsv, against
// im2col + OpenBLAS and oneDNN. See bench/README.md.
//
// Own flags (handled before benchmark::Initialize, removed from argv):
//   --check                 only run the correctness check, exit 0 if it passes
//   --check-conv=<layer>    conv layer of the check (default alexnet.conv3)
//   --check-fc=<layer>      fc layer of the check (default alexnet.fc8)
//   --layers=<file>         layer set instead of the compiled-in bench/layers.tsv
// Environment: NNJIT_BENCH_CHECK=1 runs the check first, then the benchmarks.
#include <benchmark/benchmark.h>
#include <nnjit.h>
#include <nnpack.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common.h"
#include "layer_benchmarks.h"
#include "runners.h"

#ifndef NNJIT_BENCH_LAYERS
#define NNJIT_BENCH_LAYERS "bench/layers.tsv"
#endif

namespace {

bool take_flag(const char* arg, const char* flag, std::string* value) {
  const size_t n = std::strlen(flag);
  if (std::strncmp(arg, flag, n) != 0) return false;
  if (value == nullptr) return arg[n] == '\0';
  if (arg[n] != '=') return false;
  *value = arg + n + 1;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bool check_only = false;
  std::string check_conv = "alexnet.conv3", check_fc = "alexnet.fc8";
  std::string layers_path = NNJIT_BENCH_LAYERS;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (take_flag(argv[i], "--check", nullptr)) {
      check_only = true;
    } else if (take_flag(argv[i], "--check-conv", &check_conv) || take_flag(argv[i], "--check-fc", &check_fc) ||
               take_flag(argv[i], "--layers", &layers_path)) {
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  argv[argc] = nullptr;

  const nnp_status status = nnp_initialize();
  if (status != nnp_status_success) {
    std::fprintf(stderr, "bench_layers: nnp_initialize returned %d\n", int(status));
    return 1;
  }
  nnjit_bench::LayerSet layers;
  std::string error;
  if (!nnjit_bench::load_layers(layers_path.c_str(), layers, error)) {
    std::fprintf(stderr, "bench_layers: %s\n", error.c_str());
    return 1;
  }

  const char* env_check = std::getenv("NNJIT_BENCH_CHECK");
  if (check_only || (env_check != nullptr && std::strcmp(env_check, "1") == 0)) {
    const bool ok = nnjit_bench::run_layer_checks(layers, check_conv, check_fc);
    if (check_only) {
      nnp_deinitialize();
      return ok ? 0 : 1;
    }
  }

  for (const auto& [key, value] : nnjit_bench::library_context()) benchmark::AddCustomContext(key, value);
  benchmark::AddCustomContext("layers", layers_path);
  nnjit_bench::register_layer_benchmarks(layers);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  nnjit_bench::wait_for_idle_comparison_threads();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  nnp_deinitialize();
  return 0;
}
