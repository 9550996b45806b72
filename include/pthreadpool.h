/*
 * pthreadpool.h — the thread-pool interface that nnpack.h callers share.
 *
 * nnjit ships its own pool behind this interface (runtime/threadpool.cc), so a
 * program that creates a pool for NNPACK, or that calls the pool directly as
 * darknet does, needs nothing else. The declarations match the long-standing
 * pthreadpool C API, so the library can also be built against the system's
 * libpthreadpool instead (CMake option NNJIT_USE_SYSTEM_PTHREADPOOL).
 *
 * Semantics shared by every parallelize call:
 *  - A NULL pool, or a pool of one thread, runs the whole range on the calling
 *    thread, in order.
 *  - The calling thread takes part in the work and the call returns only when
 *    every index has been processed exactly once.
 *  - Tiled variants pass the first index of each tile and the tile's actual
 *    extent, which is smaller than the requested tile at the end of a range.
 *  - Several threads may submit work to one pool at the same time; the calls
 *    are served one after another.
 */
#ifndef PTHREADPOOL_H_
#define PTHREADPOOL_H_

#include <stddef.h>
#include <stdint.h>

typedef struct pthreadpool* pthreadpool_t;

/* Task signatures: the context pointer first, then indices (and tile extents). */
typedef void (*pthreadpool_task_1d_t)(void*, size_t);
typedef void (*pthreadpool_task_1d_tile_1d_t)(void*, size_t, size_t);
typedef void (*pthreadpool_task_2d_t)(void*, size_t, size_t);
typedef void (*pthreadpool_task_2d_tile_1d_t)(void*, size_t, size_t, size_t);
typedef void (*pthreadpool_task_2d_tile_2d_t)(void*, size_t, size_t, size_t, size_t);
typedef void (*pthreadpool_task_3d_t)(void*, size_t, size_t, size_t);
typedef void (*pthreadpool_task_3d_tile_1d_t)(void*, size_t, size_t, size_t, size_t);
typedef void (*pthreadpool_task_3d_tile_2d_t)(void*, size_t, size_t, size_t, size_t, size_t);
typedef void (*pthreadpool_task_4d_t)(void*, size_t, size_t, size_t, size_t);
typedef void (*pthreadpool_task_4d_tile_1d_t)(void*, size_t, size_t, size_t, size_t, size_t);
typedef void (*pthreadpool_task_4d_tile_2d_t)(void*, size_t, size_t, size_t, size_t, size_t, size_t);

/* Flush denormals to zero on every participating thread for the duration of the call. */
#define PTHREADPOOL_FLAG_DISABLE_DENORMALS 0x00000001
/* Let workers go to sleep right after the call instead of spinning for the next one. */
#define PTHREADPOOL_FLAG_YIELD_WORKERS 0x00000002

#ifdef __cplusplus
extern "C" {
#endif

/* threads_count 0 means one thread per logical processor. Returns NULL on failure. */
pthreadpool_t pthreadpool_create(size_t threads_count);
/* Threads that run work, the caller's included; 1 for a NULL pool. */
size_t pthreadpool_get_threads_count(pthreadpool_t threadpool);
/* Waits for the workers to exit and frees the pool. NULL is ignored. */
void pthreadpool_destroy(pthreadpool_t threadpool);

/* function(context, i) for i in [0, range). */
void pthreadpool_parallelize_1d(pthreadpool_t threadpool, pthreadpool_task_1d_t function,
	void* context, size_t range, uint32_t flags);
/* function(context, start, extent) over tiles of `tile` indices. */
void pthreadpool_parallelize_1d_tile_1d(pthreadpool_t threadpool, pthreadpool_task_1d_tile_1d_t function,
	void* context, size_t range, size_t tile, uint32_t flags);
/* function(context, i, j) for every pair. */
void pthreadpool_parallelize_2d(pthreadpool_t threadpool, pthreadpool_task_2d_t function,
	void* context, size_t range_i, size_t range_j, uint32_t flags);
/* function(context, i, start_j, extent_j). */
void pthreadpool_parallelize_2d_tile_1d(pthreadpool_t threadpool, pthreadpool_task_2d_tile_1d_t function,
	void* context, size_t range_i, size_t range_j, size_t tile_j, uint32_t flags);
/* function(context, start_i, start_j, extent_i, extent_j). */
void pthreadpool_parallelize_2d_tile_2d(pthreadpool_t threadpool, pthreadpool_task_2d_tile_2d_t function,
	void* context, size_t range_i, size_t range_j, size_t tile_i, size_t tile_j, uint32_t flags);
/* function(context, i, j, k). */
void pthreadpool_parallelize_3d(pthreadpool_t threadpool, pthreadpool_task_3d_t function,
	void* context, size_t range_i, size_t range_j, size_t range_k, uint32_t flags);
/* function(context, i, j, start_k, extent_k). */
void pthreadpool_parallelize_3d_tile_1d(pthreadpool_t threadpool, pthreadpool_task_3d_tile_1d_t function,
	void* context, size_t range_i, size_t range_j, size_t range_k, size_t tile_k, uint32_t flags);
/* function(context, i, start_j, start_k, extent_j, extent_k). */
void pthreadpool_parallelize_3d_tile_2d(pthreadpool_t threadpool, pthreadpool_task_3d_tile_2d_t function,
	void* context, size_t range_i, size_t range_j, size_t range_k, size_t tile_j, size_t tile_k,
	uint32_t flags);
/* function(context, i, j, k, l). */
void pthreadpool_parallelize_4d(pthreadpool_t threadpool, pthreadpool_task_4d_t function,
	void* context, size_t range_i, size_t range_j, size_t range_k, size_t range_l, uint32_t flags);
/* function(context, i, j, k, start_l, extent_l). */
void pthreadpool_parallelize_4d_tile_1d(pthreadpool_t threadpool, pthreadpool_task_4d_tile_1d_t function,
	void* context, size_t range_i, size_t range_j, size_t range_k, size_t range_l, size_t tile_l,
	uint32_t flags);
/* function(context, i, j, start_k, start_l, extent_k, extent_l). */
void pthreadpool_parallelize_4d_tile_2d(pthreadpool_t threadpool, pthreadpool_task_4d_tile_2d_t function,
	void* context, size_t range_i, size_t range_j, size_t range_k, size_t range_l,
	size_t tile_k, size_t tile_l, uint32_t flags);

#ifndef PTHREADPOOL_NO_DEPRECATED_API

/*
 * The older interface (no flags), kept because existing programs such as
 * darknet-nnpack still call it. Tiled variants pass, per axis, the tile start
 * and then, after all starts, the tile extents.
 */
#if defined(__GNUC__)
#define PTHREADPOOL_DEPRECATED __attribute__((__deprecated__))
#else
#define PTHREADPOOL_DEPRECATED
#endif

typedef void (*pthreadpool_function_1d_t)(void*, size_t);
typedef void (*pthreadpool_function_1d_tiled_t)(void*, size_t, size_t);
typedef void (*pthreadpool_function_2d_t)(void*, size_t, size_t);
typedef void (*pthreadpool_function_2d_tiled_t)(void*, size_t, size_t, size_t, size_t);
typedef void (*pthreadpool_function_3d_tiled_t)(void*, size_t, size_t, size_t, size_t, size_t, size_t);
typedef void (*pthreadpool_function_4d_tiled_t)(void*, size_t, size_t, size_t, size_t, size_t, size_t, size_t, size_t);

void pthreadpool_compute_1d(pthreadpool_t threadpool, pthreadpool_function_1d_t function,
	void* argument, size_t range) PTHREADPOOL_DEPRECATED;
void pthreadpool_compute_1d_tiled(pthreadpool_t threadpool, pthreadpool_function_1d_tiled_t function,
	void* argument, size_t range, size_t tile) PTHREADPOOL_DEPRECATED;
void pthreadpool_compute_2d(pthreadpool_t threadpool, pthreadpool_function_2d_t function,
	void* argument, size_t range_i, size_t range_j) PTHREADPOOL_DEPRECATED;
void pthreadpool_compute_2d_tiled(pthreadpool_t threadpool, pthreadpool_function_2d_tiled_t function,
	void* argument, size_t range_i, size_t range_j, size_t tile_i, size_t tile_j) PTHREADPOOL_DEPRECATED;
void pthreadpool_compute_3d_tiled(pthreadpool_t threadpool, pthreadpool_function_3d_tiled_t function,
	void* argument, size_t range_i, size_t range_j, size_t range_k,
	size_t tile_i, size_t tile_j, size_t tile_k) PTHREADPOOL_DEPRECATED;
void pthreadpool_compute_4d_tiled(pthreadpool_t threadpool, pthreadpool_function_4d_tiled_t function,
	void* argument, size_t range_i, size_t range_j, size_t range_k, size_t range_l,
	size_t tile_i, size_t tile_j, size_t tile_k, size_t tile_l) PTHREADPOOL_DEPRECATED;

#endif /* PTHREADPOOL_NO_DEPRECATED_API */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* PTHREADPOOL_H_ */
