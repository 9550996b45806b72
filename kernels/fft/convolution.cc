// FFT convolution drivers.
//
// ---- Roles ----------------------------------------------------------------------------
// output / inference:  correlate the input with the kernel (+ bias, ReLU).
// input_gradient:      the same machinery, with grad_output as the input image, the kernel
//                      turned 180 degrees with its channel roles swapped, and padding K-1-p
//                      on every side (grad_input[y] = sum_k g[y + p - k] w[k] is a correlation
//                      of g, padded by K-1-p, with the flipped kernel).
// kernel_gradient:     grad_kernel[o][i] = sum over images and output tiles of the correlation
//                      of the input tile with the grad_output tile: accumulated in the
//                      frequency domain, one inverse transform per kernel at the end;
//                      its multiply-accumulate sums over the tiles, one microkernel call
//                      per 8 output channels x 3 input channels (AVX-512: 16 x 4).
//
// ---- Tiles ----------------------------------------------------------------------------
// An output tile of ph x pw = (T - kh + 1) x (T - kw + 1) values reads a T x T input tile at
// (tile_y * ph - pad_top, tile_x * pw - pad_left); anything outside the image reads zero.
// Tiles are numbered over (image, tile row, tile column) and processed in blocks of
// `block` tiles (a function of the problem and, see geometry, of the thread count):
//   1. input transform: each (tile, 8 channels) is staged channel-interleaved (8x8
//      transposes, staging.h) and transformed into X (every slot of the packed spectrum);
//   2. multiply-accumulate: per slot, Y = sum over input channels of A (the transformed
//      kernel) times X, one microkernel call per 8 output channels x 3 tiles (AVX-512: 16
//      channels x 6 tiles), the channels in chunks of at most 256;
//   3. output transform: each (tile, 8 output channels) is inverted, scaled, biased,
//      rectified and written back to NCHW (clipped at the image edge).
// Several blocks (batches): a block's X and Y stay in the last-level cache while the
// transformed kernel streams through once per block; per slot, the kernel slice (Cout x
// Cin) and the block's X and Y slices fit in L2. On one thread the three stages run one
// after the other per block; on several, each task runs one block through all three in its
// thread's own X and Y ("private blocks"): no line of X or Y is written by one core and read
// by the other, which costs a cross-core transfer and, in the next call, an invalidation
// (where the cores share no cache: Zen 5, 2 threads, 1.17-1.57x over stages parallel over
// slots and tiles). One block (batch 1): stages 2 and 3 run together, one task per block
// (or pair of blocks) of output channels over every slot and tile (ChannelMajorStage);
// with the kernel precomputed (reuse) and enough tiles, the one block is split into a
// private block per thread instead (resnet18.conv2 ft16x16, 2 threads: 1.57x). Every
// result element is computed by one task with the same operations whatever the thread
// count, the block size or the path, so results depend on none of them.
// Compute strategy: the kernel is transformed into the workspace first (precompute writes
// the same bytes into the caller's buffer, reuse reads them from there), or, with one block
// and small kernel panels where X fits the L2, by each stage-2 task for its own channels (fused).
//
// ---- Layouts (floats; "pad" = rounded up to 8) ----------------------------------------
// transformed kernel A:  [slot][out channel / 8][in channel][re, im][8 (last block: Cout % 8)]
//                        (Cout x Cin x T^2 floats in all; in the workspace, slots an odd
//                        number of lines apart)
// X (block):             [slot][in channel / 8][tile][re 8, im 8, re + im 8]   (slots an odd
//                        number of lines apart; the sums serve the Gauss products, cmac.h)
// Y (block):             [slot][tile][out channel / 8][re 8, im 8]  (likewise)
// grad_output (block):   [slot][out channel / 8][tile][re 8, im 8]   (kernel gradient)
// kernel gradient sum:   [slot][in channel][out channel / 8][re 8, im 8]
// (one 64-byte line holds one slot of 8 channels: what a transform writes or reads at once;
// X's 96 bytes per slot and 8 channels fill whole lines with the next tile's)
#include "kernels/fft/convolution.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>

#include "kernels/fft/cmac.h"
#include "kernels/fft/fft_algorithm.h"
#include "kernels/fft/staging.h"
#include "kernels/fft/transforms.h"
#include "kernels/parallel.h"
#include "kernels/slot_pool.h"
#include "kernels/stage_timer.h"
#include "kernels/strides.h"

namespace nnjit::fft {
namespace {

constexpr size_t kAlignment = 64;
// Bytes of X + Y (kernel gradient: X + grad_output) per block of tiles. Forward: at least
// kBlockBudgetBytes, and up to twice the transformed kernel where half the last-level cache
// holds that (at most kLargestBlockBudgetBytes, to bound the workspace): every block streams
// the whole kernel through the multiply while X and Y pass once per tile whatever the block
// size (vgg.conv2_2 ft16x16, a 16 MiB kernel, went from six blocks of 12 tiles to one of 64:
// batch 1 1T 1.1x compute, 1.15x reuse, 2T 1.05-1.07x; bench/ab.sh). Kernel gradient: larger, as
// every block reads and writes the whole frequency-domain gradient sum (Cin x Cout x T^2
// floats) once, and the multiply-accumulate calls sum over the block's tiles; at least the
// size of that sum (gradient_block_budget).
constexpr size_t kBlockBudgetBytes = size_t{4} << 20;
constexpr size_t kGradientBlockBudgetBytes = size_t{16} << 20;
constexpr size_t kLargestBlockBudgetBytes = size_t{32} << 20;
constexpr size_t kLargestGradientBlockBudgetBytes = size_t{256} << 20;
constexpr size_t kMaxCmacDepth = 256;                  // channels per microkernel call

size_t forward_block_budget(const ConvolutionProblem& p, size_t tile, const Hardware& hw) {
  const size_t kernel = transformed_kernel_bytes(p, tile);
  return std::max(kBlockBudgetBytes, std::min({2 * kernel, hw.l3_bytes / 2, kLargestBlockBudgetBytes}));
}

size_t divide_round_up(size_t a, size_t b) { return (a + b - 1) / b; }
size_t round_up(size_t a, size_t b) { return divide_round_up(a, b) * b; }

// ---- geometry -------------------------------------------------------------------------

// Vectors of 8 floats per 8 channels of a transformed input tile in X: real parts,
// imaginary parts and their sums (the multiply-accumulate's B operand, cmac.h).
constexpr size_t kXParts = 3;

// Floats between the slots of the transformed kernel A: Cin x 2 x Cout, often a multiple of
// 4 KiB (64 -> 192 channels: 96 KiB). A kernel transform writes one line to every slot, all
// of them then in one L1 set; in the workspace (compute strategy, output, input gradient)
// the stride has one line more where that makes it an odd number of lines (Zen 5, compute
// strategy at batch 1, one thread: alexnet.conv2 ft16x16 1.7-2.4x, ft8x8 1.15x;
// resnet18.conv2 ft16x16 1.9x; vgg.conv2_2 ft16x16 1.15x). The caller's precomputed kernel
// keeps the exact stride: there the multiply's 4 KiB panels stay page-aligned (one line
// more cost reuse about 4 %), and its size is exactly Cout x Cin x T^2 floats.
size_t kernel_slot_stride(const ConvolutionProblem& p, size_t cin, size_t cout) {
  const bool precomputed = p.strategy == nnp_convolution_transform_strategy_precompute ||
                           p.strategy == nnp_convolution_transform_strategy_reuse;
  return precomputed ? cin * 2 * cout : odd_line_stride(cin * 2 * cout);
}

struct Geometry {
  size_t tile, slots;
  size_t cin, cout;  // channels of the transformed input and of the result (roles)
  size_t cin_pad, cout_pad;
  size_t images;
  size_t in_h, in_w;  // the image the input transform reads
  ptrdiff_t pad_top, pad_left;
  size_t kh, kw;
  size_t out_h, out_w;  // the grid of outputs the tiles cover
  size_t ph, pw;        // outputs per tile
  size_t tiles_y, tiles_x, tiles;
  size_t block;
  bool flip;  // input gradient: kernel turned 180 degrees, channel roles swapped
  bool private_blocks;  // forward, several blocks and threads: each thread runs whole blocks
                        // through the three stages in its own X and Y
  size_t kernel_slot_stride;  // floats between the slots of the transformed kernel A (below)

  size_t tiles_per_image() const { return tiles_y * tiles_x; }
  size_t cin_blocks() const { return cin_pad / kLanes; }
  size_t cout_blocks() const { return cout_pad / kLanes; }
  // Result channels in block ob of 8 (the last may be partial).
  size_t lanes(size_t ob) const { return std::min(kLanes, cout - ob * kLanes); }
  // Float strides of the block buffers, an odd number of lines: a transform writes (or
  // reads) one line per slot, and with a power-of-two stride all its lines fall into one L1
  // set (resnet18.conv2 ft16x16, 128 slots 8 KiB apart: 1.2-1.3x at batch 1 on one thread
  // with one line more; vgg.conv2_2 ft16x16 1.08-1.12x).
  size_t x_slot_stride() const { return odd_line_stride(block * kXParts * cin_pad); }
  size_t y_slot_stride() const { return odd_line_stride(block * 2 * cout_pad); }
  size_t x_floats() const { return slots * x_slot_stride(); }
  size_t y_floats() const { return slots * y_slot_stride(); }
};

// The kernel gradient's frequency-domain sum: per slot Cin x 2 x Cout (padded) floats, the
// slots an odd number of lines apart. The final inverse transform reads one line per slot,
// and with the plain stride (a multiple of 4 KiB for Cout a multiple of 64: 2 MiB at 512
// channels) all 144 lines of a 16x16 transform fell into one L1 set.
size_t gradient_sum_slot_stride(const Geometry& g) { return odd_line_stride(g.cin * 2 * g.cout_pad); }
size_t gradient_sum_floats(const Geometry& g) { return g.slots * gradient_sum_slot_stride(g); }
// Where slot `slot`, input channel i, block ob of 8 result channels starts in the sum.
size_t gradient_sum_offset(const Geometry& g, size_t slot, size_t i, size_t ob) {
  return slot * gradient_sum_slot_stride(g) + i * 2 * g.cout_pad + ob * 2 * kLanes;
}

// The kernel gradient's block budget: every block reads and writes the whole sum once, so a
// block holds at least as much as the sum (up to kLargestGradientBlockBudgetBytes; the
// workspace is then at most about twice the sum). With the final transform's prefetch
// (run_kernel_gradient), Zen 5, batch 16, bench/ab.sh: vgg.conv4_2 ft16x16 (a 256 MiB sum)
// 1.55x one thread / 1.57x two, vgg.conv5_2 1.72x, vgg.conv3_2 1.09x; vgg.conv5_2 ft8x8
// 1.08x; resnet18.conv2 and alexnet.conv2 (sums under 16 MiB) unchanged.
size_t gradient_block_budget(const Geometry& g) {
  return std::clamp(gradient_sum_floats(g) * sizeof(float), kGradientBlockBudgetBytes,
                    kLargestGradientBlockBudgetBytes);
}

std::atomic<size_t> g_block_budget{0};  // tests: 0 = the defaults above

// Tiles a thread's block must have at least for one block of tiles to be split between
// the threads (see geometry).
constexpr size_t kMinPrivateBlockTiles = 8;

size_t choose_block(size_t tiles, size_t bytes_per_tile, size_t columns, size_t default_budget) {
  const size_t override_budget = g_block_budget.load(std::memory_order_relaxed);
  const size_t budget = override_budget != 0 ? override_budget : default_budget;
  size_t block = std::max<size_t>(1, budget / bytes_per_tile);
  if (block >= columns) block -= block % columns;  // whole microkernel calls
  return std::min(block, tiles);
}

Geometry geometry(const ConvolutionProblem& p, size_t tile, const Hardware& hw, size_t threads) {
  Geometry g{};
  g.tile = tile;
  g.slots = slot_count(tile);
  g.kh = p.kernel_size.height;
  g.kw = p.kernel_size.width;
  g.images = p.batch_size;
  const nnp_size out = p.output_size();
  if (p.operation == ConvolutionOperation::input_gradient) {
    g.flip = true;
    g.cin = p.output_channels;
    g.cout = p.input_channels;
    g.in_h = out.height;
    g.in_w = out.width;
    g.pad_top = static_cast<ptrdiff_t>(g.kh - 1 - p.padding.top);
    g.pad_left = static_cast<ptrdiff_t>(g.kw - 1 - p.padding.left);
    g.out_h = p.input_size.height;
    g.out_w = p.input_size.width;
  } else {
    g.cin = p.input_channels;
    g.cout = p.output_channels;
    g.in_h = p.input_size.height;
    g.in_w = p.input_size.width;
    g.pad_top = static_cast<ptrdiff_t>(p.padding.top);
    g.pad_left = static_cast<ptrdiff_t>(p.padding.left);
    g.out_h = out.height;
    g.out_w = out.width;
  }
  g.cin_pad = round_up(g.cin, kLanes);
  g.cout_pad = round_up(g.cout, kLanes);
  g.kernel_slot_stride = kernel_slot_stride(p, g.cin, g.cout);
  g.ph = tile - g.kh + 1;
  g.pw = tile - g.kw + 1;
  g.tiles_y = divide_round_up(g.out_h, g.ph);
  g.tiles_x = divide_round_up(g.out_w, g.pw);
  g.tiles = g.images * g.tiles_per_image();
  const bool kernel_gradient = p.operation == ConvolutionOperation::kernel_gradient;
  g.block = choose_block(g.tiles, g.slots * (kXParts * g.cin_pad + 2 * g.cout_pad) * sizeof(float), kCmacPairedColumns,
                         kernel_gradient ? gradient_block_budget(g) : forward_block_budget(p, tile, hw));
  if (!kernel_gradient && g.tiles > g.block) {
    // Forward, several blocks: as many as the budget needs (a multiple of the threads, which
    // run them as private blocks), all of about the same size. (The budget's block alone
    // left 24 + 1 tiles of a 5x5 layer at 56x56 with ft16x16, the second thread nearly idle.)
    const size_t blocks = round_up(divide_round_up(g.tiles, g.block), std::max<size_t>(threads, 1));
    g.block = divide_round_up(g.tiles, blocks);
  }
  if (!kernel_gradient && threads > 1) {
    // Forward: one block of tiles with the kernel precomputed (reuse) is split into a block
    // per thread where each gets enough tiles; the fused kernel transform of the compute
    // strategy needs all tiles in one block (it transforms each kernel panel once).
    if (g.tiles <= g.block && p.strategy == nnp_convolution_transform_strategy_reuse &&
        g.tiles >= threads * kMinPrivateBlockTiles)
      g.block = divide_round_up(g.tiles, threads);
    g.private_blocks = g.tiles > g.block;
  }
  return g;
}

// 8-column chunks of a tile row of `columns`.
size_t chunks(size_t columns) { return divide_round_up(columns, kLanes); }

struct TilePosition {
  size_t image, ty, tx;
};

TilePosition position(const Geometry& g, size_t t) {
  const size_t per_image = g.tiles_per_image();
  return {t / per_image, t % per_image / g.tiles_x, t % g.tiles_x};
}

size_t kernel_floats(const Geometry& g) { return g.slots * g.kernel_slot_stride; }

// ---- kernel transform ------------------------------------------------------------------

// Transformed kernel: per slot, one panel per block of 8 result channels ro (the last may
// be partial, L < 8 lanes), and in it per transformed input channel ri the L real parts
// then the L imaginary parts: A[slot][ro / 8][ri][re, im][L], slots kernel_slot_stride
// floats apart; each multiply-accumulate call streams one contiguous panel.
size_t kernel_panel_offset(const Geometry& g, size_t ob) { return ob * kLanes * 2 * g.cin; }

// The kernel transform (conjugated, so that the multiply-accumulate computes correlations)
// of one transformed input channel ri for the result channels of block ob: L real parts
// then L imaginary parts at row + slot * slot_stride floats, L = the block's lanes.
// `stager` (chunks of 8 covering the kernel width) copies the forward kernel's taps of 8
// output channels: a kh x kw "image" per channel, channels cin * kh * kw floats apart.
void transform_kernel_panel(const Geometry& g, const ForwardTransform& transform, const TileStager& stager,
                            const float* kernel, size_t ri, size_t ob, float* row, size_t slot_stride) {
  const size_t taps = g.kh * g.kw;
  const size_t lanes = g.lanes(ob);
  alignas(64) float staged[kMaxTile * kMaxTile * kLanes];
  size_t staged_row = g.kw * kLanes;  // floats per kernel row in `staged`
  if (!g.flip) {
    // kernel[ro][ri] for ro = 8 ob + lane; rows padded to whole chunks of 8 columns.
    staged_row = (g.kw + kLanes - 1) / kLanes * kLanes * kLanes;
    stager(kernel + (ob * kLanes * g.cin + ri) * taps, g.kh, g.kw, lanes, 0, 0, g.kh, g.kw, staged, g.cin * taps);
  } else {
    // Input gradient: kernel[ri][ro] turned 180 degrees.
    std::memset(staged, 0, taps * kLanes * sizeof(float));
    for (size_t lane = 0; lane < lanes; ++lane) {
      const float* w = kernel + (ri * g.cout + ob * kLanes + lane) * taps;
      for (size_t tap = 0; tap < taps; ++tap) staged[tap * kLanes + lane] = w[taps - 1 - tap];
    }
  }
  if (lanes == kLanes) {
    transform(staged, staged_row * sizeof(float), row, slot_stride * sizeof(float), kLanes * sizeof(float));
    return;
  }
  alignas(64) float spectrum[kMaxTile * kMaxTile * kLanes];
  transform(staged, staged_row * sizeof(float), spectrum, 2 * kLanes * sizeof(float), kLanes * sizeof(float));
  for (size_t slot = 0; slot < g.slots; ++slot) {
    float* dst = row + slot * slot_stride;
    std::memcpy(dst, spectrum + slot * 2 * kLanes, lanes * sizeof(float));
    std::memcpy(dst + lanes, spectrum + slot * 2 * kLanes + kLanes, lanes * sizeof(float));
  }
}

ForwardTransform kernel_transform_for(const Geometry& g, Isa isa) {
  return ForwardTransform({static_cast<uint8_t>(g.tile), static_cast<uint8_t>(g.kh), static_cast<uint8_t>(g.kw), true},
                          isa);
}

// The stager of kernel taps (see transform_kernel_panel).
TileStager kernel_stager(const Geometry& g, Isa isa) { return TileStager((g.kw + kLanes - 1) / kLanes, isa); }

void transform_kernels(const Geometry& g, const float* kernel, float* a, const ExecutionContext& context) {
  const ForwardTransform transform = kernel_transform_for(g, context.hardware->isa);
  const TileStager stager = kernel_stager(g, context.hardware->isa);
  parallel_for(context.threadpool, g.cin * g.cout_blocks(), [&](size_t task) {
    // Input channels inner: consecutive transforms fill consecutive lines of every slot.
    const size_t ob = task / g.cin, ri = task % g.cin;
    transform_kernel_panel(g, transform, stager, kernel, ri, ob, a + kernel_panel_offset(g, ob) + ri * 2 * g.lanes(ob),
                           g.kernel_slot_stride);
  });
}

// Compute strategy with all tiles in one block and small kernel panels: each task transforms
// the kernel panels of one block of 8 result channels (every input channel, every slot) into
// its own scratch buffer, where they stay in L2, and multiplies them at once; the whole
// transformed kernel (Cout x Cin x T^2 floats) is never written out. Every task rereads all
// of X: only where X and a panel fit 3/4 of the L2 (Xeon, 2 MiB L2, against transforming the
// whole kernel first: resnet18.conv2, X 1.5 MiB (ft16x16) / 2.4 MiB (ft8x8), 1.25x / 1.10x
// faster unfused on one thread, ft16x16 1.41x on two; alexnet.conv2, X 0.9 / 1.2 MiB, 1.1x
// faster fused; both measured before the slot strides below had their odd line).
constexpr size_t kFusedPanelBytes = size_t{640} << 10;  // 64 input channels at ft16x16: 520 KiB
// A fused panel's slot stride (L lanes): an odd number of lines, like A's in the workspace
// (with 64 input channels 4 KiB; padded, alexnet.conv2 ft16x16 fused about 1.5x faster on
// Zen 5).
size_t fused_slot_floats(const Geometry& g, size_t lanes) { return odd_line_stride(g.cin * 2 * lanes); }
size_t fused_panel_bytes(const Geometry& g) { return round_up(g.slots * fused_slot_floats(g, kLanes) * sizeof(float), kAlignment); }
bool fused_kernel_transform(const ConvolutionProblem& p, const Geometry& g, const Hardware& hw) {
  return p.strategy == nnp_convolution_transform_strategy_compute && g.tiles <= g.block &&
         fused_panel_bytes(g) <= kFusedPanelBytes &&
         g.x_floats() * sizeof(float) + fused_panel_bytes(g) <= hw.l2_bytes * 3 / 4;
}

size_t scratch_count(size_t threads) { return std::clamp<size_t>(threads, 1, 64); }

// ---- stages -----------------------------------------------------------------------------

// X's element of a block of 8 channels and a tile (within a slot; floats).
size_t x_offset(const Geometry& g, size_t channel_block, size_t tile) {
  return (channel_block * g.block + tile) * kXParts * kLanes;
}

// Input transform of tiles [first, first + count) into X.
// X[slot][channel / 8][tile][re 8, im 8, re + im 8] (tiles g.block apart): a task writes
// 96 bytes per slot and the next task (the next tile) the 96 bytes after them, whole lines
// between them.
void transform_inputs(const Geometry& g, const TileStager& stage, const ForwardTransform& transform,
                      const float* input, size_t first, size_t count, float* x, pthreadpool_t pool) {
  parallel_for(pool, count * g.cin_blocks(), [&](size_t task) {
    // Tiles inner: neighbouring tiles share image rows (cache lines, prefetch streams).
    const size_t cb = task / count, t = task % count;
    const TilePosition tp = position(g, first + t);
    alignas(64) float staged[kMaxTile * kMaxTile * kLanes];
    const size_t lanes = std::min(kLanes, g.cin - cb * kLanes);
    if (t + 1 < count) {  // the next task's rows: too many streams for the hardware prefetchers
      const TilePosition next = position(g, first + t + 1);
      TileStager::prefetch(input + (next.image * g.cin + cb * kLanes) * g.in_h * g.in_w, g.in_h, g.in_w, lanes,
                           static_cast<ptrdiff_t>(next.ty * g.ph) - g.pad_top,
                           static_cast<ptrdiff_t>(next.tx * g.pw) - g.pad_left, g.tile, g.tile);
    }
    const float* image = input + (tp.image * g.cin + cb * kLanes) * g.in_h * g.in_w;
    stage(image, g.in_h, g.in_w, lanes,
          static_cast<ptrdiff_t>(tp.ty * g.ph) - g.pad_top, static_cast<ptrdiff_t>(tp.tx * g.pw) - g.pad_left, g.tile,
          g.tile, staged);
    transform(staged, g.tile * kLanes * sizeof(float), x + x_offset(g, cb, t), g.x_slot_stride() * sizeof(float),
              kLanes * sizeof(float));
  });
}

// Lane mask of a block of 8 rows of which `lanes` exist.
struct LaneMask {
  alignas(32) int32_t lanes[kLanes];
  explicit LaneMask(size_t valid) {
    for (size_t l = 0; l < kLanes; ++l) lanes[l] = l < valid ? -1 : 0;
  }
};

// Y = A * X for `count` tiles of the block, every slot. One task per slot; within it the
// input channels in chunks of at most 256 (`depth`), the tiles in groups small enough that
// a group's X chunk and one kernel panel chunk stay in L1 while the panels of all output
// channel blocks stream from L2 (the slot's kernel slice, Cout x Cin x 2 floats, fits L2).
// Every call also prefetches k lines of the next slot's kernel slice and X.
void multiply(const Geometry& g, const CmacSet& kernels, const float* a, const float* x, size_t count, float* y,
              pthreadpool_t pool) {
  const size_t depth_blocks = divide_round_up(g.cin, kMaxCmacDepth);
  const size_t depth = round_up(divide_round_up(g.cin, depth_blocks), kLanes);  // whole channel blocks
  constexpr size_t kL1Budget = 20 * 1024;  // bytes of X group + kernel panel chunk
  const size_t panel_bytes = depth * 2 * kLanes * sizeof(float), tile_bytes = depth * kXParts * sizeof(float);
  const size_t step = kernels.paired_columns;  // a multiple of kernels.columns
  const size_t group =
      std::max(step, (kL1Budget > panel_bytes ? (kL1Budget - panel_bytes) / tile_bytes : 0) / step * step);
  parallel_for(pool, g.slots, [&](size_t slot) {
    const bool pointwise = slot < 2;
    const float* x_slot = x + slot * g.x_slot_stride();
    // Prefetch stream: the next slot's kernel slice, then its X, one chunk of lines per call.
    const size_t next_slot = std::min(slot + 1, g.slots - 1);
    const char* next_a = reinterpret_cast<const char*>(a + next_slot * g.kernel_slot_stride);
    const char* next_x = reinterpret_cast<const char*>(x + next_slot * g.x_slot_stride());
    const size_t a_bytes = g.kernel_slot_stride * sizeof(float);
    const size_t x_bytes = count * kXParts * g.cin_pad * sizeof(float);
    size_t prefetched = 0;
    CmacArgs args;
    args.ldb_k = x_offset(g, 1, 0) * sizeof(float);  // per block of 8 channels
    args.ldb_n = x_offset(g, 0, 1) * sizeof(float);
    args.ldc_n = 2 * g.cout_pad * sizeof(float);
    for (size_t k0 = 0; k0 < g.cin; k0 += depth) {
      const size_t k = std::min(depth, g.cin - k0);
      for (size_t g0 = 0; g0 < count; g0 += group) {
        const size_t g1 = std::min(count, g0 + group);
        for (size_t ob = 0; ob < g.cout_blocks();) {
          const size_t lanes = g.lanes(ob);
          // Two whole blocks of output channels per call where the paired kernels exist.
          const bool pair = kernels.paired && (ob + 2) * kLanes <= g.cout;
          const LaneMask mask(lanes);
          args.lda = 2 * lanes * sizeof(float);
          args.a_im = lanes * sizeof(float);
          args.mask = mask.lanes;
          args.a = a + slot * g.kernel_slot_stride + kernel_panel_offset(g, ob) + k0 * 2 * lanes;
          args.a_pair = pair ? (kernel_panel_offset(g, ob + 1) - kernel_panel_offset(g, ob)) * sizeof(float) : 0;
          float* y_block = y + slot * g.y_slot_stride() + ob * 2 * kLanes;
          const size_t columns = pair ? kernels.paired_columns : kernels.columns;
          for (size_t t0 = g0; t0 < g1; t0 += columns) {
            const size_t nr = std::min(columns, g1 - t0);
            args.b = x_slot + x_offset(g, k0 / kLanes, t0);  // k0: a multiple of 8
            args.c = y_block + t0 * 2 * g.cout_pad;
            args.k = k;
            if (prefetched < a_bytes) args.prefetch = next_a + prefetched;
            else if (prefetched < a_bytes + x_bytes) args.prefetch = next_x + (prefetched - a_bytes);
            else args.prefetch = args.a;
            prefetched += k * 64;
            if (pair) kernels.get_paired(pointwise, k0 != 0, nr)(args);
            else kernels.get(pointwise, k0 != 0, lanes != kLanes, nr)(args);
          }
          ob += pair ? 2 : 1;
        }
      }
    }
  });
}

// Output transform of the block's tiles into the result image: per (tile, block of 8 result
// channels), inverted, scaled, biased, rectified and clipped at the image edge.
struct OutputStage {
  const Geometry& g;
  const InverseTransform& transform;
  const TileUnstager& unstage;
  const float* y;  // the block's Y
  size_t first, count;  // the block's tiles
  const float* bias;    // or null
  float* output;

  void tile(size_t t, size_t ob) const {
    const TilePosition tp = position(g, first + t);
    const size_t lanes = g.lanes(ob);
    alignas(32) float bias_lanes[kLanes] = {};
    if (bias != nullptr) std::memcpy(bias_lanes, bias + ob * kLanes, lanes * sizeof(float));
    alignas(64) float result[kMaxTile * kMaxTile * kLanes];
    transform(y + t * 2 * g.cout_pad + ob * 2 * kLanes, g.y_slot_stride() * sizeof(float), kLanes * sizeof(float),
              result, chunks(g.pw) * kLanes * kLanes * sizeof(float), bias_lanes);
    if (t + 1 < count) {
      const TilePosition next = position(g, first + t + 1);
      TileUnstager::prefetch(output + (next.image * g.cout + ob * kLanes) * g.out_h * g.out_w, g.ph, g.pw, lanes,
                             next.ty * g.ph, next.tx * g.pw, g.out_h, g.out_w);
    }
    float* image = output + (tp.image * g.cout + ob * kLanes) * g.out_h * g.out_w;
    unstage(result, g.ph, g.pw, lanes, tp.ty * g.ph, tp.tx * g.pw, g.out_h, g.out_w, image);
  }

  void run(pthreadpool_t pool) const {
    parallel_for(pool, count * g.cout_blocks(), [&](size_t task) { tile(task % count, task / count); });
  }
};

// ---- forward (output, inference, input gradient) ------------------------------------------

// Stages 2 and 3 by blocks of result channels, for a block of tiles that is all the tiles
// (batch 1): per task, one or two blocks of 8 result channels, every slot's product over
// all tiles, then the output transform of those channels for every tile. Their Y columns
// are then complete and still in this core's caches; with the stages apart, the output
// stage read half of Y from the other core (measured costly where the two cores share no
// cache: the 2-thread output transform of alexnet.conv2 ft16x16 took 1.5x its 1-thread time).
// The kernel panels are either the precomputed A (`a`) or, with `kernel` (the fused path,
// see fused_kernel_transform), transformed by the task into its scratch panels first: the
// whole transformed kernel is then never written out.
// Units of work over the blocks of 8 output channels: pairs of blocks first (unit u < pairs
// covers blocks 2u and 2u + 1, for the paired calls), then the blocks left over one by one.
struct BlockUnits {
  size_t pairs, count;
  BlockUnits(size_t blocks, size_t pairs) : pairs(pairs), count(blocks - pairs) {}
  bool paired(size_t unit) const { return unit < pairs; }
  size_t first_block(size_t unit) const { return paired(unit) ? 2 * unit : pairs + unit; }
};

// Two whole blocks share a task (and the paired zmm calls, 6 tile columns, A loaded once per
// k for 16 channels) where the paired kernels exist, scratch panels fit the budget and there
// are enough pairs to keep the threads busy; the bits are those of unpaired calls.
struct ChannelMajorStage {
  const Geometry& g;
  const CmacSet& kernels;
  const float* a;       // precomputed A, or null
  const float* kernel;  // the problem's kernel (a == null)
  float* scratch;       // per thread: two fused panels (a == null)

  bool pairs(size_t threads) const {
    const size_t pairs = g.cout / kLanes / 2;
    return kernels.paired && (a != nullptr || 2 * fused_panel_bytes(g) <= kFusedPanelBytes) && pairs >= 2 * threads;
  }

  void run(const float* x, size_t count, float* y, const OutputStage& outputs, const ExecutionContext& context) const {
    const ForwardTransform transform = kernel_transform_for(g, context.hardware->isa);
    const TileStager stager = kernel_stager(g, context.hardware->isa);
    const size_t threads = std::max<size_t>(1, pthreadpool_get_threads_count(context.threadpool));
    // Tasks: pairs of whole blocks first, then single blocks.
    const BlockUnits units(g.cout_blocks(), pairs(threads) ? g.cout / kLanes / 2 : 0);
    const size_t panel_floats = fused_panel_bytes(g) / sizeof(float);
    const size_t depth = round_up(divide_round_up(g.cin, divide_round_up(g.cin, kMaxCmacDepth)), kLanes);
    SlotPool slots(scratch_count(threads));
    std::atomic<int64_t> transform_ns{0}, output_ns{0};
    const auto start = std::chrono::steady_clock::now();
    parallel_for(context.threadpool, units.count, [&](size_t task) {
      const bool pair = units.paired(task);
      const size_t ob = units.first_block(task);
      const size_t lanes = g.lanes(ob);
      // Block ob's panel in slot 0, the slot stride, and block ob + 1's panel from there.
      const float* panel = a + kernel_panel_offset(g, ob);
      size_t slot_stride = g.kernel_slot_stride, pair_offset = kernel_panel_offset(g, ob + 1) - kernel_panel_offset(g, ob);
      const size_t slot_index = slots.acquire();
      if (a == nullptr) {
        float* own = scratch + slot_index * 2 * panel_floats;
        slot_stride = fused_slot_floats(g, lanes);
        pair_offset = panel_floats;
        const auto t0 = std::chrono::steady_clock::now();
        for (size_t b = 0; b < (pair ? 2u : 1u); ++b)
          for (size_t ri = 0; ri < g.cin; ++ri)
            transform_kernel_panel(g, transform, stager, kernel, ri, ob + b,
                                   own + b * panel_floats + ri * 2 * g.lanes(ob + b), slot_stride);
        transform_ns +=
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
        panel = own;
      }
      const LaneMask mask(lanes);
      CmacArgs args;
      args.lda = 2 * lanes * sizeof(float);
      args.a_im = lanes * sizeof(float);
      args.ldb_k = x_offset(g, 1, 0) * sizeof(float);
      args.ldb_n = x_offset(g, 0, 1) * sizeof(float);
      args.ldc_n = 2 * g.cout_pad * sizeof(float);
      args.mask = mask.lanes;
      args.a_pair = pair ? pair_offset * sizeof(float) : 0;
      const size_t columns = pair ? kernels.paired_columns : kernels.columns;
      for (size_t slot = 0; slot < g.slots; ++slot) {
        const float* x_slot = x + slot * g.x_slot_stride();
        float* y_block = y + slot * g.y_slot_stride() + ob * 2 * kLanes;
        // Prefetched by the first calls: the next slot's panels (k lines each).
        const float* next = panel + std::min(slot + 1, g.slots - 1) * slot_stride;
        size_t call = 0;
        for (size_t k0 = 0; k0 < g.cin; k0 += depth) {
          args.a = panel + slot * slot_stride + k0 * 2 * lanes;
          args.k = std::min(depth, g.cin - k0);
          for (size_t t0 = 0; t0 < count; t0 += columns, ++call) {
            const size_t nr = std::min(columns, count - t0);
            args.b = x_slot + x_offset(g, k0 / kLanes, t0);
            args.c = y_block + t0 * 2 * g.cout_pad;
            args.prefetch = call == 0 ? next + k0 * 2 * lanes
                            : call == 1 && pair ? next + pair_offset + k0 * 2 * lanes
                                                : x + std::min(slot + 1, g.slots - 1) * g.x_slot_stride();
            if (pair) kernels.get_paired(slot < 2, k0 != 0, nr)(args);
            else kernels.get(slot < 2, k0 != 0, lanes != kLanes, nr)(args);
          }
        }
      }
      slots.release(slot_index);
      const auto t1 = std::chrono::steady_clock::now();
      for (size_t b = 0; b < (pair ? 2u : 1u); ++b)
        for (size_t t = 0; t < count; ++t) outputs.tile(t, ob + b);
      output_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t1).count();
    });
    // The stages ran inside the same tasks: the kernel and output transforms' shares of the
    // wall time are their summed times spread over the threads.
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double transforms = std::min(wall, 1e-9 * double(transform_ns.load()) / double(threads));
    const double out = std::min(wall - transforms, 1e-9 * double(output_ns.load()) / double(threads));
    context.profile->kernel_transform += transforms;
    context.profile->output_transform += out;
    context.profile->block_multiplication += wall - transforms - out;
  }
};

// X and Y of one block, each 64-byte aligned.
size_t private_block_floats(const Geometry& g) {
  return round_up(g.x_floats(), kAlignment / sizeof(float)) + round_up(g.y_floats(), kAlignment / sizeof(float));
}

nnp_status run_forward(const ConvolutionProblem& p, const Geometry& g, const ConvolutionTensors& t,
                       const ExecutionContext& context) {
  const Isa isa = context.hardware->isa;
  auto* workspace = static_cast<float*>(context.workspace);
  const float* a = t.kernel;
  const bool fused = fused_kernel_transform(p, g, *context.hardware);
  float* scratch = nullptr;
  if (fused) {
    scratch = workspace;
    workspace += scratch_count(pthreadpool_get_threads_count(context.threadpool)) * 2 * fused_panel_bytes(g) / sizeof(float);
  } else if (p.strategy != nnp_convolution_transform_strategy_reuse) {
    StageTimer timer(context.profile->kernel_transform);
    transform_kernels(g, t.kernel, workspace, context);
    a = workspace;
    workspace += kernel_floats(g);
  }
  float* x = workspace;
  float* y = x + round_up(g.x_floats(), kAlignment / sizeof(float));

  const ForwardTransform input_transform({static_cast<uint8_t>(g.tile), static_cast<uint8_t>(g.tile),
                                          static_cast<uint8_t>(g.tile), false, true},
                                         isa);
  const bool relu = p.relu && p.operation != ConvolutionOperation::input_gradient;
  const InverseTransform output_transform(
      {static_cast<uint8_t>(g.tile), static_cast<uint8_t>(g.ph), static_cast<uint8_t>(g.pw), true, relu}, isa);
  const CmacSet kernels(isa, true);
  const TileStager stage(chunks(g.tile), isa);
  const TileUnstager unstage(chunks(g.pw), isa);
  const float* bias = p.operation == ConvolutionOperation::input_gradient ? nullptr : t.bias;

  if (g.private_blocks) {
    const size_t threads = pthreadpool_get_threads_count(context.threadpool);
    // Each task: one block of tiles through the three stages on its thread's own X and Y.
    SlotPool slots(scratch_count(threads));
    StageShares<3> shares({&context.profile->input_transform, &context.profile->block_multiplication,
                           &context.profile->output_transform});
    parallel_for(context.threadpool, divide_round_up(g.tiles, g.block), [&](size_t block) {
      const size_t slot = slots.acquire();
      float* own_x = x + slot * private_block_floats(g);
      float* own_y = own_x + round_up(g.x_floats(), kAlignment / sizeof(float));
      const size_t first = block * g.block, count = std::min(g.block, g.tiles - first);
      const auto t0 = std::chrono::steady_clock::now();
      transform_inputs(g, stage, input_transform, t.input, first, count, own_x, nullptr);
      const auto t1 = std::chrono::steady_clock::now();
      multiply(g, kernels, a, own_x, count, own_y, nullptr);
      const auto t2 = std::chrono::steady_clock::now();
      const OutputStage outputs{g, output_transform, unstage, own_y, first, count, bias, t.output};
      outputs.run(nullptr);
      shares.add(0, t1 - t0);
      shares.add(1, t2 - t1);
      shares.add(2, std::chrono::steady_clock::now() - t2);
      slots.release(slot);
    });
    return nnp_status_success;
  }
  for (size_t first = 0; first < g.tiles; first += g.block) {
    const size_t count = std::min(g.block, g.tiles - first);
    {
      StageTimer timer(context.profile->input_transform);
      transform_inputs(g, stage, input_transform, t.input, first, count, x, context.threadpool);
    }
    const OutputStage outputs{g, output_transform, unstage, y, first, count, bias, t.output};
    // One block: stages 2 and 3 by channels where the kernel transform is fused into them or
    // several threads share the block on cores without a shared cache. Otherwise slot by slot:
    // a slot's X stays in L1 and its kernel slice in L2, where by channels every task rereads
    // all of X (1.5 MiB for resnet18.conv2 ft16x16), and the output stage reads Y through
    // the shared cache. Reuse, one thread (Xeon, medians of 4 runs each): resnet18.conv2
    // 1.06x (ft16x16) / 1.08x (ft8x8), alexnet.conv2 1.06x / 1.03x, vgg.conv2_2 0.99x / 1.02x;
    // two threads, ft16x16: alexnet.conv2 1.0-1.2x, 5x5 64 -> 128 at 28x28 1.2-1.3x.
    const bool shared_block = pthreadpool_get_threads_count(context.threadpool) > 1;
    const bool by_channels = fused || (shared_block && !context.hardware->shared_last_level_cache);
    if (count == g.tiles && by_channels) {
      const ChannelMajorStage stage{g, kernels, fused ? nullptr : a, t.kernel, scratch};
      stage.run(x, count, y, outputs, context);
      continue;
    }
    {
      StageTimer timer(context.profile->block_multiplication);
      multiply(g, kernels, a, x, count, y, context.threadpool);
    }
    {
      StageTimer timer(context.profile->output_transform);
      outputs.run(context.threadpool);
    }
  }
  return nnp_status_success;
}

size_t forward_workspace_bytes(const ConvolutionProblem& p, const Geometry& g, const Hardware& hw, size_t threads) {
  size_t kernel = p.strategy == nnp_convolution_transform_strategy_reuse ? 0 : kernel_floats(g) * sizeof(float);
  if (fused_kernel_transform(p, g, hw)) kernel = scratch_count(threads) * 2 * fused_panel_bytes(g);  // room for a pair
  const size_t copies = g.private_blocks ? scratch_count(threads) : 1;
  return kernel + copies * private_block_floats(g) * sizeof(float);
}

// ---- kernel gradient ---------------------------------------------------------------------
// Roles: cin = input channels (X), cout = output channels (G, the grad_output tiles).

// Columns (input channels) per paired call of the kernel gradient's multiply-accumulate: a
// block of 8 as 4 + 4 (6 + 2 leaves the second call 6 accumulator chains, too few to hide
// the FMA latency). Zen 5, batch 16, against unpaired 3-column calls: alexnet.conv2 1.5x
// (1.1-1.17x of it from 4 + 4 over 6 + 2) on one thread and 1.4x on two; vgg.conv2_2 1.4x
// and 1.3x; vgg.conv1_2 1.1-1.4x and 1.25x.
constexpr size_t kGradientPairedColumns = 4;

size_t kernel_gradient_workspace_bytes(const Geometry& g) {
  return round_up(gradient_sum_floats(g) * sizeof(float), kAlignment) +
         round_up(g.x_floats() * sizeof(float), kAlignment) + round_up(g.y_floats() * sizeof(float), kAlignment);
}

// Whether kernel tap (ky, kx) meets the input at any output position. Taps that only
// ever see padding have an exactly zero gradient; the transforms would leave rounding
// noise there, so they are written as zeros.
bool tap_sees_input(const Geometry& g, size_t ky, size_t kx) {
  auto axis = [](size_t k, ptrdiff_t pad, size_t outputs, size_t inputs) {
    // input index o + k - pad for o in [0, outputs) must meet [0, inputs).
    const ptrdiff_t first = static_cast<ptrdiff_t>(k) - pad;
    const ptrdiff_t last = first + static_cast<ptrdiff_t>(outputs) - 1;
    return last >= 0 && first < static_cast<ptrdiff_t>(inputs);
  };
  return axis(ky, g.pad_top, g.out_h, g.in_h) && axis(kx, g.pad_left, g.out_w, g.in_w);
}

nnp_status run_kernel_gradient(const Geometry& g, const ConvolutionTensors& t, const ExecutionContext& context) {
  const Isa isa = context.hardware->isa;
  float* sum = static_cast<float*>(context.workspace);
  float* x = sum + round_up(gradient_sum_floats(g), kAlignment / sizeof(float));
  float* gt = x + round_up(g.x_floats(), kAlignment / sizeof(float));
  const float* grad_output = t.kernel;

  const ForwardTransform input_transform({static_cast<uint8_t>(g.tile), static_cast<uint8_t>(g.tile),
                                          static_cast<uint8_t>(g.tile), false, true},
                                         isa);
  const ForwardTransform gradient_transform(
      {static_cast<uint8_t>(g.tile), static_cast<uint8_t>(g.ph), static_cast<uint8_t>(g.pw), true}, isa);
  const InverseTransform kernel_transform(
      {static_cast<uint8_t>(g.tile), static_cast<uint8_t>(g.kh), static_cast<uint8_t>(g.kw), false, false}, isa);
  const CmacSet kernels(isa, false);
  const TileStager stage(chunks(g.tile), isa);
  const TileStager stage_gradient(chunks(g.pw), isa);

  for (size_t first = 0; first < g.tiles; first += g.block) {
    const size_t count = std::min(g.block, g.tiles - first);
    {
      StageTimer timer(context.profile->input_transform);
      transform_inputs(g, stage, input_transform, t.input, first, count, x, context.threadpool);
    }
    {
      StageTimer timer(context.profile->output_transform);
      parallel_for(context.threadpool, count * g.cout_blocks(), [&](size_t task) {
        const size_t ob = task / count, tl = task % count;
        const TilePosition tp = position(g, first + tl);
        alignas(64) float staged[kMaxTile * kMaxTile * kLanes];
        const float* image = grad_output + (tp.image * g.cout + ob * kLanes) * g.out_h * g.out_w;
        stage_gradient(image, g.out_h, g.out_w, g.lanes(ob),
                       static_cast<ptrdiff_t>(tp.ty * g.ph), static_cast<ptrdiff_t>(tp.tx * g.pw), g.ph, g.pw, staged);
        gradient_transform(staged, chunks(g.pw) * kLanes * kLanes * sizeof(float),
                           gt + (ob * g.block + tl) * 2 * kLanes, g.y_slot_stride() * sizeof(float),
                           kLanes * sizeof(float));
      });
    }
    {
      StageTimer timer(context.profile->block_multiplication);
      const bool accumulate = first != 0;
      // Per slot: pairs of output channel blocks (paired zmm calls, A loaded once per tile for
      // 16 channels, where the paired kernels exist; the bits of unpaired calls), then the block
      // left over. A block's grad_output panel: block tiles of one line each.
      const BlockUnits units(g.cout_blocks(), kernels.paired ? g.cout_blocks() / 2 : 0);
      const size_t panel_floats = g.block * 2 * kLanes;
      auto panel = [&](size_t slot, size_t ob) { return gt + slot * g.y_slot_stride() + ob * panel_floats; };
      parallel_for(context.threadpool, g.slots * units.count, [&](size_t task) {
        const size_t slot = task / units.count, unit = task % units.count;
        const bool pair = units.paired(unit);
        const size_t ob = units.first_block(unit);
        // A: this block (or pair of blocks) of 8 output channels over the tiles; B: 8 input
        // channels over the tiles; both one 64-byte line per tile.
        CmacArgs args;
        args.a = panel(slot, ob);
        args.lda = 2 * kLanes * sizeof(float);
        args.a_im = kLanes * sizeof(float);
        args.a_pair = pair ? panel_floats * sizeof(float) : 0;
        args.ldb_k = x_offset(g, 0, 1) * sizeof(float);
        args.ldb_n = sizeof(float);
        args.ldc_n = gradient_sum_offset(g, 0, 1, 0) * sizeof(float);  // per input channel
        args.k = count;
        args.mask = nullptr;
        // The next unit's panel (the same slot's, or the next slot's first).
        const size_t next_ob = ob + (pair ? 2 : 1);
        args.prefetch = next_ob < g.cout_blocks() ? panel(slot, next_ob) : panel(std::min(slot + 1, g.slots - 1), 0);
        // Columns (input channels) in groups within one block of 8, where they are adjacent.
        const size_t columns = pair ? std::min(kGradientPairedColumns, kernels.paired_columns) : kernels.columns;
        for (size_t i0 = 0; i0 < g.cin;) {
          const size_t block_end = std::min(g.cin, (i0 / kLanes + 1) * kLanes);
          const size_t nr = std::min(columns, block_end - i0);
          args.b = x + slot * g.x_slot_stride() + x_offset(g, i0 / kLanes, 0) + i0 % kLanes;
          args.c = sum + gradient_sum_offset(g, slot, i0, ob);
          if (pair) kernels.get_paired(slot < 2, accumulate, nr)(args);
          else kernels.get(slot < 2, accumulate, false, nr)(args);
          i0 += nr;
        }
      });
    }
  }
  StageTimer timer(context.profile->kernel_transform);
  const size_t taps = g.kh * g.kw;
  const size_t tasks = g.cin * g.cout_blocks(), sum_slot_stride = gradient_sum_slot_stride(g);
  // Task (input channel i, block ob of 8 result channels): its slot 0 in the sum.
  auto sum_column = [&](size_t task) {
    return sum + gradient_sum_offset(g, 0, task / g.cout_blocks(), task % g.cout_blocks());
  };
  parallel_for(context.threadpool, tasks, [&](size_t task) {
    const size_t i = task / g.cout_blocks(), ob = task % g.cout_blocks();
    alignas(64) float result[kMaxTile * kMaxTile * kLanes];
    alignas(32) const float no_bias[kLanes] = {};
    // The next task's lines, one per slot in as many pages: too many streams for the
    // hardware prefetchers (vgg.conv5_2 ft16x16 at batch 16, one thread: this stage 1.7x).
    if (task + 1 < tasks) {
      const float* next = sum_column(task + 1);
      for (size_t s = 0; s < g.slots; ++s) __builtin_prefetch(next + s * sum_slot_stride);
    }
    kernel_transform(sum_column(task), sum_slot_stride * sizeof(float),
                     kLanes * sizeof(float), result, g.kw * kLanes * sizeof(float), no_bias);
    const size_t lanes = g.lanes(ob);
    for (size_t lane = 0; lane < lanes; ++lane) {
      float* w = t.output + ((ob * kLanes + lane) * g.cin + i) * taps;
      for (size_t tap = 0; tap < taps; ++tap)
        w[tap] = tap_sees_input(g, tap / g.kw, tap % g.kw) ? result[tap * kLanes + lane] : 0.0f;
    }
  });
  return nnp_status_success;
}

}  // namespace

void set_block_budget_for_testing(size_t bytes) { g_block_budget.store(bytes, std::memory_order_relaxed); }

bool serves(const ConvolutionProblem& p, size_t tile) {
  return p.kernel_size.width <= tile && p.kernel_size.height <= tile && p.kernel_size.width >= 1 &&
         p.kernel_size.height >= 1 && p.stride.width == 1 && p.stride.height == 1;
}

size_t workspace_bytes(const ConvolutionProblem& p, size_t tile, const Hardware& hw, size_t threads) {
  const Geometry g = geometry(p, tile, hw, threads);
  if (p.operation == ConvolutionOperation::kernel_gradient) return kernel_gradient_workspace_bytes(g);
  return forward_workspace_bytes(p, g, hw, threads);
}

size_t transformed_kernel_bytes(const ConvolutionProblem& p, size_t tile) {
  return p.input_channels * p.output_channels * tile * tile * sizeof(float);
}

void transform_kernel(const ConvolutionProblem& p, size_t tile, const float* kernel, void* transformed,
                      const ExecutionContext& context) {
  StageTimer timer(context.profile->kernel_transform);
  transform_kernels(geometry(p, tile, *context.hardware, 1), kernel, static_cast<float*>(transformed), context);
}

nnp_status run(const ConvolutionProblem& p, size_t tile, const ConvolutionTensors& t,
               const ExecutionContext& context) {
  const Geometry g = geometry(p, tile, *context.hardware, pthreadpool_get_threads_count(context.threadpool));
  if (p.operation == ConvolutionOperation::kernel_gradient) return run_kernel_gradient(g, t, context);
  return run_forward(p, g, t, context);
}

}  // namespace nnjit::fft
