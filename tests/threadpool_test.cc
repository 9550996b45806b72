// Tests of nnjit's pthreadpool implementation (runtime/threadpool.cc) through <pthreadpool.h>.
#include <pthreadpool.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

// The legacy pthreadpool_compute_* functions are deprecated; testing them is the point.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace {

using Axes = std::array<size_t, 4>;

struct PoolDeleter {
  void operator()(pthreadpool* pool) const { pthreadpool_destroy(pool); }
};
using Pool = std::unique_ptr<pthreadpool, PoolDeleter>;

Pool make_pool(size_t threads) {
  Pool pool(pthreadpool_create(threads));
  EXPECT_NE(pool, nullptr) << "pthreadpool_create(" << threads << ")";
  return pool;
}

// ---- coverage checker -------------------------------------------------------------------------------------

// Records the tiles a parallelize call hands out over a grid of up to four axes (unused leading axes have
// range 1, untiled axes tile 1) and checks that they cover every cell exactly once.
class Checker {
 public:
  Checker(const Axes& range, const Axes& tile, bool expect_inline)
      : range_(range), tile_(tile), expect_inline_(expect_inline), caller_(std::this_thread::get_id()) {
    size_t cells = 1;
    for (size_t r : range_) cells *= r;
    cells_ = std::vector<std::atomic<uint32_t>>(cells);
    for (auto& cell : cells_) cell.store(0, std::memory_order_relaxed);
  }

  const Axes& range() const { return range_; }
  const Axes& tile() const { return tile_; }

  // One task call: per axis, the first index of the tile and its extent.
  void visit(const Axes& start, const Axes& extent) {
    calls_.fetch_add(1, std::memory_order_relaxed);
    for (int d = 0; d < 4; ++d) {
      if (start[d] >= range_[d] || start[d] % tile_[d] != 0 ||
          extent[d] != std::min(tile_[d], range_[d] - start[d])) {
        bad_tiles_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
    }
    if (expect_inline_) {
      // A NULL or one-thread pool runs everything on the calling thread, in order.
      if (std::this_thread::get_id() != caller_) {
        bad_order_.fetch_add(1, std::memory_order_relaxed);
      } else {
        const size_t index = cell_index(start);
        if (have_last_ && index <= last_) bad_order_.fetch_add(1, std::memory_order_relaxed);
        have_last_ = true;
        last_ = index;
      }
    }
    for (size_t i = start[0]; i < start[0] + extent[0]; ++i)
      for (size_t j = start[1]; j < start[1] + extent[1]; ++j)
        for (size_t k = start[2]; k < start[2] + extent[2]; ++k)
          for (size_t l = start[3]; l < start[3] + extent[3]; ++l)
            cells_[cell_index({i, j, k, l})].fetch_add(1, std::memory_order_relaxed);
  }

  // Empty string when the run was correct, else what went wrong.
  std::string verdict() const {
    std::ostringstream out;
    size_t expected_calls = 1;
    for (int d = 0; d < 4; ++d) expected_calls *= (range_[d] + tile_[d] - 1) / tile_[d];
    if (calls_.load() != expected_calls) out << "calls " << calls_.load() << " != " << expected_calls << "; ";
    if (bad_tiles_.load() != 0) out << bad_tiles_.load() << " inconsistent tile arguments; ";
    if (bad_order_.load() != 0) out << bad_order_.load() << " calls off the caller thread or out of order; ";
    size_t wrong = 0, first = 0;
    for (size_t c = 0; c < cells_.size(); ++c) {
      if (cells_[c].load() != 1 && wrong++ == 0) first = c;
    }
    if (wrong != 0) out << wrong << " cells not visited exactly once (first: " << first << " visited "
                        << cells_[first].load() << " times); ";
    return out.str();
  }

 private:
  size_t cell_index(const Axes& at) const {
    return ((at[0] * range_[1] + at[1]) * range_[2] + at[2]) * range_[3] + at[3];
  }

  Axes range_, tile_;
  bool expect_inline_;
  std::thread::id caller_;
  std::vector<std::atomic<uint32_t>> cells_;
  std::atomic<size_t> calls_{0}, bad_tiles_{0}, bad_order_{0};
  bool have_last_ = false;  // caller thread only
  size_t last_ = 0;
};

Checker* as_checker(void* context) { return static_cast<Checker*>(context); }

// ---- every shape of the API ------------------------------------------------------------------------------

// A shape occupies the last `dims` of the four axes; `tiled` marks the axes that take a tile argument.
struct Shape {
  const char* name;
  int dims;
  std::array<bool, 4> tiled;
  bool has_flags;
  void (*run)(pthreadpool_t, Checker&, uint32_t flags);
};

void PrintTo(const Shape& shape, std::ostream* out) { *out << shape.name; }

const Shape kShapes[] = {
    {"parallelize_1d", 1, {}, true,
     [](pthreadpool_t p, Checker& c, uint32_t f) {
       pthreadpool_parallelize_1d(
           p, [](void* x, size_t i) { as_checker(x)->visit({0, 0, 0, i}, {1, 1, 1, 1}); }, &c, c.range()[3], f);
     }},
    {"parallelize_1d_tile_1d", 1, {false, false, false, true}, true,
     [](pthreadpool_t p, Checker& c, uint32_t f) {
       pthreadpool_parallelize_1d_tile_1d(
           p, [](void* x, size_t i, size_t ni) { as_checker(x)->visit({0, 0, 0, i}, {1, 1, 1, ni}); }, &c,
           c.range()[3], c.tile()[3], f);
     }},
    {"parallelize_2d", 2, {}, true,
     [](pthreadpool_t p, Checker& c, uint32_t f) {
       pthreadpool_parallelize_2d(
           p, [](void* x, size_t i, size_t j) { as_checker(x)->visit({0, 0, i, j}, {1, 1, 1, 1}); }, &c,
           c.range()[2], c.range()[3], f);
     }},
    {"parallelize_2d_tile_1d", 2, {false, false, false, true}, true,
     [](pthreadpool_t p, Checker& c, uint32_t f) {
       pthreadpool_parallelize_2d_tile_1d(
           p, [](void* x, size_t i, size_t j, size_t nj) { as_checker(x)->visit({0, 0, i, j}, {1, 1, 1, nj}); },
           &c, c.range()[2], c.range()[3], c.tile()[3], f);
     }},
    {"parallelize_2d_tile_2d", 2, {false, false, true, true}, true,
     [](pthreadpool_t p, Checker& c, uint32_t f) {
       pthreadpool_parallelize_2d_tile_2d(
           p,
           [](void* x, size_t i, size_t j, size_t ni, size_t nj) {
             as_checker(x)->visit({0, 0, i, j}, {1, 1, ni, nj});
           },
           &c, c.range()[2], c.range()[3], c.tile()[2], c.tile()[3], f);
     }},
    {"parallelize_3d", 3, {}, true,
     [](pthreadpool_t p, Checker& c, uint32_t f) {
       pthreadpool_parallelize_3d(
           p, [](void* x, size_t i, size_t j, size_t k) { as_checker(x)->visit({0, i, j, k}, {1, 1, 1, 1}); },
           &c, c.range()[1], c.range()[2], c.range()[3], f);
     }},
    {"parallelize_3d_tile_1d", 3, {false, false, false, true}, true,
     [](pthreadpool_t p, Checker& c, uint32_t f) {
       pthreadpool_parallelize_3d_tile_1d(
           p,
           [](void* x, size_t i, size_t j, size_t k, size_t nk) {
             as_checker(x)->visit({0, i, j, k}, {1, 1, 1, nk});
           },
           &c, c.range()[1], c.range()[2], c.range()[3], c.tile()[3], f);
     }},
    {"parallelize_3d_tile_2d", 3, {false, false, true, true}, true,
     [](pthreadpool_t p, Checker& c, uint32_t f) {
       pthreadpool_parallelize_3d_tile_2d(
           p,
           [](void* x, size_t i, size_t j, size_t k, size_t nj, size_t nk) {
             as_checker(x)->visit({0, i, j, k}, {1, 1, nj, nk});
           },
           &c, c.range()[1], c.range()[2], c.range()[3], c.tile()[2], c.tile()[3], f);
     }},
    {"parallelize_4d", 4, {}, true,
     [](pthreadpool_t p, Checker& c, uint32_t f) {
       pthreadpool_parallelize_4d(
           p,
           [](void* x, size_t i, size_t j, size_t k, size_t l) {
             as_checker(x)->visit({i, j, k, l}, {1, 1, 1, 1});
           },
           &c, c.range()[0], c.range()[1], c.range()[2], c.range()[3], f);
     }},
    {"parallelize_4d_tile_1d", 4, {false, false, false, true}, true,
     [](pthreadpool_t p, Checker& c, uint32_t f) {
       pthreadpool_parallelize_4d_tile_1d(
           p,
           [](void* x, size_t i, size_t j, size_t k, size_t l, size_t nl) {
             as_checker(x)->visit({i, j, k, l}, {1, 1, 1, nl});
           },
           &c, c.range()[0], c.range()[1], c.range()[2], c.range()[3], c.tile()[3], f);
     }},
    {"parallelize_4d_tile_2d", 4, {false, false, true, true}, true,
     [](pthreadpool_t p, Checker& c, uint32_t f) {
       pthreadpool_parallelize_4d_tile_2d(
           p,
           [](void* x, size_t i, size_t j, size_t k, size_t l, size_t nk, size_t nl) {
             as_checker(x)->visit({i, j, k, l}, {1, 1, nk, nl});
           },
           &c, c.range()[0], c.range()[1], c.range()[2], c.range()[3], c.tile()[2], c.tile()[3], f);
     }},
    {"compute_1d", 1, {}, false,
     [](pthreadpool_t p, Checker& c, uint32_t) {
       pthreadpool_compute_1d(
           p, [](void* x, size_t i) { as_checker(x)->visit({0, 0, 0, i}, {1, 1, 1, 1}); }, &c, c.range()[3]);
     }},
    {"compute_1d_tiled", 1, {false, false, false, true}, false,
     [](pthreadpool_t p, Checker& c, uint32_t) {
       pthreadpool_compute_1d_tiled(
           p, [](void* x, size_t i, size_t ni) { as_checker(x)->visit({0, 0, 0, i}, {1, 1, 1, ni}); }, &c,
           c.range()[3], c.tile()[3]);
     }},
    {"compute_2d", 2, {}, false,
     [](pthreadpool_t p, Checker& c, uint32_t) {
       pthreadpool_compute_2d(
           p, [](void* x, size_t i, size_t j) { as_checker(x)->visit({0, 0, i, j}, {1, 1, 1, 1}); }, &c,
           c.range()[2], c.range()[3]);
     }},
    {"compute_2d_tiled", 2, {false, false, true, true}, false,
     [](pthreadpool_t p, Checker& c, uint32_t) {
       pthreadpool_compute_2d_tiled(
           p,
           [](void* x, size_t i, size_t j, size_t ni, size_t nj) {
             as_checker(x)->visit({0, 0, i, j}, {1, 1, ni, nj});
           },
           &c, c.range()[2], c.range()[3], c.tile()[2], c.tile()[3]);
     }},
    {"compute_3d_tiled", 3, {false, true, true, true}, false,
     [](pthreadpool_t p, Checker& c, uint32_t) {
       pthreadpool_compute_3d_tiled(
           p,
           [](void* x, size_t i, size_t j, size_t k, size_t ni, size_t nj, size_t nk) {
             as_checker(x)->visit({0, i, j, k}, {1, ni, nj, nk});
           },
           &c, c.range()[1], c.range()[2], c.range()[3], c.tile()[1], c.tile()[2], c.tile()[3]);
     }},
    {"compute_4d_tiled", 4, {true, true, true, true}, false,
     [](pthreadpool_t p, Checker& c, uint32_t) {
       pthreadpool_compute_4d_tiled(
           p,
           [](void* x, size_t i, size_t j, size_t k, size_t l, size_t ni, size_t nj, size_t nk, size_t nl) {
             as_checker(x)->visit({i, j, k, l}, {ni, nj, nk, nl});
           },
           &c, c.range()[0], c.range()[1], c.range()[2], c.range()[3], c.tile()[0], c.tile()[1], c.tile()[2],
           c.tile()[3]);
     }},
};

// Ranges and tiles to try; a shape of n axes uses the last n entries of each.
const Axes kRanges[] = {
    {1, 1, 1, 1}, {0, 3, 3, 3}, {3, 0, 3, 3},  {3, 3, 0, 3},   {3, 3, 3, 0},
    {2, 3, 5, 7}, {7, 5, 3, 2}, {1, 1, 1, 101}, {5, 1, 13, 17}, {3, 2, 11, 16},
};
const Axes kTiles[] = {
    {1, 1, 1, 1}, {2, 3, 4, 5}, {4, 4, 8, 8}, {3, 5, 16, 32}, {1000, 7, 2, 3},
};

std::string describe(const Shape& shape, size_t threads, const Axes& range, const Axes& tile, uint32_t flags) {
  std::ostringstream out;
  out << shape.name << " with " << (threads == 0 ? std::string("NULL pool") : std::to_string(threads) + " threads")
      << ", flags " << flags << ", ranges";
  for (int d = 4 - shape.dims; d < 4; ++d) out << ' ' << range[d];
  out << ", tiles";
  for (int d = 4 - shape.dims; d < 4; ++d) out << ' ' << tile[d];
  return out.str();
}

class ShapeTest : public ::testing::TestWithParam<Shape> {
 protected:
  // Pools of 1..8 threads, shared by all shapes.
  static void SetUpTestSuite() {
    for (size_t threads = 1; threads <= 8; ++threads) pools_.push_back(make_pool(threads));
  }
  static void TearDownTestSuite() { pools_.clear(); }
  static std::vector<Pool> pools_;
};
std::vector<Pool> ShapeTest::pools_;

TEST_P(ShapeTest, EveryIndexExactlyOnceWithConsistentTiles) {
  const Shape& shape = GetParam();
  const bool any_tiled = std::find(shape.tiled.begin(), shape.tiled.end(), true) != shape.tiled.end();
  int case_number = 0;
  for (size_t threads = 0; threads <= pools_.size(); ++threads) {
    pthreadpool_t pool = threads == 0 ? nullptr : pools_[threads - 1].get();
    ASSERT_TRUE(threads == 0 || pool != nullptr);
    for (const Axes& base_range : kRanges) {
      for (const Axes& base_tile : kTiles) {
        if (!any_tiled && &base_tile != &kTiles[0]) break;
        Axes range, tile;
        for (int d = 0; d < 4; ++d) {
          const bool used = d >= 4 - shape.dims;
          range[d] = used ? base_range[d] : 1;
          tile[d] = used && shape.tiled[d] ? base_tile[d] : 1;
        }
        // Cycle through the four flag combinations (no flag, denormals, yield, both).
        const uint32_t flags = shape.has_flags ? static_cast<uint32_t>(case_number++ % 4) : 0;
        Checker checker(range, tile, /*expect_inline=*/threads <= 1);
        shape.run(pool, checker, flags);
        const std::string verdict = checker.verdict();
        ASSERT_EQ(verdict, "") << describe(shape, threads, range, tile, flags);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllShapes, ShapeTest, ::testing::ValuesIn(kShapes),
                         [](const ::testing::TestParamInfo<Shape>& info) { return std::string(info.param.name); });

// Large ranges, so that every pool hands out many chunks.
TEST(ThreadPool, LargeRangesExactlyOnce) {
  for (size_t threads : {2, 3, 4, 8}) {
    Pool pool = make_pool(threads);
    ASSERT_NE(pool, nullptr);
    {
      Checker checker({1, 1, 1, 200003}, {1, 1, 1, 1}, false);
      kShapes[0].run(pool.get(), checker, 0);
      EXPECT_EQ(checker.verdict(), "") << "parallelize_1d, " << threads << " threads";
    }
    {
      Checker checker({1, 1, 499, 503}, {1, 1, 7, 9}, false);
      kShapes[4].run(pool.get(), checker, 0);
      EXPECT_EQ(checker.verdict(), "") << "parallelize_2d_tile_2d, " << threads << " threads";
    }
  }
}

// ---- pool lifetime -----------------------------------------------------------------------------------------

TEST(ThreadPool, ThreadsCount) {
  EXPECT_EQ(pthreadpool_get_threads_count(nullptr), 1u);
  for (size_t threads : {1, 2, 3, 5, 8}) {
    Pool pool = make_pool(threads);
    ASSERT_NE(pool, nullptr);
    EXPECT_EQ(pthreadpool_get_threads_count(pool.get()), threads);
  }
  Pool pool = make_pool(0);
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pthreadpool_get_threads_count(pool.get()), std::max(1u, std::thread::hardware_concurrency()));
}

TEST(ThreadPool, DestroyNullIsNoOp) { pthreadpool_destroy(nullptr); }

#if defined(__linux__)
// Threads of this process, from /proc/self/status; 0 if unavailable.
size_t process_threads() {
  FILE* status = std::fopen("/proc/self/status", "r");
  if (status == nullptr) return 0;
  char line[256];
  size_t threads = 0;
  while (std::fgets(line, sizeof line, status) != nullptr) {
    if (std::sscanf(line, "Threads: %zu", &threads) == 1) break;
  }
  std::fclose(status);
  return threads;
}

TEST(ThreadPool, OneThreadPoolStartsNoThreadAndDestroyJoinsWorkers) {
  const size_t before = process_threads();
  if (before == 0) GTEST_SKIP() << "/proc/self/status not readable";
  {
    Pool one = make_pool(1);
    EXPECT_EQ(process_threads(), before);
    Pool four = make_pool(4);
    EXPECT_EQ(process_threads(), before + 3);
  }
  EXPECT_EQ(process_threads(), before);
}
#endif

void count_task(void* context, size_t) { static_cast<std::atomic<size_t>*>(context)->fetch_add(1); }

TEST(ThreadPool, CreateDestroyLoop) {
  for (int n = 0; n < 500; ++n) {
    pthreadpool_t pool = pthreadpool_create(1);
    ASSERT_NE(pool, nullptr);
    pthreadpool_destroy(pool);
  }
  for (int n = 0; n < 200; ++n) {
    const size_t threads = n % 4 + 1;
    pthreadpool_t pool = pthreadpool_create(threads);
    ASSERT_NE(pool, nullptr);
    if (n % 2 == 0) {
      std::atomic<size_t> count{0};
      pthreadpool_parallelize_1d(pool, count_task, &count, 37 + n, 0);
      ASSERT_EQ(count.load(), 37u + n) << threads << " threads";
    }
    pthreadpool_destroy(pool);  // odd n: the workers may not even have started yet
  }
}

// ---- concurrency -------------------------------------------------------------------------------------------

// Holds every caller of meet() until `expected` of them have arrived (or 20 s passed): a pool of N threads
// must run N such tasks at the same time, and then every thread of the pool has run one of them.
struct Rendezvous {
  explicit Rendezvous(size_t expected_count) : expected(expected_count) {}
  void meet() {
    arrived.fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (arrived.load() < expected) {
      if (std::chrono::steady_clock::now() > deadline) {
        timeouts.fetch_add(1);
        return;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  const size_t expected;
  std::atomic<size_t> arrived{0};
  std::atomic<size_t> timeouts{0};
};

TEST(ThreadPool, AllThreadsTakePart) {
  for (size_t threads : {2, 3, 4}) {
    Pool pool = make_pool(threads);
    ASSERT_NE(pool, nullptr);
    Rendezvous meeting(threads);
    pthreadpool_parallelize_1d(
        pool.get(), [](void* context, size_t) { static_cast<Rendezvous*>(context)->meet(); }, &meeting, threads, 0);
    EXPECT_EQ(meeting.arrived.load(), threads);
    EXPECT_EQ(meeting.timeouts.load(), 0u) << threads << " threads never ran together";
  }
}

// The call returns only after every task finished, including slow ones on the workers.
struct Completion {
  std::thread::id caller = std::this_thread::get_id();
  std::atomic<size_t> finished{0};
};

TEST(ThreadPool, ReturnsAfterEveryTaskFinished) {
  for (size_t threads : {2, 4}) {
    Pool pool = make_pool(threads);
    ASSERT_NE(pool, nullptr);
    for (int n = 0; n < 5; ++n) {
      Completion completion;
      const size_t range = 8 * threads;
      pthreadpool_parallelize_1d(
          pool.get(),
          [](void* context, size_t) {
            auto& c = *static_cast<Completion*>(context);
            const bool on_caller = std::this_thread::get_id() == c.caller;
            std::this_thread::sleep_for(std::chrono::microseconds(on_caller ? 50 : 2000));
            c.finished.fetch_add(1);
          },
          &completion, range, 0);
      ASSERT_EQ(completion.finished.load(), range) << threads << " threads";
    }
  }
}

// Several threads submit to one pool at once; jobs must not overlap and each must be complete.
struct Submission {
  static constexpr size_t kRange = 64;
  std::array<std::atomic<size_t>, 4>* done;  // tasks finished, per submitter
  size_t submitter;
  std::atomic<size_t>* overlaps;
};

TEST(ThreadPool, ConcurrentSubmitters) {
  Pool pool = make_pool(3);
  ASSERT_NE(pool, nullptr);
  std::array<std::atomic<size_t>, 4> done{};
  std::atomic<size_t> overlaps{0};
  constexpr int kJobs = 150;
  std::vector<std::thread> submitters;
  std::array<size_t, 4> incomplete{};
  for (size_t s = 0; s < 4; ++s) {
    submitters.emplace_back([&, s] {
      Submission job{&done, s, &overlaps};
      for (int n = 0; n < kJobs; ++n) {
        const size_t before = done[s].load();
        pthreadpool_parallelize_1d(
            pool.get(),
            [](void* context, size_t) {
              auto& me = *static_cast<Submission*>(context);
              // Jobs are served one after another: nobody else's job is half done.
              for (size_t other = 0; other < me.done->size(); ++other) {
                if (other != me.submitter && (*me.done)[other].load() % Submission::kRange != 0)
                  me.overlaps->fetch_add(1);
              }
              (*me.done)[me.submitter].fetch_add(1);
            },
            &job, Submission::kRange, n % 3 == 0 ? PTHREADPOOL_FLAG_YIELD_WORKERS : 0);
        if (done[s].load() != before + Submission::kRange) ++incomplete[s];
      }
    });
  }
  for (auto& t : submitters) t.join();
  for (size_t s = 0; s < 4; ++s) {
    EXPECT_EQ(incomplete[s], 0u) << "submitter " << s;
    EXPECT_EQ(done[s].load(), kJobs * Submission::kRange) << "submitter " << s;
  }
  EXPECT_EQ(overlaps.load(), 0u);
}

// ---- flags -------------------------------------------------------------------------------------------------

TEST(ThreadPool, YieldWorkers) {
  for (size_t threads : {2, 4}) {
    Pool pool = make_pool(threads);
    ASSERT_NE(pool, nullptr);
    for (int n = 0; n < 20; ++n) {
      std::atomic<size_t> count{0};
      pthreadpool_parallelize_1d(pool.get(), count_task, &count, 1000 + n, PTHREADPOOL_FLAG_YIELD_WORKERS);
      ASSERT_EQ(count.load(), 1000u + n);
      // Every few jobs, let the workers fall asleep for sure; the next job must wake them.
      if (n % 5 == 4) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
}

#if defined(__x86_64__) || defined(_M_X64)
constexpr unsigned kFtzDaz = 0x8040;
constexpr unsigned kExceptionFlags = 0x003f;  // sticky status bits, raised by the denormal arithmetic

// MXCSR without the exception status flags: the modes a call must leave as it found them.
unsigned mxcsr_modes() { return _mm_getcsr() & ~kExceptionFlags; }

// Every thread of the pool runs one task (they meet first), so the workers are checked too.
struct DenormalProbe {
  explicit DenormalProbe(size_t threads) : meeting(threads) {}
  Rendezvous meeting;
  std::atomic<size_t> flushed{0};  // tasks where a denormal result became 0
  std::atomic<size_t> kept{0};     // tasks where it stayed denormal
  std::atomic<size_t> csr_set{0};  // tasks that saw FTZ and DAZ set in MXCSR
};

void denormal_task(void* context, size_t) {
  auto& probe = *static_cast<DenormalProbe*>(context);
  probe.meeting.meet();
  volatile float tiny = 1e-38f;
  volatile float product = tiny * 1e-3f;  // 1e-41: denormal, or 0 with flush-to-zero
  (product == 0.0f ? probe.flushed : probe.kept).fetch_add(1);
  if ((_mm_getcsr() & kFtzDaz) == kFtzDaz) probe.csr_set.fetch_add(1);
}

TEST(ThreadPool, DisableDenormals) {
  const unsigned original = mxcsr_modes();
  ASSERT_EQ(original & kFtzDaz, 0u) << "the test process already flushes denormals";
  std::vector<Pool> pools;
  pools.emplace_back(nullptr);
  for (size_t threads : {1, 2, 4}) pools.push_back(make_pool(threads));
  for (const Pool& pool : pools) {
    const size_t threads = pthreadpool_get_threads_count(pool.get());
    DenormalProbe with(threads);
    pthreadpool_parallelize_1d(pool.get(), denormal_task, &with, threads, PTHREADPOOL_FLAG_DISABLE_DENORMALS);
    EXPECT_EQ(with.meeting.timeouts.load(), 0u) << threads << " threads";
    EXPECT_EQ(with.flushed.load(), threads) << threads << " threads";
    EXPECT_EQ(with.csr_set.load(), threads) << threads << " threads";
    EXPECT_EQ(mxcsr_modes(), original) << "MXCSR not restored, " << threads << " threads";
    // Afterwards (also on the workers) denormals are back.
    DenormalProbe without(threads);
    pthreadpool_parallelize_1d(pool.get(), denormal_task, &without, threads, 0);
    EXPECT_EQ(without.kept.load(), threads) << threads << " threads";
    EXPECT_EQ(without.csr_set.load(), 0u) << threads << " threads";
  }
  // A caller that already had other MXCSR bits set gets exactly its own state back (also for range 0).
  _mm_setcsr(original | 0x8000);  // FTZ only
  DenormalProbe probe(2);
  pthreadpool_parallelize_1d(pools[2].get(), denormal_task, &probe, 0, PTHREADPOOL_FLAG_DISABLE_DENORMALS);
  pthreadpool_parallelize_1d(pools[2].get(), denormal_task, &probe, 2, PTHREADPOOL_FLAG_DISABLE_DENORMALS);
  const unsigned after = mxcsr_modes();
  _mm_setcsr(original);
  EXPECT_EQ(after, original | 0x8000);
  EXPECT_EQ(probe.flushed.load(), 2u);
}
#else
TEST(ThreadPool, DisableDenormals) { GTEST_SKIP() << "MXCSR checks are x86-64 only"; }
#endif

// ---- nesting -----------------------------------------------------------------------------------------------

struct Nested {
  pthreadpool_t inner_pool;
  std::array<std::atomic<size_t>, 16> sums{};
};

TEST(ThreadPool, NestedParallelize) {
  Pool outer = make_pool(2);
  Pool other = make_pool(2);
  ASSERT_NE(outer, nullptr);
  ASSERT_NE(other, nullptr);
  for (pthreadpool_t inner : {static_cast<pthreadpool_t>(nullptr), other.get()}) {
    Nested nested;
    nested.inner_pool = inner;
    pthreadpool_parallelize_1d(
        outer.get(),
        [](void* context, size_t i) {
          auto& n = *static_cast<Nested*>(context);
          struct Inner {
            std::atomic<size_t>* sum;
          } inner_context{&n.sums[i]};
          pthreadpool_parallelize_2d(
              n.inner_pool,
              [](void* c, size_t a, size_t b) { static_cast<Inner*>(c)->sum->fetch_add(a * 10 + b); },
              &inner_context, 5, 7, 0);
        },
        &nested, nested.sums.size(), 0);
    // sum over a < 5, b < 7 of 10a + b = 7 * 10 * 10 + 5 * 21 = 805
    for (size_t i = 0; i < nested.sums.size(); ++i)
      EXPECT_EQ(nested.sums[i].load(), 805u) << "task " << i << (inner ? ", other pool" : ", NULL pool");
  }
}

}  // namespace
