// nnjit-bench --bandwidth: the memory-bound operations (ReLU, its gradient, softmax, 2x2/2
// max pooling) on large tensors, against the machine's measured memory bandwidth.
#pragma once

#include <cstddef>

namespace nnjit_tools {

// Prints the table; returns the process exit code. `megabytes` is the size of each array.
int run_bandwidth(size_t threads, size_t megabytes);

}  // namespace nnjit_tools
