// nnjit-bench --layer-set: every layer of a layer set (bench/layers.tsv, compiled in) once,
// through the public API: algorithm, time and effective GFLOPS per layer.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nnpack.h>

namespace nnjit_tools {

struct LayerSetOptions {
  size_t threads = 0;  // 0: one per logical processor
  std::vector<size_t> batches = {1};
  nnp_convolution_algorithm algorithm = nnp_convolution_algorithm_auto;
  std::string layers_file;  // empty: the built-in set
  std::string only;         // run only layers whose name contains this
};

// Runs the set; returns the process exit code (0, or 1 if a layer failed). `error` receives
// a message (and the caller exits with 2) when the layer file cannot be read or parsed.
int run_layer_set(const LayerSetOptions& options, std::string* error);

}  // namespace nnjit_tools
