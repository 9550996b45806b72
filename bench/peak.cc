// bench_peak: the FMA throughput of this machine, so that other figures can be
// quoted as fractions of peak.
//
// Each inner step issues one vfmadd231ps on each of kChains independent
// accumulators: enough chains to cover FMA latency x FMA ports on current x86
// cores (4 cycles x 2 ports = 8), with margin. Products are tiny and positive, so
// the accumulators grow slowly and stay normal numbers; the sum of all chains is
// returned and kept alive, so the compiler cannot drop the loop. Without
// -ffast-math, a*b+c may not be reassociated, so every FMA is executed.
//
// "/threads:2" runs the loop on two threads at once: the whole machine's peak.
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace {

constexpr int kChains = 12;
constexpr size_t kSteps = size_t{1} << 16;  // FMA steps per benchmark iteration

__attribute__((target("avx2,fma"), noinline)) float fma_loop_avx2(size_t steps, float x, float y) {
  const __m256 a = _mm256_set1_ps(x);
  const __m256 b = _mm256_set1_ps(y);
  __m256 c0 = _mm256_set1_ps(0.0f), c1 = _mm256_set1_ps(1.0f), c2 = _mm256_set1_ps(2.0f),
         c3 = _mm256_set1_ps(3.0f), c4 = _mm256_set1_ps(4.0f), c5 = _mm256_set1_ps(5.0f),
         c6 = _mm256_set1_ps(6.0f), c7 = _mm256_set1_ps(7.0f), c8 = _mm256_set1_ps(8.0f),
         c9 = _mm256_set1_ps(9.0f), c10 = _mm256_set1_ps(10.0f), c11 = _mm256_set1_ps(11.0f);
  for (size_t i = 0; i < steps; ++i) {
    c0 = _mm256_fmadd_ps(a, b, c0);
    c1 = _mm256_fmadd_ps(a, b, c1);
    c2 = _mm256_fmadd_ps(a, b, c2);
    c3 = _mm256_fmadd_ps(a, b, c3);
    c4 = _mm256_fmadd_ps(a, b, c4);
    c5 = _mm256_fmadd_ps(a, b, c5);
    c6 = _mm256_fmadd_ps(a, b, c6);
    c7 = _mm256_fmadd_ps(a, b, c7);
    c8 = _mm256_fmadd_ps(a, b, c8);
    c9 = _mm256_fmadd_ps(a, b, c9);
    c10 = _mm256_fmadd_ps(a, b, c10);
    c11 = _mm256_fmadd_ps(a, b, c11);
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                           _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
  s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  float total = 0.0f;
  for (float v : lanes) total += v;
  return total;
}

__attribute__((target("avx512f"), noinline)) float fma_loop_avx512(size_t steps, float x, float y) {
  const __m512 a = _mm512_set1_ps(x);
  const __m512 b = _mm512_set1_ps(y);
  __m512 c0 = _mm512_set1_ps(0.0f), c1 = _mm512_set1_ps(1.0f), c2 = _mm512_set1_ps(2.0f),
         c3 = _mm512_set1_ps(3.0f), c4 = _mm512_set1_ps(4.0f), c5 = _mm512_set1_ps(5.0f),
         c6 = _mm512_set1_ps(6.0f), c7 = _mm512_set1_ps(7.0f), c8 = _mm512_set1_ps(8.0f),
         c9 = _mm512_set1_ps(9.0f), c10 = _mm512_set1_ps(10.0f), c11 = _mm512_set1_ps(11.0f);
  for (size_t i = 0; i < steps; ++i) {
    c0 = _mm512_fmadd_ps(a, b, c0);
    c1 = _mm512_fmadd_ps(a, b, c1);
    c2 = _mm512_fmadd_ps(a, b, c2);
    c3 = _mm512_fmadd_ps(a, b, c3);
    c4 = _mm512_fmadd_ps(a, b, c4);
    c5 = _mm512_fmadd_ps(a, b, c5);
    c6 = _mm512_fmadd_ps(a, b, c6);
    c7 = _mm512_fmadd_ps(a, b, c7);
    c8 = _mm512_fmadd_ps(a, b, c8);
    c9 = _mm512_fmadd_ps(a, b, c9);
    c10 = _mm512_fmadd_ps(a, b, c10);
    c11 = _mm512_fmadd_ps(a, b, c11);
  }
  __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                           _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
  s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)));
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  float total = 0.0f;
  for (float v : lanes) total += v;
  return total;
}

// Whole-run rate across threads: the counter is summed over threads, so average it back.
void set_peak_counters(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOPS"] = benchmark::Counter(
      flops_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kAvgThreads);
  if (state.threads() > 1)
    state.counters["GFLOPS_per_thread"] = benchmark::Counter(
        flops_per_iteration * 1e-9 / state.threads(),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kAvgThreads);
}

void BM_peak_fma_avx2(benchmark::State& state) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    state.SkipWithError("this CPU has no AVX2+FMA");
    return;
  }
  // Volatile operands: the compiler cannot fold the products at compile time.
  volatile float x = 0.5f, y = 1.0f / 1024.0f / 1024.0f;
  for (auto _ : state) {
    const float r = fma_loop_avx2(kSteps, x, y);
    benchmark::DoNotOptimize(r);
  }
  set_peak_counters(state, 2.0 * 8 * kChains * double(kSteps));
}

void BM_peak_fma_avx512(benchmark::State& state) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f")) {
    state.SkipWithError("this CPU has no AVX-512F");
    return;
  }
  volatile float x = 0.5f, y = 1.0f / 1024.0f / 1024.0f;
  for (auto _ : state) {
    const float r = fma_loop_avx512(kSteps, x, y);
    benchmark::DoNotOptimize(r);
  }
  set_peak_counters(state, 2.0 * 16 * kChains * double(kSteps));
}

}  // namespace

BENCHMARK(BM_peak_fma_avx2)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_peak_fma_avx512)->Threads(1)->Threads(2)->UseRealTime();

BENCHMARK_MAIN();
