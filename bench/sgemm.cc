// bench_gemm: nnjit's blocked SGEMM (kernels/gemm, timed through the family's own
// interface) against OpenBLAS, C = A * B with M = N = K, row-major, at 1 and 2 threads.
//
// Both sides get the same deterministic A and B and write a C allocated and touched
// outside the timed loop. nnjit's plan and workspace are made once outside the loop
// (a caller's GEMM plan is per shape); OpenBLAS plans inside each call, which costs
// it next to nothing at these sizes.
#include <benchmark/benchmark.h>
#include <pthreadpool.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "common.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/microkernel.h"
#include "kernels/gemm/pack.h"
#include "runtime/hardware.h"

#ifdef NNJIT_BENCH_HAVE_OPENBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
#endif

namespace {

using namespace nnjit_bench;

constexpr size_t kSizes[] = {256, 512, 1024, 2048};
constexpr size_t kThreads[] = {1, 2};

struct PoolDeleter {
  void operator()(pthreadpool* p) const { pthreadpool_destroy(p); }
};
using Pool = std::unique_ptr<pthreadpool, PoolDeleter>;

const nnjit::Hardware& hardware() {
  static const nnjit::Hardware hw = nnjit::detect_hardware(std::getenv("NNJIT_ISA"));
  return hw;
}

void BM_sgemm_nnjit(benchmark::State& state, size_t n, size_t threads) {
  const nnjit::Hardware& hw = hardware();
  Pool pool(pthreadpool_create(threads));
  if (!pool) {
    state.SkipWithError("pthreadpool_create failed");
    return;
  }
  const Buffer<float> a = random_buffer(n * n, 1), b = random_buffer(n * n, 2);
  Buffer<float> c = filled_buffer(n * n, 0.0f);
  const nnjit::gemm::TileShape tile = nnjit::gemm::microkernel_tile(hw.isa, n, n);
  const nnjit::gemm::GemmPlan plan = nnjit::gemm::plan_gemm(n, n, n, false, threads, hw, tile);
  const size_t workspace_bytes = nnjit::gemm::gemm_workspace_bytes(plan);
  Buffer<unsigned char> workspace = allocate<unsigned char>(workspace_bytes);
  std::fill_n(workspace.get(), workspace_bytes, 0);
  const nnjit::gemm::RowMajorA ra{a.get(), n, n, n, tile.mr};
  const nnjit::gemm::RowMajorB rb{b.get(), n, n, n, tile.nr};
  const nnjit::gemm::GemmProblem problem{n, n, n, ra.source(), rb.source(), nullptr, 0, c.get(), n,
                                         nullptr, false, false, false};
  nnjit::gemm::run_gemm(problem, plan, workspace.get(), pool.get());  // warm-up (JIT, caches)
  for (auto _ : state) {
    nnjit::gemm::run_gemm(problem, plan, workspace.get(), pool.get());
    benchmark::ClobberMemory();
  }
  set_gflops(state, 2.0 * double(n) * double(n) * double(n));
  set_threads(state, threads);
  state.SetLabel(std::string("isa=") + nnjit::isa_name(hw.isa) + " tile=" + std::to_string(tile.mr) + "x" +
                 std::to_string(tile.nr));
}

// One panels-A microkernel (the Winograd multiply's tile: `rows` x 16 from packed 6-row
// panels) on operands in L1, kc = 256: the kernel's own rate, without the driver's streams.
void BM_gemm_panels_tile(benchmark::State& state, size_t rows) {
  const nnjit::Hardware& hw = hardware();
  constexpr size_t kc = 256, nr = 16, panel_rows = 6;
  const size_t panels = (rows + panel_rows - 1) / panel_rows, a_stride = kc * panel_rows;
  const Buffer<float> a = random_buffer(panels * a_stride, 1), b = random_buffer(kc * nr, 2);
  Buffer<float> c = filled_buffer(rows * nr, 0.0f);
  const nnjit::gemm::GemmMicrokernel kernel =
      nnjit::gemm::jit_gemm_microkernel(hw.isa, {rows, nr}, nnjit::jit::kPanelsA | nnjit::jit::kAccumulate);
  if (kernel == nullptr) {
    state.SkipWithError("no JIT tile of this height on this ISA");
    return;
  }
  for (auto _ : state) {
    for (int call = 0; call < 64; ++call) kernel(kc, a.get(), a_stride, b.get(), c.get(), nr, nullptr);
    benchmark::ClobberMemory();
  }
  set_gflops(state, 64 * 2.0 * double(rows) * nr * kc);
  state.SetLabel(std::string("isa=") + nnjit::isa_name(hw.isa));
}

#ifdef NNJIT_BENCH_HAVE_OPENBLAS
void BM_sgemm_openblas(benchmark::State& state, size_t n, size_t threads) {
  openblas_set_num_threads(int(threads));
  const Buffer<float> a = random_buffer(n * n, 1), b = random_buffer(n * n, 2);
  Buffer<float> c = filled_buffer(n * n, 0.0f);
  const int ni = int(n);
  const auto call = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, ni, ni, 1.0f, a.get(), ni, b.get(), ni,
                0.0f, c.get(), ni);
  };
  call();  // warm-up: starts OpenBLAS's threads
  for (auto _ : state) {
    call();
    benchmark::ClobberMemory();
  }
  set_gflops(state, 2.0 * double(n) * double(n) * double(n));
  set_threads(state, threads);
  openblas_set_num_threads(1);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const nnjit::Hardware& hw = hardware();
  benchmark::AddCustomContext("nnjit_isa", nnjit::isa_name(hw.isa));
  benchmark::AddCustomContext("nnjit_caches", "L1d " + std::to_string(hw.l1d_bytes / 1024) + " KiB, L2 " +
                                                  std::to_string(hw.l2_bytes / 1024) + " KiB per core");
#ifdef NNJIT_BENCH_HAVE_OPENBLAS
  if (const char* core = std::getenv("OPENBLAS_CORETYPE")) benchmark::AddCustomContext("OPENBLAS_CORETYPE", core);
#endif
  for (const size_t n : kSizes) {
    for (const size_t t : kThreads) {
      std::string shape("/");  // built by appending: GCC 12 warns falsely on "/" + std::string
      shape += std::to_string(n);
      shape += "/t";
      shape += std::to_string(t);
      benchmark::RegisterBenchmark(("BM_sgemm_nnjit" + shape).c_str(), BM_sgemm_nnjit, n, t)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
#ifdef NNJIT_BENCH_HAVE_OPENBLAS
      benchmark::RegisterBenchmark(("BM_sgemm_openblas" + shape).c_str(), BM_sgemm_openblas, n, t)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
#endif
    }
  }
  for (const size_t rows : {4, 6, 9, 12, 13, 14, 16, 18}) {
    benchmark::RegisterBenchmark(("BM_gemm_panels_tile/" + std::to_string(rows) + "x16").c_str(),
                                 BM_gemm_panels_tile, rows)
        ->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
