// nnjit's own implementation of <pthreadpool.h>.
//
// Design:
//  - A pool of N threads owns N-1 persistent workers; the thread that calls parallelize is the N-th
//    participant. A pool of one thread owns no workers at all, so creating and destroying it costs
//    one allocation.
//  - Every parallelize call becomes one generic Job: a linear index space [0, total) and a
//    type-erased invoke(desc, begin, end). The per-shape entry points only describe a grid of up to
//    four axes (range and tile per axis) plus a lambda that forwards tile starts and extents to the
//    caller's function; GridJob walks a range of linear tile indices like an odometer.
//  - Work is handed out dynamically: every participant takes chunks of consecutive indices from a
//    shared atomic counter; the chunk size gives each thread several chunks.
//  - The submitter publishes the job (plain fields, then an atomic "door" opened with release and a
//    bump of `generation_`), takes part, and once every chunk has been handed out closes the door and
//    waits for the workers that entered to leave. Workers wait for the next generation, and the
//    submitter waits for the door to empty, by spinning briefly and then sleeping on the atomic (a
//    futex on Linux). Sleepers announce themselves so that the other side only makes a wake-up
//    system call when someone actually sleeps. A worker that wakes after the door closed skips the
//    job, so a short job never waits for a sleeping worker to wake up.
//  - Submissions to one pool are serialised by a mutex.
#include <pthreadpool.h>

#include "runtime/export.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

namespace nnjit {
namespace {

// ---- floating-point environment ---------------------------------------------------------------

// Sets flush-to-zero / denormals-are-zero on the current thread for its lifetime when asked to.
class DenormalGuard {
 public:
  explicit DenormalGuard(uint32_t flags) : enabled_((flags & PTHREADPOOL_FLAG_DISABLE_DENORMALS) != 0) {
    if (enabled_) saved_ = disable();
  }
  ~DenormalGuard() {
    if (enabled_) restore(saved_);
  }
  DenormalGuard(const DenormalGuard&) = delete;
  DenormalGuard& operator=(const DenormalGuard&) = delete;

 private:
#if defined(__x86_64__) || defined(_M_X64)
  using State = unsigned int;
  static constexpr State kFlushToZero = 0x8000;       // MXCSR.FTZ
  static constexpr State kDenormalsAreZero = 0x0040;  // MXCSR.DAZ
  static State disable() {
    const State csr = _mm_getcsr();
    _mm_setcsr(csr | kFlushToZero | kDenormalsAreZero);
    return csr;
  }
  // Only the two mode bits go back; exception flags raised meanwhile stay raised.
  static void restore(State csr) {
    constexpr State mask = kFlushToZero | kDenormalsAreZero;
    _mm_setcsr((_mm_getcsr() & ~mask) | (csr & mask));
  }
#elif defined(__aarch64__)
  using State = uint64_t;
  static constexpr State kFlushToZero = State{1} << 24;  // FPCR.FZ
  static State disable() {
    State fpcr;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
    __asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr | kFlushToZero));
    return fpcr;
  }
  static void restore(State fpcr) {
    State now;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(now));
    __asm__ __volatile__("msr fpcr, %0" : : "r"((now & ~kFlushToZero) | (fpcr & kFlushToZero)));
  }
#else
  using State = int;
  static State disable() { return 0; }
  static void restore(State) {}
#endif

  bool enabled_;
  State saved_{};
};

// ---- waiting ----------------------------------------------------------------------------------

inline void cpu_relax() {
#if defined(__x86_64__) || defined(_M_X64)
  _mm_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

// Polls done() for up to `budget`; returns true as soon as it holds.
template <class Done>
bool spin_until(Done done, std::chrono::nanoseconds budget) {
  if (done()) return true;
  if (budget.count() <= 0) return false;
  const auto deadline = std::chrono::steady_clock::now() + budget;
  for (unsigned i = 1;; ++i) {
    cpu_relax();
    if (done()) return true;
    if (i % 64 == 0 && std::chrono::steady_clock::now() >= deadline) return false;
  }
}

// Logical processors (queried once: the query reads /sys on Linux).
unsigned processors() {
  static const unsigned count = std::max(1u, std::thread::hardware_concurrency());
  return count;
}

// How long workers poll for the next job, and the submitter for the workers, before sleeping.
constexpr std::chrono::nanoseconds kSpinBudget = std::chrono::microseconds(100);

// ---- jobs ---------------------------------------------------------------------------------------

// One parallelize call: run invoke(desc, begin, end) over [0, total) in chunks.
struct Job {
  void (*invoke)(const void* desc, size_t begin, size_t end) = nullptr;
  const void* desc = nullptr;
  size_t total = 0;
  size_t chunk = 1;
  uint32_t flags = 0;
};

// Lifecycle of a job, as seen through two atomics:
//  - generation_ counts published jobs; workers sleep on it (and it only wakes them up).
//  - door_ admits workers into the current job: kClosed, or the number of workers inside.
// The submitter writes job_ while the door is closed and nobody is inside, opens the door (release),
// bumps the generation, runs chunks itself until none are left, closes the door and waits until the
// workers inside have left. A worker enters with a CAS that succeeds only while the door is open
// (acquire: it then sees job_), and leaves with a decrement. A worker that wakes up late finds the
// door closed and goes back to waiting without touching the job, so the submitter never waits for
// workers that did not take part.
class Pool {
 public:
  explicit Pool(size_t threads)
      : threads_(threads), spin_budget_(threads <= processors() ? kSpinBudget : std::chrono::nanoseconds(0)) {}
  ~Pool() {
    std::lock_guard<std::mutex> lock(submit_);
    shut_down();
  }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  size_t threads() const { return threads_; }

  // Starts threads_ - 1 workers; false (with no worker left running) if the system refuses.
  bool start_workers() {
    workers_.reserve(threads_ - 1);  // may throw; nothing is running yet
    try {
      while (workers_.size() < threads_ - 1) workers_.emplace_back([this] { worker_main(); });
    } catch (...) {
      shut_down();
      return false;
    }
    return true;
  }

  // Runs `job` on the pool's threads; returns when every index ran and no worker is inside the job.
  void run(Job job) {
    job.chunk = std::max<size_t>(1, job.total / (threads_ * 8));
    std::lock_guard<std::mutex> lock(submit_);
    job_ = job;
    next_.store(0, std::memory_order_relaxed);
    door_.store(0, std::memory_order_release);  // open, nobody inside
    generation_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) != 0) generation_.notify_all();
    participate(job);
    // Every chunk has been handed out: close the door and wait for the workers still inside.
    if (door_.fetch_or(kClosed, std::memory_order_acq_rel) != 0) wait_until_empty();
  }

 private:
  static constexpr uint32_t kClosed = uint32_t{1} << 31;

  void participate(const Job& job) {
    DenormalGuard denormals(job.flags);
    for (;;) {
      const size_t begin = next_.fetch_add(job.chunk, std::memory_order_relaxed);
      if (begin >= job.total) break;
      job.invoke(job.desc, begin, std::min(job.total, begin + job.chunk));
    }
  }

  void wait_until_empty() {
    auto empty = [this] { return door_.load(std::memory_order_acquire) == kClosed; };
    if (spin_until(empty, spin_budget_)) return;
    submitter_sleeps_.store(1, std::memory_order_seq_cst);
    for (uint32_t door; (door = door_.load(std::memory_order_seq_cst)) != kClosed;)
      door_.wait(door, std::memory_order_acquire);
    submitter_sleeps_.store(0, std::memory_order_relaxed);
  }

  // Enters the current job if its door is still open.
  bool enter() {
    uint32_t door = door_.load(std::memory_order_relaxed);
    while ((door & kClosed) == 0) {
      if (door_.compare_exchange_weak(door, door + 1, std::memory_order_acquire, std::memory_order_relaxed))
        return true;
    }
    return false;
  }

  // Leaves the job; the worker must not touch job_ or next_ afterwards.
  void leave() {
    if (door_.fetch_sub(1, std::memory_order_seq_cst) == (kClosed | 1) &&
        submitter_sleeps_.load(std::memory_order_seq_cst) != 0)
      door_.notify_all();
  }

  uint32_t wait_for_job(uint32_t seen, bool spin) {
    uint32_t generation = seen;
    auto changed = [&] { return (generation = generation_.load(std::memory_order_acquire)) != seen; };
    if (spin && spin_until(changed, spin_budget_)) return generation;
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    while ((generation = generation_.load(std::memory_order_seq_cst)) == seen)
      generation_.wait(seen, std::memory_order_acquire);
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
    return generation;
  }

  void worker_main() {
    uint32_t seen = 0;
    bool spin = true;
    for (;;) {
      seen = wait_for_job(seen, spin);
      if (stopping_.load(std::memory_order_acquire)) return;
      if (!enter()) continue;  // too late: that job is over
      const Job job = job_;
      spin = (job.flags & PTHREADPOOL_FLAG_YIELD_WORKERS) == 0;
      participate(job);
      leave();
    }
  }

  // Tells the started workers to exit and joins them. Called with submit_ held and no job running.
  void shut_down() {
    if (workers_.empty()) return;
    stopping_.store(true, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_seq_cst);  // release: publishes stopping_
    generation_.notify_all();
    for (std::thread& worker : workers_) worker.join();
    workers_.clear();
  }

  const size_t threads_;
  const std::chrono::nanoseconds spin_budget_;  // 0 when the pool has more threads than processors
  std::mutex submit_;
  std::vector<std::thread> workers_;
  Job job_;  // written by the submitter while the door is closed and nobody is inside

  alignas(64) std::atomic<uint32_t> generation_{0};  // bumped once per job (and once to stop)
  std::atomic<uint32_t> sleepers_{0};                // workers asleep on generation_
  std::atomic<bool> stopping_{false};
  alignas(64) std::atomic<size_t> next_{0};          // first index not yet handed out
  alignas(64) std::atomic<uint32_t> door_{kClosed};  // kClosed bit | workers inside the job
  std::atomic<uint32_t> submitter_sleeps_{0};        // the submitter sleeps on door_
};

Pool* unwrap(pthreadpool_t threadpool) { return reinterpret_cast<Pool*>(threadpool); }
pthreadpool_t wrap(Pool* pool) { return reinterpret_cast<pthreadpool_t>(pool); }

// ---- grids ---------------------------------------------------------------------------------------

using Axes = std::array<size_t, 4>;

// Up to four axes (unused leading axes have range 1); axis d is cut into tiles of tile[d] indices
// and the linear index enumerates tiles in row-major order. body(start, extent) gets, per axis, the
// first index of the tile and its actual extent.
template <class Body>
struct GridJob {
  Axes range;
  Axes tile;
  Axes tiles;  // tiles per axis
  Body body;

  static void invoke(const void* desc, size_t begin, size_t end) {
    const GridJob& job = *static_cast<const GridJob*>(desc);
    Axes start, extent;
    size_t rest = begin;
    for (int d = 3; d >= 0; --d) {
      start[d] = rest % job.tiles[d] * job.tile[d];
      rest /= job.tiles[d];
      extent[d] = std::min(job.tile[d], job.range[d] - start[d]);
    }
    for (size_t n = begin; n < end; ++n) {
      job.body(start, extent);
      for (int d = 3; d >= 0; --d) {  // step to the next tile
        start[d] += job.tile[d];
        if (start[d] < job.range[d]) {
          extent[d] = std::min(job.tile[d], job.range[d] - start[d]);
          break;
        }
        start[d] = 0;
        extent[d] = std::min(job.tile[d], job.range[d]);
      }
    }
  }
};

template <class Body>
void parallelize(pthreadpool_t threadpool, uint32_t flags, const Axes& range, Axes tile, Body body) {
  GridJob<Body> job{range, {}, {}, body};
  size_t total = 1;
  for (int d = 0; d < 4; ++d) {
    if (range[d] == 0) return;
    job.tile[d] = std::max<size_t>(tile[d], 1);  // a tile of 0 would never advance: treat it as 1
    job.tiles[d] = (range[d] - 1) / job.tile[d] + 1;
    total *= job.tiles[d];
  }
  Pool* pool = unwrap(threadpool);
  if (pool == nullptr || pool->threads() <= 1 || total == 1) {
    DenormalGuard denormals(flags);
    GridJob<Body>::invoke(&job, 0, total);
    return;
  }
  Job generic;
  generic.invoke = &GridJob<Body>::invoke;
  generic.desc = &job;
  generic.total = total;
  generic.flags = flags;
  pool->run(generic);
}

}  // namespace
}  // namespace nnjit

using nnjit::Axes;

// ---- pool lifetime -----------------------------------------------------------------------------------

NNJIT_EXPORT pthreadpool_t pthreadpool_create(size_t threads_count) {
  try {
    if (threads_count == 0) threads_count = nnjit::processors();
    if (threads_count > std::numeric_limits<uint32_t>::max()) return nullptr;
    auto pool = std::make_unique<nnjit::Pool>(threads_count);
    if (!pool->start_workers()) return nullptr;
    return nnjit::wrap(pool.release());
  } catch (...) {
    return nullptr;
  }
}

NNJIT_EXPORT size_t pthreadpool_get_threads_count(pthreadpool_t threadpool) {
  return threadpool == nullptr ? 1 : nnjit::unwrap(threadpool)->threads();
}

NNJIT_EXPORT void pthreadpool_destroy(pthreadpool_t threadpool) { delete nnjit::unwrap(threadpool); }

// ---- parallelize ---------------------------------------------------------------------------------------

NNJIT_EXPORT void pthreadpool_parallelize_1d(pthreadpool_t threadpool, pthreadpool_task_1d_t function, void* context,
                                             size_t range, uint32_t flags) {
  nnjit::parallelize(threadpool, flags, Axes{1, 1, 1, range}, Axes{1, 1, 1, 1},
                     [=](const Axes& s, const Axes&) { function(context, s[3]); });
}

NNJIT_EXPORT void pthreadpool_parallelize_1d_tile_1d(pthreadpool_t threadpool, pthreadpool_task_1d_tile_1d_t function,
                                                     void* context, size_t range, size_t tile, uint32_t flags) {
  nnjit::parallelize(threadpool, flags, Axes{1, 1, 1, range}, Axes{1, 1, 1, tile},
                     [=](const Axes& s, const Axes& n) { function(context, s[3], n[3]); });
}

NNJIT_EXPORT void pthreadpool_parallelize_2d(pthreadpool_t threadpool, pthreadpool_task_2d_t function, void* context,
                                             size_t range_i, size_t range_j, uint32_t flags) {
  nnjit::parallelize(threadpool, flags, Axes{1, 1, range_i, range_j}, Axes{1, 1, 1, 1},
                     [=](const Axes& s, const Axes&) { function(context, s[2], s[3]); });
}

NNJIT_EXPORT void pthreadpool_parallelize_2d_tile_1d(pthreadpool_t threadpool, pthreadpool_task_2d_tile_1d_t function,
                                                     void* context, size_t range_i, size_t range_j, size_t tile_j,
                                                     uint32_t flags) {
  nnjit::parallelize(threadpool, flags, Axes{1, 1, range_i, range_j}, Axes{1, 1, 1, tile_j},
                     [=](const Axes& s, const Axes& n) { function(context, s[2], s[3], n[3]); });
}

NNJIT_EXPORT void pthreadpool_parallelize_2d_tile_2d(pthreadpool_t threadpool, pthreadpool_task_2d_tile_2d_t function,
                                                     void* context, size_t range_i, size_t range_j, size_t tile_i,
                                                     size_t tile_j, uint32_t flags) {
  nnjit::parallelize(threadpool, flags, Axes{1, 1, range_i, range_j}, Axes{1, 1, tile_i, tile_j},
                     [=](const Axes& s, const Axes& n) { function(context, s[2], s[3], n[2], n[3]); });
}

NNJIT_EXPORT void pthreadpool_parallelize_3d(pthreadpool_t threadpool, pthreadpool_task_3d_t function, void* context,
                                             size_t range_i, size_t range_j, size_t range_k, uint32_t flags) {
  nnjit::parallelize(threadpool, flags, Axes{1, range_i, range_j, range_k}, Axes{1, 1, 1, 1},
                     [=](const Axes& s, const Axes&) { function(context, s[1], s[2], s[3]); });
}

NNJIT_EXPORT void pthreadpool_parallelize_3d_tile_1d(pthreadpool_t threadpool, pthreadpool_task_3d_tile_1d_t function,
                                                     void* context, size_t range_i, size_t range_j, size_t range_k,
                                                     size_t tile_k, uint32_t flags) {
  nnjit::parallelize(threadpool, flags, Axes{1, range_i, range_j, range_k}, Axes{1, 1, 1, tile_k},
                     [=](const Axes& s, const Axes& n) { function(context, s[1], s[2], s[3], n[3]); });
}

NNJIT_EXPORT void pthreadpool_parallelize_3d_tile_2d(pthreadpool_t threadpool, pthreadpool_task_3d_tile_2d_t function,
                                                     void* context, size_t range_i, size_t range_j, size_t range_k,
                                                     size_t tile_j, size_t tile_k, uint32_t flags) {
  nnjit::parallelize(threadpool, flags, Axes{1, range_i, range_j, range_k}, Axes{1, 1, tile_j, tile_k},
                     [=](const Axes& s, const Axes& n) { function(context, s[1], s[2], s[3], n[2], n[3]); });
}

NNJIT_EXPORT void pthreadpool_parallelize_4d(pthreadpool_t threadpool, pthreadpool_task_4d_t function, void* context,
                                             size_t range_i, size_t range_j, size_t range_k, size_t range_l,
                                             uint32_t flags) {
  nnjit::parallelize(threadpool, flags, Axes{range_i, range_j, range_k, range_l}, Axes{1, 1, 1, 1},
                     [=](const Axes& s, const Axes&) { function(context, s[0], s[1], s[2], s[3]); });
}

NNJIT_EXPORT void pthreadpool_parallelize_4d_tile_1d(pthreadpool_t threadpool, pthreadpool_task_4d_tile_1d_t function,
                                                     void* context, size_t range_i, size_t range_j, size_t range_k,
                                                     size_t range_l, size_t tile_l, uint32_t flags) {
  nnjit::parallelize(threadpool, flags, Axes{range_i, range_j, range_k, range_l}, Axes{1, 1, 1, tile_l},
                     [=](const Axes& s, const Axes& n) { function(context, s[0], s[1], s[2], s[3], n[3]); });
}

NNJIT_EXPORT void pthreadpool_parallelize_4d_tile_2d(pthreadpool_t threadpool, pthreadpool_task_4d_tile_2d_t function,
                                                     void* context, size_t range_i, size_t range_j, size_t range_k,
                                                     size_t range_l, size_t tile_k, size_t tile_l, uint32_t flags) {
  nnjit::parallelize(threadpool, flags, Axes{range_i, range_j, range_k, range_l}, Axes{1, 1, tile_k, tile_l},
                     [=](const Axes& s, const Axes& n) { function(context, s[0], s[1], s[2], s[3], n[2], n[3]); });
}

// ---- legacy interface ------------------------------------------------------------------------------------

NNJIT_EXPORT void pthreadpool_compute_1d(pthreadpool_t threadpool, pthreadpool_function_1d_t function, void* argument,
                                         size_t range) {
  pthreadpool_parallelize_1d(threadpool, function, argument, range, 0);
}

NNJIT_EXPORT void pthreadpool_compute_1d_tiled(pthreadpool_t threadpool, pthreadpool_function_1d_tiled_t function,
                                               void* argument, size_t range, size_t tile) {
  pthreadpool_parallelize_1d_tile_1d(threadpool, function, argument, range, tile, 0);
}

NNJIT_EXPORT void pthreadpool_compute_2d(pthreadpool_t threadpool, pthreadpool_function_2d_t function, void* argument,
                                         size_t range_i, size_t range_j) {
  pthreadpool_parallelize_2d(threadpool, function, argument, range_i, range_j, 0);
}

NNJIT_EXPORT void pthreadpool_compute_2d_tiled(pthreadpool_t threadpool, pthreadpool_function_2d_tiled_t function,
                                               void* argument, size_t range_i, size_t range_j, size_t tile_i,
                                               size_t tile_j) {
  pthreadpool_parallelize_2d_tile_2d(threadpool, function, argument, range_i, range_j, tile_i, tile_j, 0);
}

NNJIT_EXPORT void pthreadpool_compute_3d_tiled(pthreadpool_t threadpool, pthreadpool_function_3d_tiled_t function,
                                               void* argument, size_t range_i, size_t range_j, size_t range_k,
                                               size_t tile_i, size_t tile_j, size_t tile_k) {
  nnjit::parallelize(threadpool, 0, Axes{1, range_i, range_j, range_k}, Axes{1, tile_i, tile_j, tile_k},
                     [=](const Axes& s, const Axes& n) { function(argument, s[1], s[2], s[3], n[1], n[2], n[3]); });
}

NNJIT_EXPORT void pthreadpool_compute_4d_tiled(pthreadpool_t threadpool, pthreadpool_function_4d_tiled_t function,
                                               void* argument, size_t range_i, size_t range_j, size_t range_k,
                                               size_t range_l, size_t tile_i, size_t tile_j, size_t tile_k,
                                               size_t tile_l) {
  nnjit::parallelize(
      threadpool, 0, Axes{range_i, range_j, range_k, range_l}, Axes{tile_i, tile_j, tile_k, tile_l},
      [=](const Axes& s, const Axes& n) { function(argument, s[0], s[1], s[2], s[3], n[0], n[1], n[2], n[3]); });
}
