#include "kernels/gemm/kernel_sets.h"

#include <cstdlib>
#include <memory>

#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemv.h"
#include "kernels/gemm/im2col.h"
#include "kernels/thread_scratch.h"
#include "kernels/gemm/pack.h"
#include "kernels/parallel.h"
#include "kernels/stage_timer.h"

namespace nnjit::gemm {
namespace {

constexpr size_t kAlignment = 64;
size_t round_up(size_t a, size_t b) { return (a + b - 1) / b * b; }

// ---- convolution ---------------------------------------------------------------

// The GEMM view of a convolution: M = Cout, K = Cin*kh*kw, N = OH*OW.
struct ConvolutionGemm {
  size_t m, n, k;
  explicit ConvolutionGemm(const ConvolutionProblem& p)
      : m(p.output_channels),
        n(p.output_size().width * p.output_size().height),
        k(p.input_channels * p.kernel_size.width * p.kernel_size.height) {}
};

bool serves(const ConvolutionProblem& p, const Hardware&) {
  return p.operation == ConvolutionOperation::output || p.operation == ConvolutionOperation::inference;
}

size_t packed_kernel_bytes(const ConvolutionProblem& p, const Hardware& hw) {
  const ConvolutionGemm g(p);
  return round_up(prepacked_a_floats(g.m, g.k, microkernel_tile(hw.isa, g.m).mr) * sizeof(float), kAlignment);
}

// Compute reads the kernel in place (no per-call packing); reuse reads the packed
// kernel that precompute wrote.
// Reused kernels were packed for a tile chosen by M alone; otherwise N counts too.
TileShape convolution_tile(const ConvolutionProblem& p, const ConvolutionGemm& g, const Hardware& hw) {
  return p.strategy == nnp_convolution_transform_strategy_compute ? microkernel_tile(hw.isa, g.m, g.n)
                                                                  : microkernel_tile(hw.isa, g.m);
}

size_t convolution_workspace_bytes(const ConvolutionProblem& p, const Hardware& hw, size_t threads) {
  const ConvolutionGemm g(p);
  return gemm_workspace_bytes(plan_gemm(g.m, g.n, g.k, true, threads, hw, convolution_tile(p, g, hw)));
}

void pack_kernel(const ConvolutionProblem& p, const float* kernel, void* packed,
                 const ExecutionContext& context) {
  StageTimer timer(context.profile->kernel_transform);
  const ConvolutionGemm g(p);
  const TileShape tile = microkernel_tile(context.hardware->isa, g.m);
  const RowMajorA a{kernel, g.m, g.k, g.k, tile.mr};
  pack_a_ahead(a, gemm_kc(g.k, tile, *context.hardware), static_cast<float*>(packed));
}

nnp_status run_convolution(const ConvolutionProblem& p, const ConvolutionTensors& t,
                           const ExecutionContext& context) {
  StageTimer timer(context.profile->block_multiplication);
  const Hardware& hw = *context.hardware;
  const ConvolutionGemm g(p);
  const size_t threads = pthreadpool_get_threads_count(context.threadpool);
  const GemmPlan plan = plan_gemm(g.m, g.n, g.k, true, threads, hw, convolution_tile(p, g, hw));
  const TileShape tile = plan.tile;

  const bool reuse = p.strategy == nnp_convolution_transform_strategy_reuse;
  const RowMajorA in_place{t.kernel, g.m, g.k, g.k, tile.mr};
  const PrepackedA prepacked{t.kernel, g.m, g.k, plan.kc, tile.mr};
  const PanelSource a = reuse ? prepacked.source() : in_place.source();

  const nnp_size out = p.output_size();
  const bool pointwise = p.kernel_size.width == 1 && p.kernel_size.height == 1 && p.stride.width == 1 &&
                         p.stride.height == 1;  // padding is necessarily 0 for a 1x1 kernel
  const size_t image_in = p.input_channels * p.input_size.height * p.input_size.width;
  for (size_t image = 0; image < p.batch_size; ++image) {
    const float* input = t.input + image * image_in;
    // A 1x1 stride-1 convolution's patch matrix is the image itself: direct GEMM on it.
    const RowMajorB direct{input, g.k, g.n, g.n, tile.nr};
    const Im2colB patches{input, p.input_channels, p.input_size.height, p.input_size.width,
                          p.kernel_size.height, p.kernel_size.width, p.stride.height, p.stride.width,
                          p.padding.top, p.padding.left, out.width, g.n, tile.nr};
    GemmProblem problem{};
    problem.m = g.m;
    problem.n = g.n;
    problem.k = g.k;
    problem.a = a;
    problem.b = pointwise ? direct.source() : patches.source(hw.isa);
    problem.a_rows = reuse ? nullptr : t.kernel;
    problem.a_stride = g.k;
    problem.c = t.output + image * g.m * g.n;
    problem.ldc = g.n;
    problem.bias = t.bias;
    problem.relu = p.relu;
    problem.a_prepacked = true;
    run_gemm(problem, plan, context.workspace, context.threadpool);
  }
  return nnp_status_success;
}

// ---- fully connected -------------------------------------------------------------

// Scratch for fully-connected GEMMs, which get no workspace from the API.
struct FullyConnectedScratch;

// Below this batch, streaming the weights once per row beats packing them.
constexpr size_t kGemmMinBatch = 4;

// output[b][o] = sum_i input[b][i] * kernel[o][i] as a GEMM with M = output
// channels, N = batch (rounded up to whole tiles), K = input channels: the weights are
// read in place, row by row, exactly once per call, and only the small input is
// packed. C comes out as [o][b] and is transposed into the output.
void fully_connected_output(size_t batch_size, size_t input_channels, size_t output_channels,
                            const float* input, const float* kernel, float* output,
                            const ExecutionContext& context) {
  StageTimer timer(context.profile->block_multiplication);
  const Hardware& hw = *context.hardware;
  const TileShape tile = microkernel_tile(hw.isa, output_channels, batch_size);
  const size_t n = round_up(batch_size, tile.nr);
  const size_t threads = pthreadpool_get_threads_count(context.threadpool);
  const GemmPlan plan = plan_gemm(output_channels, n, input_channels, true, threads, hw, tile);
  const size_t c_bytes = round_up(output_channels * n * sizeof(float), kAlignment);
  void* scratch = batch_size < kGemmMinBatch ? nullptr : thread_scratch<FullyConnectedScratch>(c_bytes + gemm_workspace_bytes(plan));
  if (scratch == nullptr) {  // small batch, or no memory for packing: stream the weights
    for (size_t b = 0; b < batch_size; ++b)
      gemv(output_channels, input_channels, kernel, false, input + b * input_channels,
           output + b * output_channels, context.threadpool, hw);
    return;
  }
  float* c = static_cast<float*>(scratch);
  const RowMajorA weights{kernel, output_channels, input_channels, input_channels, tile.mr};
  const TransposedB inputs{input, input_channels, batch_size, input_channels, tile.nr};
  GemmProblem problem{};
  problem.m = output_channels;
  problem.n = n;
  problem.k = input_channels;
  problem.a = weights.source();
  problem.b = inputs.source();
  problem.a_rows = kernel;
  problem.a_stride = input_channels;
  problem.c = c;
  problem.ldc = n;
  problem.a_prepacked = true;
  run_gemm(problem, plan, static_cast<uint8_t*>(scratch) + c_bytes, context.threadpool);
  parallel_for(context.threadpool, batch_size, [&](size_t b) {
    for (size_t o = 0; o < output_channels; ++o) output[b * output_channels + o] = c[o * n + b];
  });
}

void fully_connected_inference_f16(size_t input_channels, size_t output_channels, const float* input,
                                   const uint16_t* kernel, float* output,
                                   const ExecutionContext& context) {
  StageTimer timer(context.profile->block_multiplication);
  gemv(output_channels, input_channels, kernel, true, input, output, context.threadpool,
       *context.hardware);
}

}  // namespace

const ConvolutionKernelSet kConvolutionKernels = {"gemm",
                                                  serves,
                                                  convolution_workspace_bytes,
                                                  packed_kernel_bytes,
                                                  pack_kernel,
                                                  run_convolution};

const FullyConnectedKernelSet kFullyConnectedKernels = {"gemm", fully_connected_output,
                                                        fully_connected_inference_f16};

}  // namespace nnjit::gemm
