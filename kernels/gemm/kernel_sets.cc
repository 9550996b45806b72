#include "kernels/gemm/kernel_sets.h"

#include <cstdlib>
#include <memory>

#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemv.h"
#include "kernels/gemm/im2col.h"
#include "kernels/gemm/pack.h"
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
  return round_up(prepacked_a_floats(g.m, g.k, microkernel_tile(hw.isa).mr) * sizeof(float), kAlignment);
}

size_t convolution_workspace_bytes(const ConvolutionProblem& p, const Hardware& hw, size_t threads) {
  const ConvolutionGemm g(p);
  const size_t kernel = p.strategy == nnp_convolution_transform_strategy_reuse ? 0 : packed_kernel_bytes(p, hw);
  return kernel + gemm_workspace_bytes(plan_gemm(g.m, g.n, g.k, true, threads, hw));
}

void pack_kernel(const ConvolutionProblem& p, const float* kernel, void* packed,
                 const ExecutionContext& context) {
  StageTimer timer(context.profile->kernel_transform);
  const ConvolutionGemm g(p);
  const RowMajorA a{kernel, g.m, g.k, g.k, microkernel_tile(context.hardware->isa).mr};
  pack_a_ahead(a, gemm_kc(g.k, *context.hardware), static_cast<float*>(packed));
}

nnp_status run_convolution(const ConvolutionProblem& p, const ConvolutionTensors& t,
                           const ExecutionContext& context) {
  const Hardware& hw = *context.hardware;
  const ConvolutionGemm g(p);
  const TileShape tile = microkernel_tile(hw.isa);
  const size_t threads = pthreadpool_get_threads_count(context.threadpool);
  const GemmPlan plan = plan_gemm(g.m, g.n, g.k, true, threads, hw);

  auto* workspace = static_cast<uint8_t*>(context.workspace);
  const float* packed = t.kernel;
  if (p.strategy != nnp_convolution_transform_strategy_reuse) {
    pack_kernel(p, t.kernel, workspace, context);
    packed = reinterpret_cast<const float*>(workspace);
    workspace += packed_kernel_bytes(p, hw);
  }
  const PrepackedA a{packed, g.m, g.k, plan.kc, tile.mr};

  StageTimer timer(context.profile->block_multiplication);
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
    const GemmProblem problem{g.m, g.n, g.k, a.source(), pointwise ? direct.source() : patches.source(),
                              t.output + image * g.m * g.n, g.n, t.bias, false, p.relu, true};
    run_gemm(problem, plan, workspace, context.threadpool);
  }
  return nnp_status_success;
}

// ---- fully connected -------------------------------------------------------------

// Scratch for fully-connected GEMMs, which get no workspace from the API: kept per
// calling thread and grown on demand.
void* thread_scratch(size_t bytes) {
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  thread_local std::unique_ptr<void, Free> buffer;
  thread_local size_t capacity = 0;
  if (bytes > capacity) {
    buffer.reset(std::aligned_alloc(kAlignment, round_up(bytes, kAlignment)));
    capacity = buffer ? round_up(bytes, kAlignment) : 0;
  }
  return buffer.get();
}

// Below this batch, streaming the weights once per row beats packing them.
constexpr size_t kGemmMinBatch = 4;

void fully_connected_output(size_t batch_size, size_t input_channels, size_t output_channels,
                            const float* input, const float* kernel, float* output,
                            const ExecutionContext& context) {
  StageTimer timer(context.profile->block_multiplication);
  const Hardware& hw = *context.hardware;
  const size_t threads = pthreadpool_get_threads_count(context.threadpool);
  const GemmPlan plan = plan_gemm(batch_size, output_channels, input_channels, false, threads, hw);
  void* scratch = batch_size < kGemmMinBatch ? nullptr : thread_scratch(gemm_workspace_bytes(plan));
  if (scratch == nullptr) {  // small batch, or no memory for packing: stream the weights
    for (size_t b = 0; b < batch_size; ++b)
      gemv(output_channels, input_channels, kernel, false, input + b * input_channels,
           output + b * output_channels, context.threadpool, hw);
    return;
  }
  // M = batch, N = output channels, K = input channels: C is the output as laid out.
  const TileShape tile = microkernel_tile(hw.isa);
  const RowMajorA a{input, batch_size, input_channels, input_channels, tile.mr};
  const TransposedB b{kernel, input_channels, output_channels, input_channels, tile.nr};
  const GemmProblem problem{batch_size, output_channels, input_channels, a.source(), b.source(),
                            output, output_channels, nullptr, false, false, false};
  run_gemm(problem, plan, scratch, context.threadpool);
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
