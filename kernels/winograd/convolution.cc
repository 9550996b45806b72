#include "kernels/winograd/convolution.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <vector>

#include "jit/kernel_key.h"
#include "kernels/gemm/microkernel.h"
#include "kernels/parallel.h"
#include "kernels/slot_pool.h"
#include "kernels/stage_timer.h"
#include "kernels/strides.h"
#include "kernels/winograd/transforms.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace nnjit::winograd {
namespace {

constexpr size_t kAlignment = 64;
constexpr size_t kTaps = 9;

constexpr size_t divide_round_up(size_t a, size_t b) { return (a + b - 1) / b; }
constexpr size_t round_up(size_t a, size_t b) { return divide_round_up(a, b) * b; }

// Position strides: odd numbers of lines (the 64 positions of a tile are written or read
// together).
constexpr size_t position_stride(size_t floats) { return odd_line_stride(floats); }

// The GEMM operands' panel shape: MR rows = tiles (the input transform's tile group, the
// height of V's panels), NR columns = output channels (the width of U's panels; 16 pads the
// usual channel counts least). The register tiles that run it are RowChunks below; where
// the JIT cannot serve one, gemm_microkernel gives its reference twin.
constexpr gemm::TileShape kPanelShape{kTileGroup, 16};
constexpr size_t kMr = kPanelShape.mr, kNr = kPanelShape.nr;

// The multiply runs the tiles of a block in chunks of rows read from up to three consecutive
// panels of MR tiles of V (jit::kPanelsA). With AVX-512, chunks of 12 rows (12 zmm
// accumulators, one per row, per pass over each B panel) starting at a panel; a last
// remainder of 1-2 rows joins the chunk before it (at most 14 rows): 9 tiles (a 13x13 or
// 14x14 image) run as one 9x16 tile, 25 as 12 + 13, 4 as 4. With AVX2, chunks of 6 rows; the
// last 7 to 9 rows split in two chunks of at least 3 (9 = 5 + 4, the second starting at lane
// 5 of its panel: jit::panels_a_lane), as a chunk of 1 to 3 rows alone keeps too few
// accumulators to hide the FMA latency (1x16 runs at 27 % of the peak, 3x16 at 75 %, 4x16 and
// wider at the peak). No row is padded, and the chunks change no bits.
constexpr size_t kMostChunkRows = 14;

struct RowChunks {
  size_t chunk_rows, most_rows;
  explicit RowChunks(Isa isa)
      : chunk_rows(isa == Isa::avx512 ? 2 * kMr : kMr), most_rows(isa == Isa::avx512 ? kMostChunkRows : kMr) {}
  // Rows of the next chunk when `left` rows remain.
  size_t next(size_t left) const {
    if (left <= chunk_rows) return left;
    const size_t tail = left - chunk_rows;
    if (tail <= 2 && left <= most_rows) return left;  // a short tail joins the chunk (AVX-512)
    if (tail <= 3 && most_rows == chunk_rows) return (left + 1) / 2;  // it cannot: two halves (AVX2)
    return chunk_rows;
  }
  // f(first row, rows) for each chunk of `rows` rows, in order.
  template <typename F>
  void each(size_t rows, F&& f) const {
    for (size_t i0 = 0; i0 < rows;) {
      const size_t n = next(rows - i0);
      f(i0, n);
      i0 += n;
    }
  }
};

// K (input channel) block of the GEMM: at most this many, split evenly. It depends on the
// input channels only, so every strategy sums in the same order (reuse == compute, bit for bit).
constexpr size_t kMaxKBlock = 256;

// Staged copies of kernel taps (see transform_panel): lanes an odd number of lines apart.
constexpr size_t staged_lane_stride(size_t steps) { return position_stride(steps * kTaps); }
constexpr size_t staged_taps_floats(size_t steps) { return kNr * staged_lane_stride(steps); }

// V + M of one block of tiles stay below this (they live in the last-level cache between
// the stages of a block); a block has at least kMinBlockTiles tiles (it reads all of U).
constexpr size_t kBlockBytes = size_t{8} << 20;
constexpr size_t kMinBlockTiles = 48;

// Large images with few channels: each thread runs whole blocks of tiles through the three
// stages with V and M in 6/8 of its L2 (no synchronisation between the stages), when such
// a block holds at least one of the multiply's row chunks (12 tiles with AVX-512, else 6)
// and there are at least two blocks. Measured on vgg.conv1_2/conv2_2 and resnet18.conv2: as
// fast as the staged mode on one thread, 1.3x to 1.6x faster on two. A block is a whole
// number of row chunks, and with several threads and few blocks their count is a multiple
// of the threads. Each block rereads all of U: 2 bytes per flop over the block's tiles,
// so smaller blocks starve the multiply (vgg.conv3_2 on Zen 5, 6-tile blocks of 256
// channels against the staged or fused modes: 1.13-1.17x slower in every cell).
// Against 5/8 of the L2: vgg.conv2_2 with a 1 MiB L2 (Zen 5) gets 12-tile blocks, not 6 (1.1x
// on one thread, 1.25x on two); with a 512 KiB L2 (Zen 3) 6-tile blocks instead of the staged
// mode (1.24x on one thread, 1.1x on two; 1.2x at batch 16).
constexpr size_t kPrivateL2Eighths = 6;
constexpr size_t kFewPrivateBlocksPerThread = 4;

// The compute strategy transforms the kernel panel by panel right before its GEMMs (never
// writing all of U) when all tiles fit one block of at most kFusedBlockBytes and there are
// at most kFusedMaxTiles: U is then larger than what the GEMMs reread instead (V once per
// panel of output channels). The choice (like every other one of the plan) changes no bits.
// Every panel pass rereads all of V from the shared cache: with several threads the cores
// contend for it, and the limit is on tiles x threads (vgg.conv3_2 at batch 1, 100 tiles,
// two threads on Zen 5: the staged mode 1.05x faster than fused, 0.85x on one thread;
// vgg.conv4_2, 25 tiles and a 64 MiB U: fused 1.3x faster on two threads).
constexpr size_t kFusedBlockBytes = size_t{16} << 20;
constexpr size_t kFusedMaxTiles = 128;

// With several threads, where private blocks do not fit but each thread's share of the
// tiles (at least kMinFusedBlockTiles, at most what one fused stage holds) does, each thread
// runs its share through a fused stage of its own: every thread transforms the whole kernel
// (repeated work of about 1/tiles of the multiply's), but no line of V, M or U is written by
// one core and read by the other, and the staged mode's U (written to and reread from memory:
// its kernel transform costs ~3x the fused one's) is not needed. Zen 5, two threads on cores
// that share no cache (a line written by the other core arrives after ~240 ns, at ~17 GB/s):
// vgg.conv3_2 at batch 1, 50 tiles per thread, 1.18-1.20x over the staged mode; 49 tiles of 256
// / 512 channels 1.19-1.24x / 1.06-1.08x; at batch 16 alexnet.conv3 / conv5 (72 per thread)
// 1.02-1.10x / 1.09x, vgg.conv5_2 0.97-1.02x. With 13 tiles per thread (vgg.conv4_2) the
// repeated kernel transform costs more than the shared fused stage loses: 0.91-1.0x.
constexpr size_t kMinFusedBlockTiles = 24;

// The convolution computed, seen as a forward correlation of `in_channels` planes of
// in_height x in_width (zero-padded by pad_top/pad_left and as far as the tiles reach)
// into `out_channels` planes of out_height x out_width.
struct Geometry {
  size_t batch;
  size_t in_channels, out_channels;  // I, O
  size_t in_height, in_width;
  size_t pad_top, pad_left;
  size_t out_height, out_width;
  bool stride2;
  bool relu;
  bool rotated;         // input gradient: kernel[o][i] is the problem's kernel[i][o] turned 180 degrees
  size_t tile;          // transformed tile edge: 8 (F(6x6, 3x3)) or 6 (F(4x4, 3x3))
  size_t tile_step;     // input rows and columns between tiles: 6 or 4
  size_t positions;     // tile * tile
  size_t out_per_tile;  // outputs per tile and axis: tile_step, or half of it with stride 2
  size_t tiles_y, tiles_x;

  size_t tiles_per_image() const { return tiles_y * tiles_x; }
  size_t tiles() const { return batch * tiles_per_image(); }
  size_t whole_u_bytes() const { return positions * out_channels * in_channels * sizeof(float); }
};

Geometry geometry_of(const ConvolutionProblem& p, size_t tile) {
  Geometry g{};
  g.tile = tile;
  g.tile_step = tile - 2;
  g.positions = tile * tile;
  g.batch = p.batch_size;
  if (p.operation == ConvolutionOperation::input_gradient) {
    // grad_input = grad_output correlated with the rotated, transposed kernel, padded by 2 - pad.
    const nnp_size grad_output = p.output_size();
    g.in_channels = p.output_channels;
    g.out_channels = p.input_channels;
    g.in_height = grad_output.height;
    g.in_width = grad_output.width;
    g.pad_top = 2 - p.padding.top;
    g.pad_left = 2 - p.padding.left;
    g.out_height = p.input_size.height;
    g.out_width = p.input_size.width;
    g.rotated = true;
  } else {
    const nnp_size out = p.output_size();
    g.in_channels = p.input_channels;
    g.out_channels = p.output_channels;
    g.in_height = p.input_size.height;
    g.in_width = p.input_size.width;
    g.pad_top = p.padding.top;
    g.pad_left = p.padding.left;
    g.out_height = out.height;
    g.out_width = out.width;
    g.stride2 = p.stride.width == 2;
    g.relu = p.relu;
  }
  g.out_per_tile = g.stride2 ? g.tile_step / 2 : g.tile_step;
  g.tiles_y = divide_round_up(g.out_height, g.out_per_tile);
  g.tiles_x = divide_round_up(g.out_width, g.out_per_tile);
  return g;
}

// Channel blocks per input transform call (and most per task).
constexpr size_t kMaxRun = 16;

struct Plan {
  Geometry g;
  size_t in8;          // I rounded up to 8: channels of V
  size_t out_nr;       // O rounded up to NR: row length of M
  size_t kc;           // GEMM K block
  size_t block_tiles;  // multiple of MR, except for fused private blocks (one per thread)
  size_t blocks;
  bool own_kernel;     // the kernel is transformed here (compute strategy)
  bool fused;          // ... panel by panel inside the multiplication stage
  bool private_blocks; // each thread runs whole blocks in its own V and M (and, fused, its U panel)
  size_t slots;        // per-thread buffers
  // Workspace regions (byte offsets) and total.
  size_t kernel_at, panel_at, zeros_at, v_at, m_at, gather_at, gather_bytes, slot_at, slot_bytes, bytes;
  size_t v_bytes() const { return round_up(g.positions * v_position_stride() * sizeof(float), kAlignment); }
  size_t m_bytes() const { return round_up(block_tiles * m_tile_floats() * sizeof(float), kAlignment); }

  size_t groups() const { return divide_round_up(block_tiles, kMr); }
  size_t channel_blocks() const { return in8 / kLanes; }
  size_t v_position_stride() const { return position_stride(groups() * in8 * kMr); }
  // M[tile][panel][p][NR], tiles an odd number of lines apart: the GEMM writes up to 14
  // tiles' rows at once, which a multiple of 4 KiB would put into one L1 set.
  size_t m_tile_floats() const { return position_stride(g.positions * out_nr); }
  size_t u_position_stride() const { return position_stride(kc * kNr); }  // fused panel buffer
  size_t u_bytes() const { return round_up(g.positions * u_position_stride() * sizeof(float), kAlignment); }
};

size_t region(size_t* at, size_t floats) {
  const size_t start = *at;
  *at += round_up(floats * sizeof(float), kAlignment);
  return start;
}

Plan make_plan(const ConvolutionProblem& p, size_t tile, const Hardware& hw, size_t threads) {
  Plan plan{};
  plan.g = geometry_of(p, tile);
  const Geometry& g = plan.g;
  const size_t o = g.out_channels, i = g.in_channels;
  plan.in8 = round_up(i, kLanes);
  plan.out_nr = round_up(o, kNr);
  plan.kc = round_up(divide_round_up(i, divide_round_up(i, kMaxKBlock)), 4);

  const size_t tile_bytes = g.positions * (plan.in8 + plan.out_nr) * sizeof(float);
  const size_t tiles = g.tiles();
  const size_t private_room = hw.l2_bytes * kPrivateL2Eighths / 8 / tile_bytes;
  const size_t chunk_rows = RowChunks(hw.isa).chunk_rows;
  const size_t private_tiles = private_room / chunk_rows * chunk_rows;
  plan.own_kernel = p.strategy != nnp_convolution_transform_strategy_reuse;
  // (Its tasks are panels of output channels: at least two per thread.)
  const bool private_fits = private_tiles > 0 && tiles >= 2 * private_tiles;
  const size_t participants = std::max<size_t>(threads, 1);
  const size_t tiles_per_thread = divide_round_up(tiles, participants);
  const bool fused_per_thread_serves = threads > 1 && tiles_per_thread >= kMinFusedBlockTiles &&
                                       tiles_per_thread <= kFusedMaxTiles &&
                                       tiles_per_thread * tile_bytes <= kFusedBlockBytes;
  // Private blocks reread all of U per block: where U does not fit the L2 and the kernel is
  // transformed in the call, a fused stage per thread wins where it serves (vgg.conv3_2 at
  // batch 1, two threads, 2 MiB L2: 12-tile private blocks rereading a 16 MiB U, against 50
  // tiles per thread fused: 1.06-1.2x).
  const bool u_exceeds_l2 = g.whole_u_bytes() > hw.l2_bytes;
  const bool private_wins = private_fits && !(plan.own_kernel && fused_per_thread_serves && u_exceeds_l2);
  // With several threads, private blocks win over the fused stage where both serve: the
  // fused stage shares V and M between the cores (resnet18.conv2 at batch 1, two threads on
  // cores that share no cache: 1.3x faster private).
  const bool shared_fused = tiles * participants <= kFusedMaxTiles && tiles * tile_bytes <= kFusedBlockBytes &&
                            divide_round_up(o, kNr) >= 2 * participants && !(threads > 1 && private_wins);
  const bool fused_per_thread = fused_per_thread_serves && !private_wins;
  plan.fused = plan.own_kernel && (fused_per_thread || shared_fused);
  plan.private_blocks = plan.fused ? fused_per_thread : private_wins;
  if (plan.fused && plan.private_blocks) {
    plan.block_tiles = tiles_per_thread;
  } else {
    const size_t most = plan.fused           ? round_up(tiles, kMr)
                        : plan.private_blocks ? private_tiles
                                              : round_up(std::max(kBlockBytes / tile_bytes, kMinBlockTiles), kMr);
    plan.blocks = divide_round_up(tiles, most);
    if (plan.private_blocks && threads > 1 && plan.blocks < kFewPrivateBlocksPerThread * threads)
      plan.blocks = round_up(plan.blocks, threads);
    plan.block_tiles = round_up(divide_round_up(tiles, plan.blocks), kMr);
  }
  plan.blocks = divide_round_up(tiles, plan.block_tiles);  // (no empty last block)

  plan.slots = std::clamp<size_t>(threads, 1, 64);
  size_t at = 0;
  plan.kernel_at = region(&at, plan.own_kernel && !plan.fused ? g.positions * o * i : 0);
  plan.panel_at = region(&at, !plan.fused && o % kNr != 0 ? g.positions * i * kNr : 0);
  plan.zeros_at = region(&at, round_up(o, kLanes));
  // Shared V and M, unless each thread has its own.
  plan.v_at = at;
  plan.m_at = at + (plan.private_blocks ? 0 : plan.v_bytes());
  at = plan.m_at + (plan.private_blocks ? 0 : plan.m_bytes());
  // Per thread: the zero-padded copies of border tiles for the input transform; and V and M
  // (private blocks) or the transformed kernel panel (fused).
  plan.gather_bytes = round_up(kTileGroup * std::min(kMaxRun, plan.channel_blocks()) * kLanes * kTile * kTile *
                                   sizeof(float), kAlignment);
  plan.gather_at = at;
  at += plan.slots * plan.gather_bytes;
  plan.slot_bytes = (plan.private_blocks ? plan.v_bytes() + plan.m_bytes() : 0) +
                    (plan.fused ? plan.u_bytes() + round_up(staged_taps_floats(plan.kc) * sizeof(float), kAlignment)
                                : 0);
  plan.slot_at = at;
  at += plan.slots * plan.slot_bytes;
  plan.bytes = at;
  return plan;
}

// ---- Kernel transform ------------------------------------------------------------------

// Transforms the kernels of output channels [o0, o0 + width) (one NR panel, width <= NR)
// and input channels [i0, i1) into panel rows: position p, input channel i, lane l at
// out[p*position_stride + (i - i0)*row + l] with `row` floats per input channel. Lanes
// [width, row) are zeros when zero_pad (the padded panel of the fused stage).
//
// The forward kernel's lanes (output channels) are rows of I*9 floats, often a multiple of
// 1 KiB apart, so that the 16 lanes read together fall into two L1 sets: with `staging`
// (room for staged_taps_floats(i1 - i0)), they are first copied into rows an odd number of
// cache lines apart.

// The kernel transform for groups of 8 lanes, and where the machine has one for 16 (else null).
struct KernelTransforms {
  KernelTransform eight, sixteen;
};

KernelTransforms kernel_transforms(Isa isa, const Geometry& g) {
  if (g.tile == kSmallTile) return {small_kernel_transform(isa, g.rotated), jit_small_wide_kernel_transform(isa, g.rotated)};
  return {kernel_transform(isa, g.rotated), jit_wide_kernel_transform(isa, g.rotated)};
}

void transform_panel(const Geometry& g, const float* kernel, const KernelTransforms& f, size_t o0, size_t width,
                     size_t i0, size_t i1, float* out, size_t position_stride, size_t row, bool zero_pad,
                     float* staging = nullptr) {
  const size_t o_count = g.out_channels;
  // Taps of (o, i): forward kernel[o][i]; rotated: the problem's kernel[i][o].
  const size_t lane_stride = g.rotated ? kTaps : g.in_channels * kTaps;
  const size_t step_stride = g.rotated ? o_count * kTaps : kTaps;
  const size_t whole = width / kLanes;  // groups of 8 lanes read in place
  if (whole > 0) {
    const float* taps = kernel + o0 * lane_stride + i0 * step_stride;
    size_t taps_lane_stride = lane_stride;
    if (staging != nullptr && !g.rotated) {
      taps_lane_stride = staged_lane_stride(i1 - i0);
      for (size_t l = 0; l < whole * kLanes; ++l)
        std::memcpy(staging + l * taps_lane_stride, taps + l * lane_stride, (i1 - i0) * kTaps * sizeof(float));
      taps = staging;
    }
    // Pairs of groups 16 lanes at a time where that exists, the rest 8 at a time.
    const size_t pairs = f.sixteen != nullptr ? whole / 2 : 0, done = 2 * pairs * kLanes;
    if (pairs > 0) {
      const KernelTransformArgs args{taps, taps_lane_stride, step_stride, i1 - i0, out, position_stride, row, pairs};
      f.sixteen(&args);
    }
    if (done < whole * kLanes) {
      const KernelTransformArgs args{taps + done * taps_lane_stride, taps_lane_stride, step_stride, i1 - i0,
                                     out + done, position_stride, row, whole - 2 * pairs};
      f.eight(&args);
    }
  }
  const size_t lanes = width - whole * kLanes;
  if (lanes == 0) {
    if (zero_pad && width < row)
      for (size_t pos = 0; pos < g.positions; ++pos)
        for (size_t i = i0; i < i1; ++i)
          std::fill_n(out + pos * position_stride + (i - i0) * row + width, row - width, 0.0f);
    return;
  }
  // The last, partial group of lanes: one input channel at a time through a padded copy.
  const size_t first = o0 + whole * kLanes;
  alignas(32) float taps[kLanes * kTaps];
  alignas(32) float result[kPositions * kLanes];
  for (size_t i = i0; i < i1; ++i) {
    std::fill(std::begin(taps), std::end(taps), 0.0f);
    for (size_t l = 0; l < lanes; ++l)
      std::memcpy(taps + l * kTaps, kernel + (first + l) * lane_stride + i * step_stride, kTaps * sizeof(float));
    const KernelTransformArgs args{taps, kTaps, 0, 1, result, kLanes, 0, 1};
    f.eight(&args);
    for (size_t pos = 0; pos < g.positions; ++pos) {
      float* dst = out + pos * position_stride + (i - i0) * row + whole * kLanes;
      std::memcpy(dst, result + pos * kLanes, lanes * sizeof(float));
      if (zero_pad) std::fill(dst + lanes, out + pos * position_stride + (i - i0 + 1) * row, 0.0f);
    }
  }
}

// dst[0, n) = src[0, n); with `streaming`, by non-temporal stores where the machine has them
// and dst is 16-byte aligned: a U larger than the caches would otherwise be read into them
// (write-allocate) only to be evicted unread. Measured on alexnet.conv4 at batch 16 (U of
// 25 MiB): the kernel transform 25 % faster, the whole layer 8 %.
void copy_out(const float* src, float* dst, size_t n, bool streaming) {
#if defined(__x86_64__)
  if (streaming && reinterpret_cast<uintptr_t>(dst) % 16 == 0 && n % 4 == 0) {
    for (size_t i = 0; i < n; i += 4) _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
    return;
  }
#endif
  (void)streaming;
  std::memcpy(dst, src, n * sizeof(float));
}

// U for all channels, in the layout of convolution.h. Its position stride (O*I floats) is
// often a multiple of 4 KiB, so a few input channels at a time are transformed into a
// buffer with an L1-friendly stride and then copied out, position by position.
void transform_kernels(const Geometry& g, const float* kernel, float* transformed, const Hardware& hw,
                       pthreadpool_t pool) {
  const Isa isa = hw.isa;
  // U beyond a quarter of the last-level cache bypasses the caches.
  const bool streaming = g.whole_u_bytes() > hw.l3_bytes / 4;
  const size_t o_count = g.out_channels, i_count = g.in_channels;
  const KernelTransforms f = kernel_transforms(isa, g);
  constexpr size_t kChunk = 32;  // input channels per task
  constexpr size_t kStage = 4;   // input channels per staging round
  parallel_for_2d(pool, divide_round_up(o_count, kNr), divide_round_up(i_count, kChunk), [&](size_t panel, size_t c) {
    const size_t o0 = panel * kNr, width = std::min(kNr, o_count - o0);
    float* out = transformed + o0 * i_count;  // the panel in position 0
    const size_t stage_stride = position_stride(kStage * kNr);
    alignas(64) float stage[kPositions * position_stride(kStage * kNr)];
    alignas(64) float taps[staged_taps_floats(kStage)];
    for (size_t i0 = c * kChunk; i0 < std::min(i_count, (c + 1) * kChunk); i0 += kStage) {
      const size_t i1 = std::min({i_count, i0 + kStage, (c + 1) * kChunk});
      transform_panel(g, kernel, f, o0, width, i0, i1, stage, stage_stride, width, false, taps);
      for (size_t pos = 0; pos < g.positions; ++pos)
        copy_out(stage + pos * stage_stride, out + pos * o_count * i_count + i0 * width, (i1 - i0) * width, streaming);
    }
#if defined(__x86_64__)
    if (streaming) _mm_sfence();  // the task's streaming stores land before the pool reports it done
#endif
  });
}

// ---- Stages ---------------------------------------------------------------------------------

struct Buffers {
  const float* kernel;  // U (unless fused)
  float* panel;         // zero-padded last panel of U, per position [I][NR]
  float* zeros;
  float* v;
  float* m;
  uint8_t* gather;  // per slot
  uint8_t* slots;   // per slot
};

// A tile's 8x8 input window: rows y0.. and columns x0.. of the padded image.
struct TileWindow {
  size_t image, y0, x0;
};

// Where a tile's 8x8 window reads one channel plane: window columns [s0, s1) lie inside the
// image; row r starts (at column s0) `offset[r]` floats into the plane, or lies outside it
// (offset -1, all zeros).
struct WindowRows {
  ptrdiff_t offset[kTile];
  size_t s0, s1;
};

WindowRows window_rows(const Geometry& g, const TileWindow& w) {
  WindowRows rows{};
  rows.s0 = std::min(kTile, g.pad_left > w.x0 ? g.pad_left - w.x0 : 0);
  rows.s1 = std::clamp(g.pad_left + g.in_width, w.x0 + rows.s0, w.x0 + kTile) - w.x0;
  for (size_t r = 0; r < kTile; ++r) {
    const size_t y = w.y0 + r;  // padded coordinates
    const bool inside = y >= g.pad_top && y - g.pad_top < g.in_height && rows.s0 < rows.s1;
    rows.offset[r] = inside ? ptrdiff_t((y - g.pad_top) * g.in_width + (w.x0 + rows.s0 - g.pad_left)) : -1;
  }
  return rows;
}

// Zero-padded copies of `channels` planes' windows (the first `real` of them exist, the
// rest are zeros): channel c, row r, column s at out[c*64 + r*8 + s].
void copy_windows(const float* plane0, size_t plane, size_t channels, size_t real, const WindowRows& rows,
                  float* out) {
  const size_t s0 = rows.s0, s1 = rows.s1;
  for (size_t c = 0; c < channels; ++c, out += kTile * kTile) {
    for (size_t r = 0; r < kTile; ++r) {
      float* dst = out + r * kTile;
      if (c >= real || rows.offset[r] < 0) {
        std::fill(dst, dst + kTile, 0.0f);
        continue;
      }
      const float* inside = plane0 + c * plane + rows.offset[r];  // column s0
      if (s0 == 0 && s1 == kTile) {
        std::memcpy(dst, inside, kTile * sizeof(float));  // a fixed size: inlined, not a libc call
        continue;
      }
      std::fill(dst, dst + kTile, 0.0f);
      for (size_t s = s0; s < s1; ++s) dst[s] = inside[s - s0];
    }
  }
}

#if defined(__x86_64__)
// The same with AVX2 masked loads: lane s of a row reads column s where s0 <= s < s1; the
// other lanes are neither read nor faulted and come out zero. (The base address of a row,
// column 0, may lie before the plane: it is formed as an integer, never dereferenced.)
__attribute__((target("avx2"))) void copy_windows_avx2(const float* plane0, size_t plane, size_t channels,
                                                        size_t real, const WindowRows& rows, float* out) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i mask = _mm256_and_si256(_mm256_cmpgt_epi32(lane, _mm256_set1_epi32(int(rows.s0) - 1)),
                                        _mm256_cmpgt_epi32(_mm256_set1_epi32(int(rows.s1)), lane));
  const auto base = reinterpret_cast<uintptr_t>(plane0) - rows.s0 * sizeof(float);
  for (size_t c = 0; c < channels; ++c, out += kTile * kTile) {
    for (size_t r = 0; r < kTile; ++r) {
      __m256 row = _mm256_setzero_ps();
      if (c < real && rows.offset[r] >= 0)
        row = _mm256_maskload_ps(
            reinterpret_cast<const float*>(base + (c * plane + size_t(rows.offset[r])) * sizeof(float)), mask);
      _mm256_storeu_ps(out + r * kTile, row);
    }
  }
}
#endif

// Zero-padded copy of a window for channel blocks [cb0, cb0 + blocks): channel l of block b,
// row r, column s at out[(b*8 + l)*64 + r*8 + s].
void gather_window(const Geometry& g, const float* input, const TileWindow& w, size_t cb0, size_t blocks,
                   bool avx2, float* out) {
  const size_t plane = g.in_height * g.in_width, first = cb0 * kLanes;
  const float* plane0 = input + (w.image * g.in_channels + first) * plane;
  const size_t channels = blocks * kLanes, real = std::min(channels, g.in_channels - first);
  const WindowRows rows = window_rows(g, w);
#if defined(__x86_64__)
  if (avx2) return copy_windows_avx2(plane0, plane, channels, real, rows, out);
#endif
  (void)avx2;
  copy_windows(plane0, plane, channels, real, rows, out);
}

struct Stages {
  const Plan& plan;
  Buffers buf;
  const ConvolutionTensors& t;
  InputTransform input_transform;
  KernelTransforms kernel_transforms;
  OutputTransform output_transform;
  RowChunks chunks;
  // Microkernels by chunk rows (the row counts of this call's blocks; others null).
  // By rows and the first row's lane in its panel of V.
  gemm::GemmMicrokernel first_k_block[kMostChunkRows + 1][kMr];  // C = A B
  gemm::GemmMicrokernel next_k_block[kMostChunkRows + 1][kMr];   // C += A B
  pthreadpool_t pool;
  size_t threads;
  size_t slots;  // of buf.gather and buf.slots
  bool masked_copies;  // border windows copied with AVX2 masked loads

  TileWindow window(size_t tile) const {
    const Geometry& g = plan.g;
    const size_t within = tile % g.tiles_per_image();
    return {tile / g.tiles_per_image(), within / g.tiles_x * g.tile_step, within % g.tiles_x * g.tile_step};
  }

  // (1) Input transform of tiles [t0, t0 + count) into V. Tasks: a group of MR tiles x a run
  // of channel blocks. Tiles read the image in place where their window lies inside it and
  // the channels are whole; the others read a zero-padded copy.
  void input(size_t t0, size_t count) const {
    const Geometry& g = plan.g;
    const size_t channel_blocks = plan.channel_blocks(), whole_blocks = g.in_channels / kLanes;
    const size_t groups = divide_round_up(count, kMr);
    const size_t wanted = divide_round_up(4 * threads, groups);
    const size_t run = std::clamp<size_t>(channel_blocks / wanted, 1, kMaxRun);
    const size_t plane = g.in_height * g.in_width;
    SlotPool slots(this->slots);
    parallel_for_2d(pool, groups, divide_round_up(channel_blocks, run), [&](size_t group, size_t r) {
      const size_t slot = slots.acquire();
      float* gathered = reinterpret_cast<float*>(buf.gather + slot * plan.gather_bytes);
      TileWindow windows[kMr];
      for (size_t k = 0; k < kMr; ++k)  // missing tiles of the last group repeat the first
        windows[k] = window(t0 + group * kMr + (group * kMr + k < count ? k : 0));
      float* out = buf.v + group * plan.in8 * kMr;
      const size_t cb0 = r * run, cb1 = std::min(channel_blocks, cb0 + run);
      // Whole channel blocks, then the last partial one (always from copies).
      for (size_t begin = cb0; begin < cb1;) {
        const size_t end = begin < whole_blocks ? std::min(cb1, whole_blocks) : cb1;
        const float* tiles[kMr];
        size_t row_strides[kMr], channel_strides[kMr];
        for (size_t k = 0; k < kMr; ++k) {
          const TileWindow& w = windows[k];
          const bool inside = begin < whole_blocks && w.y0 >= g.pad_top && w.y0 + kTile <= g.pad_top + g.in_height &&
                              w.x0 >= g.pad_left && w.x0 + kTile <= g.pad_left + g.in_width;
          if (inside) {
            tiles[k] = t.input + ((w.image * g.in_channels + begin * kLanes) * g.in_height + (w.y0 - g.pad_top)) *
                                     g.in_width + (w.x0 - g.pad_left);
            row_strides[k] = g.in_width;
            channel_strides[k] = plane;
          } else {
            float* copy = gathered + k * (end - begin) * kLanes * kTile * kTile;
            gather_window(g, t.input, w, begin, end - begin, masked_copies, copy);
            tiles[k] = copy;
            row_strides[k] = kTile;
            channel_strides[k] = kTile * kTile;
          }
        }
        const InputTransformArgs args{tiles, row_strides, channel_strides, end - begin,
                                      out + begin * kLanes * kMr, plan.v_position_stride()};
        input_transform(&args);
        begin = end;
      }
      slots.release(slot);
    });
  }

  // C rows [0, rows) of one position, output panel `panel` (B panel b), K block [k0, k0 + kc).
  void multiply_panel(size_t pos, size_t panel, const float* b, size_t k0, size_t kc, size_t rows) const {
    const size_t ldc = plan.m_tile_floats();
    const float* a = buf.v + pos * plan.v_position_stride() + k0 * kMr;
    float* c = buf.m + (panel * plan.g.positions + pos) * kNr;
    const size_t panel_stride = plan.in8 * kMr;
    chunks.each(rows, [&](size_t i0, size_t n) {
      const size_t lane = i0 % kMr;
      const gemm::GemmMicrokernel kernel = k0 == 0 ? first_k_block[n][lane] : next_k_block[n][lane];
      kernel(kc, a + i0 / kMr * panel_stride, panel_stride, b, c + i0 * ldc, ldc, nullptr);
    });
  }

  // (2) M[tile][p][:] = V_p[tile][:] U_p for the 64 positions, U transformed before.
  void multiply(size_t count) const {
    const Geometry& g = plan.g;
    const size_t o_count = g.out_channels, i_count = g.in_channels;
    const size_t full_panels = o_count / kNr, panels = divide_round_up(o_count, kNr);
    parallel_for(pool, g.positions, [&](size_t pos) {
      const float* u = buf.kernel + pos * o_count * i_count;
      for (size_t panel = 0; panel < panels; ++panel) {
        const float* b = panel < full_panels ? u + panel * kNr * i_count : buf.panel + pos * i_count * kNr;
        for (size_t k0 = 0; k0 < i_count; k0 += plan.kc) {
          const size_t kc = std::min(plan.kc, i_count - k0);
          multiply_panel(pos, panel, b + k0 * kNr, k0, kc, count);
        }
      }
    });
  }

  // (2') The same, transforming U panel by panel (K block by K block) into a per-thread
  // buffer. Returns the share of the time the threads spent transforming.
  double multiply_fused(size_t count, const float* kernel) const {
    const Geometry& g = plan.g;
    const size_t o_count = g.out_channels, i_count = g.in_channels;
    SlotPool slots(this->slots);
    std::atomic<int64_t> transform_ns{0}, multiply_ns{0};
    parallel_for(pool, divide_round_up(o_count, kNr), [&](size_t panel) {
      const size_t slot = slots.acquire();
      float* u = reinterpret_cast<float*>(buf.slots + slot * plan.slot_bytes);
      float* taps = reinterpret_cast<float*>(buf.slots + slot * plan.slot_bytes + plan.u_bytes());
      const size_t o0 = panel * kNr, width = std::min(kNr, o_count - o0);
      int64_t transforming = 0, multiplying = 0;
      for (size_t k0 = 0; k0 < i_count; k0 += plan.kc) {
        const size_t kc = std::min(plan.kc, i_count - k0);
        const auto start = std::chrono::steady_clock::now();
        const size_t stride = plan.u_position_stride();
        transform_panel(g, kernel, kernel_transforms, o0, width, k0, k0 + kc, u, stride, kNr, true, taps);
        const auto transformed = std::chrono::steady_clock::now();
        for (size_t pos = 0; pos < g.positions; ++pos) multiply_panel(pos, panel, u + pos * stride, k0, kc, count);
        transforming += std::chrono::nanoseconds(transformed - start).count();
        multiplying += std::chrono::nanoseconds(std::chrono::steady_clock::now() - transformed).count();
      }
      transform_ns += transforming;
      multiply_ns += multiplying;
      slots.release(slot);
    });
    const double total = double(transform_ns.load() + multiply_ns.load());
    return total > 0.0 ? double(transform_ns.load()) / total : 0.0;
  }

  // (3) Output transform of tiles [t0, t0 + count) from M, with bias and ReLU. Tasks: a run
  // of tiles x one NR panel of channels, tiles innermost, so that the rows of each channel
  // plane fill up left to right.
  void output(size_t t0, size_t count) const {
    const Geometry& g = plan.g;
    const size_t o_count = g.out_channels;
    const size_t panels = divide_round_up(o_count, kNr);
    constexpr size_t kRun = 16;  // tiles per task
    const float* bias = t.bias != nullptr ? t.bias : buf.zeros;
    parallel_for_2d(pool, divide_round_up(count, kRun), panels, [&](size_t run, size_t panel) {
      for (size_t local = run * kRun; local < std::min(count, (run + 1) * kRun); ++local)
        output_tile(t0 + local, local, panel, bias);
    });
  }

  void output_tile(size_t tile, size_t local, size_t panel, const float* bias) const {
    const Geometry& g = plan.g;
    const size_t o_count = g.out_channels;
    const size_t plane = g.out_height * g.out_width;
    const size_t n = g.out_per_tile;
    const size_t image = tile / g.tiles_per_image(), within = tile % g.tiles_per_image();
    const size_t y0 = within / g.tiles_x * n, x0 = within % g.tiles_x * n;
    const size_t rows = std::min(n, g.out_height - y0), columns = std::min(n, g.out_width - x0);
    // M holds the 8-channel blocks of one NR panel 8 floats apart.
    const float* m = buf.m + local * plan.m_tile_floats() + panel * g.positions * kNr;
    const size_t c0 = panel * kNr, lanes = std::min(kNr, o_count - c0);
    float* out = t.output + (image * o_count + c0) * plane + y0 * g.out_width + x0;
    const size_t whole_blocks = rows == n && columns == n ? lanes / kLanes : 0;
    if (whole_blocks > 0) {
      const OutputTransformArgs args{m, kNr, bias + c0, out, g.out_width, plane, whole_blocks};
      output_transform(&args);
    }
    // Partial tiles and a last partial block of channels go through a scratch tile.
    for (size_t block = whole_blocks; block < divide_round_up(lanes, kLanes); ++block) {
      const size_t b0 = block * kLanes, block_lanes = std::min(kLanes, lanes - b0);
      alignas(32) float block_bias[kLanes] = {};
      std::memcpy(block_bias, bias + c0 + b0, block_lanes * sizeof(float));
      alignas(32) float scratch[kLanes * kOutput * kOutput];
      const OutputTransformArgs args{m + b0, kNr, block_bias, scratch, kOutput, kOutput * kOutput, 1};
      output_transform(&args);
      for (size_t l = 0; l < block_lanes; ++l)
        for (size_t r = 0; r < rows; ++r)
          std::memcpy(out + (b0 + l) * plane + r * g.out_width, scratch + l * kOutput * kOutput + r * kOutput,
                      columns * sizeof(float));
    }
  }
};

}  // namespace

bool serves(const ConvolutionProblem& p, size_t tile) {
  if (p.kernel_size.width != 3 || p.kernel_size.height != 3) return false;
  // F(4x4, 3x3): stride 1.
  if (tile == kSmallTile && (p.stride.width != 1 || p.stride.height != 1)) return false;
  const bool unit = p.stride.width == 1 && p.stride.height == 1;
  switch (p.operation) {
    case ConvolutionOperation::output:
    case ConvolutionOperation::input_gradient: return unit;
    case ConvolutionOperation::inference: return unit || (p.stride.width == 2 && p.stride.height == 2);
    case ConvolutionOperation::kernel_gradient: return false;
  }
  return false;
}

size_t transformed_kernel_bytes(const ConvolutionProblem& p, size_t tile) {
  return tile * tile * p.output_channels * p.input_channels * sizeof(float);
}

size_t workspace_bytes(const ConvolutionProblem& p, size_t tile, const Hardware& hw, size_t threads) {
  return make_plan(p, tile, hw, threads).bytes;
}

void transform_kernel(const ConvolutionProblem& p, size_t tile, const float* kernel, void* transformed,
                      const ExecutionContext& context) {
  StageTimer timer(context.profile->kernel_transform);
  transform_kernels(geometry_of(p, tile), kernel, static_cast<float*>(transformed), *context.hardware,
                    context.threadpool);
}

nnp_status run(const ConvolutionProblem& p, size_t tile, const ConvolutionTensors& t, const ExecutionContext& context) {
  const Hardware& hw = *context.hardware;
  const size_t threads = std::max<size_t>(1, pthreadpool_get_threads_count(context.threadpool));
  const Plan plan = make_plan(p, tile, hw, threads);
  const Geometry& g = plan.g;
  auto* ws = static_cast<uint8_t*>(context.workspace);
  Buffers buf{};
  buf.kernel = plan.own_kernel ? reinterpret_cast<float*>(ws + plan.kernel_at) : t.kernel;
  buf.panel = reinterpret_cast<float*>(ws + plan.panel_at);
  buf.zeros = reinterpret_cast<float*>(ws + plan.zeros_at);
  buf.v = reinterpret_cast<float*>(ws + plan.v_at);
  buf.m = reinterpret_cast<float*>(ws + plan.m_at);
  buf.gather = ws + plan.gather_at;
  buf.slots = ws + plan.slot_at;
  const size_t o_count = g.out_channels, i_count = g.in_channels;

  Stages stages{plan,
                buf,
                t,
                g.tile == kSmallTile ? small_input_transform(hw.isa) : input_transform(hw.isa),
                kernel_transforms(hw.isa, g),
                g.tile == kSmallTile ? small_output_transform(hw.isa, g.relu)
                                     : output_transform(hw.isa, {g.relu, g.stride2}),
                RowChunks(hw.isa),
                {},
                {},
                context.threadpool,
                threads,
                plan.slots,
                hw.can_run(Isa::avx2)};
  // The chunks of a whole block and of the last one. A whole U larger than the last-level
  // cache comes from memory in every call: its kernels prefetch it further ahead (on
  // alexnet.conv4's 25 MiB U, in a 32 MiB L3, that was 7 % slower).
  const size_t tiles = g.tiles();
  const bool u_in_memory = !plan.fused && g.whole_u_bytes() > hw.l3_bytes;
  const uint32_t layout = jit::kPanelsA | (u_in_memory ? jit::kFarPrefetchB : 0);
  for (size_t rows : {std::min(plan.block_tiles, tiles), tiles - (plan.blocks - 1) * plan.block_tiles}) {
    stages.chunks.each(rows, [&](size_t i0, size_t n) {
      const size_t lane = i0 % kMr;
      if (stages.first_k_block[n][lane] != nullptr) return;
      const uint32_t flags = layout | jit::panels_a_lane(static_cast<uint32_t>(lane));
      stages.first_k_block[n][lane] = gemm::gemm_microkernel(hw.isa, {n, kNr}, flags);
      stages.next_k_block[n][lane] = gemm::gemm_microkernel(hw.isa, {n, kNr}, flags | jit::kAccumulate);
    });
  }
  std::memset(buf.zeros, 0, round_up(o_count, kLanes) * sizeof(float));
  if (plan.own_kernel && !plan.fused) {
    StageTimer timer(context.profile->kernel_transform);
    transform_kernels(g, t.kernel, reinterpret_cast<float*>(ws + plan.kernel_at), hw, context.threadpool);
  }
  if (!plan.fused && o_count % kNr != 0) {
    StageTimer timer(context.profile->block_multiplication);
    // Zero-pad the compact last panel of U once per call.
    const size_t width = o_count % kNr, last = o_count / kNr * kNr * i_count;
    parallel_for(context.threadpool, g.positions, [&](size_t pos) {
      const float* src = buf.kernel + pos * o_count * i_count + last;
      float* dst = buf.panel + pos * i_count * kNr;
      for (size_t i = 0; i < i_count; ++i) {
        std::memcpy(dst + i * kNr, src + i * width, width * sizeof(float));
        std::fill(dst + i * kNr + width, dst + (i + 1) * kNr, 0.0f);
      }
    });
  }

  if (plan.private_blocks) {
    // Each task: one block through the three stages on its thread's V, M and copies (and
    // U panel, fused).
    SlotPool slots(plan.slots);
    StageShares<4> shares({&context.profile->input_transform, &context.profile->kernel_transform,
                           &context.profile->output_transform, &context.profile->block_multiplication});
    parallel_for(context.threadpool, plan.blocks, [&](size_t block) {
      const size_t slot = slots.acquire();
      Stages local = stages;
      local.pool = nullptr;
      local.threads = 1;
      local.slots = 1;
      uint8_t* own = ws + plan.slot_at + slot * plan.slot_bytes;
      local.buf.v = reinterpret_cast<float*>(own);
      local.buf.m = reinterpret_cast<float*>(own + plan.v_bytes());
      local.buf.slots = own + plan.v_bytes() + plan.m_bytes();  // the fused stage's U panel
      local.buf.gather = ws + plan.gather_at + slot * plan.gather_bytes;
      const size_t t0 = block * plan.block_tiles, count = std::min(plan.block_tiles, tiles - t0);
      const auto t_start = std::chrono::steady_clock::now();
      local.input(t0, count);
      const auto t_input = std::chrono::steady_clock::now();
      const double transform_share = plan.fused ? local.multiply_fused(count, t.kernel) : (local.multiply(count), 0.0);
      const auto t_multiply = std::chrono::steady_clock::now();
      local.output(t0, count);
      const auto multiply = t_multiply - t_input;
      shares.add(0, t_input - t_start);
      shares.add(1, std::chrono::duration_cast<std::chrono::nanoseconds>(multiply * transform_share));
      shares.add(2, std::chrono::steady_clock::now() - t_multiply);
      shares.add(3, std::chrono::duration_cast<std::chrono::nanoseconds>(multiply * (1.0 - transform_share)));
      slots.release(slot);
    });
    return nnp_status_success;
  }
  for (size_t t0 = 0; t0 < tiles; t0 += plan.block_tiles) {
    const size_t count = std::min(plan.block_tiles, tiles - t0);
    {
      StageTimer timer(context.profile->input_transform);
      stages.input(t0, count);
    }
    if (plan.fused) {
      // Kernel transform and multiplication interleave: their wall time is split in the
      // proportion of the threads' time in each.
      const auto start = std::chrono::steady_clock::now();
      const double transform_share = stages.multiply_fused(count, t.kernel);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      context.profile->kernel_transform += seconds * transform_share;
      context.profile->block_multiplication += seconds * (1.0 - transform_share);
    } else {
      StageTimer timer(context.profile->block_multiplication);
      stages.multiply(count);
    }
    {
      StageTimer timer(context.profile->output_transform);
      stages.output(t0, count);
    }
  }
  return nnp_status_success;
}

}  // namespace nnjit::winograd
