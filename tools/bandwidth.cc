// The bandwidth mode of nnjit-bench (see bandwidth.h).
//
// Arrays well above the last-level cache. The references are streaming loops (AVX2 on x86-64)
// with the access pattern of the operations they stand for: copy (read n, write n elsewhere;
// the better of cached and non-temporal stores), in-place update (read and write n in place),
// triad (two reads, one write), and read-only (the bound for pooling, which writes a quarter
// of what it reads). Every operation is timed in rounds interleaved with the references, best
// of the rounds, so that a noisy neighbour affects both alike. Bytes are the operation's reads
// plus writes (no write-allocate), the STREAM convention.
#include "bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nnjit.h>
#include <nnpack.h>
#include <pthreadpool.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace nnjit_tools {
namespace {

// ---- reference loops over [0, n) -------------------------------------------------------

#if defined(__x86_64__)
template <bool kStream>
__attribute__((target("avx2"))) void copy_loop(const float* x, float* y, size_t n) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (size_t j = 0; j < 32; j += 8) {
      const __m256 v = _mm256_loadu_ps(x + i + j);
      if constexpr (kStream) _mm256_stream_ps(y + i + j, v);
      else _mm256_storeu_ps(y + i + j, v);
    }
  }
  for (; i < n; ++i) y[i] = x[i];
  if constexpr (kStream) _mm_sfence();
}
__attribute__((target("avx2"))) void update_loop(float* y, size_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (size_t j = 0; j < 32; j += 8) _mm256_storeu_ps(y + i + j, _mm256_add_ps(_mm256_loadu_ps(y + i + j), one));
  for (; i < n; ++i) y[i] += 1.0f;
}
__attribute__((target("avx2"))) void triad_loop(const float* x, const float* z, float* y, size_t n) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (size_t j = 0; j < 32; j += 8)
      _mm256_storeu_ps(y + i + j, _mm256_add_ps(_mm256_loadu_ps(x + i + j), _mm256_loadu_ps(z + i + j)));
  for (; i < n; ++i) y[i] = x[i] + z[i];
}
__attribute__((target("avx2"))) float read_loop(const float* x, size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_max_ps(s0, _mm256_loadu_ps(x + i));
    s1 = _mm256_max_ps(s1, _mm256_loadu_ps(x + i + 8));
    s2 = _mm256_max_ps(s2, _mm256_loadu_ps(x + i + 16));
    s3 = _mm256_max_ps(s3, _mm256_loadu_ps(x + i + 24));
  }
  float out[8];
  _mm256_storeu_ps(out, _mm256_max_ps(_mm256_max_ps(s0, s1), _mm256_max_ps(s2, s3)));
  float m = *std::max_element(out, out + 8);
  for (; i < n; ++i) m = std::max(m, x[i]);
  return m;
}
#else
template <bool kStream>
void copy_loop(const float* x, float* y, size_t n) {
  std::memcpy(y, x, n * sizeof(float));
}
void update_loop(float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += 1.0f;
}
void triad_loop(const float* x, const float* z, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = x[i] + z[i];
}
float read_loop(const float* x, size_t n) {
  float m = x[0];
  for (size_t i = 0; i < n; ++i) m = std::max(m, x[i]);
  return m;
}
#endif

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};

template <class Body>
void parallel(pthreadpool_t pool, size_t range, const Body& body) {
  pthreadpool_parallelize_1d(
      pool, [](void* context, size_t i) { (*static_cast<const Body*>(context))(i); },
      const_cast<void*>(static_cast<const void*>(&body)), range, 0);
}

struct Operation {
  std::string name;
  double bytes;
  int reference;  // index of the reference with the same access pattern; -1: is a reference; -2: best copy
  std::function<void()> run;
  double best = 1e30;
};

}  // namespace

int run_bandwidth(size_t threads, size_t megabytes) {
  if (nnp_initialize() != nnp_status_success) {
    std::fprintf(stderr, "nnjit-bench: nnp_initialize failed\n");
    return 1;
  }
  pthreadpool_t pool = pthreadpool_create(threads);
  const size_t tasks = 4 * pthreadpool_get_threads_count(pool);
  const size_t side = 1024;
  const size_t n = std::max<size_t>(megabytes * 1024 * 1024 / sizeof(float) / (side * side), 1) * side * side;
  std::unique_ptr<float, FreeDeleter> a(static_cast<float*>(std::aligned_alloc(64, n * sizeof(float))));
  std::unique_ptr<float, FreeDeleter> b(static_cast<float*>(std::aligned_alloc(64, n * sizeof(float))));
  if (!a || !b) {
    std::fprintf(stderr, "nnjit-bench: out of memory\n");
    return 1;
  }
  float* x = a.get();
  float* y = b.get();
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>((i * 2654435761u) % 2001) * 0.005f - 5.0f, y[i] = 0.0f;

  const double size = static_cast<double>(n) * sizeof(float);
  std::vector<Operation> ops;
  // body(first, count) over `tasks` equal parts of [0, total).
  auto split = [&](size_t total, auto body) {
    const size_t part = (total + tasks - 1) / tasks;
    parallel(pool, tasks, [&](size_t t) {
      const size_t first = std::min(total, t * part);
      body(first, std::min(total, first + part) - first);
    });
  };
  volatile float sink = 0.0f;
  ops.push_back({"copy, cached stores", 2 * size, -1, [&] {
                   split(n, [&](size_t first, size_t count) { copy_loop<false>(x + first, y + first, count); });
                 }});
  ops.push_back({"copy, non-temporal stores", 2 * size, -1, [&] {
                   split(n, [&](size_t first, size_t count) { copy_loop<true>(x + first, y + first, count); });
                 }});
  ops.push_back({"in-place update", 2 * size, -1,
                 [&] { split(n, [&](size_t first, size_t count) { update_loop(y + first, count); }); }});
  ops.push_back({"triad (2 reads, 1 write)", 1.5 * size, -1, [&] {
                   split(n / 2, [&](size_t first, size_t count) {
                     triad_loop(x + first, x + n / 2 + first, y + first, count);
                   });
                 }});
  ops.push_back({"read only", size, -1,
                 [&] { split(n, [&](size_t first, size_t count) { sink = sink + read_loop(x + first, count); }); }});
  constexpr int kCopy = -2;  // the better of the two copies
  ops.push_back({"nnp_relu_output", 2 * size, kCopy, [&] { nnp_relu_output(1, n, x, y, 0.0f, pool); }});
  ops.push_back({"nnp_relu_output in place", 2 * size, 2, [&] { nnp_relu_output(1, n, y, y, 0.0f, pool); }});
  ops.push_back({"nnp_relu_input_gradient", 1.5 * size, 3,
                 [&] { nnp_relu_input_gradient(1, n / 2, x, x + n / 2, y, 0.01f, pool); }});
  ops.push_back({"nnp_softmax_output 1000", 2 * size, kCopy,
                 [&] { nnp_softmax_output(n / 1000, 1000, x, y, pool); }});
  ops.push_back({"nnp_softmax_output 1000 in place", 2 * size, 2,
                 [&] { nnp_softmax_output(n / 1000, 1000, y, y, pool); }});
  ops.push_back({"nnp_max_pooling_output 2x2/2", 1.25 * size, 4, [&] {
                   nnp_max_pooling_output(1, n / (side * side), nnp_size{side, side}, nnp_padding{0, 0, 0, 0},
                                          nnp_size{2, 2}, nnp_size{2, 2}, x, y, pool);
                 }});
  constexpr int kRounds = 7;
  for (int round = 0; round < kRounds; ++round) {
    for (Operation& op : ops) {
      const auto start = std::chrono::steady_clock::now();
      op.run();
      op.best = std::min(op.best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  }
  std::printf("nnjit-bench: memory-bound operations, isa %s, %zu threads, %zu MiB per array, best of %d\n",
              nnp_ext_isa_name(), pthreadpool_get_threads_count(pool), n * sizeof(float) >> 20, kRounds);
  std::printf("%-34s %10s %10s  %s\n", "operation", "GB/s", "ms", "fraction of the reference");
  for (const Operation& op : ops) {
    const double rate = op.bytes / op.best * 1e-9;
    std::printf("%-34s %10.1f %10.2f", op.name.c_str(), rate, op.best * 1e3);
    if (op.reference != -1) {
      const Operation& ref = op.reference >= 0   ? ops[static_cast<size_t>(op.reference)]
                             : ops[0].best < ops[1].best ? ops[0]
                                                         : ops[1];
      std::printf("  %5.0f%% of %s", 100.0 * rate / (ref.bytes / ref.best * 1e-9), ref.name.c_str());
    }
    std::printf("\n");
  }
  pthreadpool_destroy(pool);
  nnp_deinitialize();
  return 0;
}

}  // namespace nnjit_tools
