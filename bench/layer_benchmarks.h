// bench_layers' benchmark registration and its correctness check.
#pragma once

#include <string>

#include "common.h"

namespace nnjit_bench {

// Registers BM_fc_*, BM_conv_* and BM_pool_* for every layer of the set.
void register_layer_benchmarks(const LayerSet& layers);

// Computes one conv layer and one fc layer with nnjit and with each comparison
// library and prints the largest relative difference of every pair. Returns true
// if every comparison that could run stayed under the bound.
bool run_layer_checks(const LayerSet& layers, const std::string& conv_layer, const std::string& fc_layer);

}  // namespace nnjit_bench
