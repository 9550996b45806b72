// Uniform random test data in [-1, 1), drawn from the caller's engine (so that one seed
// replays a whole test), for the tests of kernel families (the API tests use api_testing.h).
#pragma once

#include <cstddef>
#include <random>
#include <vector>

namespace nnjit::testing {

inline std::vector<float> random_vector(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

}  // namespace nnjit::testing
