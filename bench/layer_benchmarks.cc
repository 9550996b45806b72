// Registration of bench_layers' benchmarks over the layer set.
//
//   BM_fc_<lib>/<layer>/b<batch>/t<threads>              lib: nnjit, openblas, onednn
//   BM_conv_<algo>/<layer>/b<batch>/t<threads>           algo: see kConvCases
//   BM_pool_nnjit/<layer>/b1/t<threads>
//
// Every case: tensors filled outside the timed loop (and shared by consecutive
// cases of the same layer and batch), the library's one-time preparation in the
// factory, one untimed warm-up call (JIT generation, lazily started threads,
// first touch of internal buffers), then the timed calls.
#include "layer_benchmarks.h"

#include <functional>
#include <memory>
#include <string>

#include "runners.h"

namespace nnjit_bench {
namespace {

constexpr size_t kThreads[] = {1, 2};
constexpr size_t kFcBatches[] = {1, 16};
constexpr size_t kConvBatches[] = {1, 16};

// One-entry caches: consecutive cases of the same layer and batch share the data.
template <typename Tensors, typename Layer>
Tensors& shared_tensors(const Layer& layer, size_t batch) {
  static std::unique_ptr<Tensors> cached;
  if (!cached || cached->layer.name != layer.name || cached->batch != batch) {
    cached.reset();  // free the previous layer's data first
    if constexpr (std::is_same_v<Tensors, PoolTensors>) {
      cached = std::make_unique<Tensors>(layer, batch);
    } else {
      cached = std::make_unique<Tensors>(layer, batch, 0.0f);
    }
  }
  return *cached;
}

void measure(benchmark::State& state, Runner* runner, const std::string& error, size_t threads) {
  if (runner == nullptr) {
    state.SkipWithError(error.c_str());
    return;
  }
  if (!runner->run()) {  // warm-up
    state.SkipWithError(runner->error().c_str());
    return;
  }
  for (auto _ : state) {
    if (!runner->run()) {
      state.SkipWithError(runner->error().c_str());
      break;
    }
    benchmark::ClobberMemory();
  }
  set_threads(state, threads);
  state.SetLabel(runner->label());
}

std::string case_name(const char* prefix, const std::string& layer, size_t batch, size_t threads) {
  return std::string(prefix) + "/" + layer + "/b" + std::to_string(batch) + "/t" + std::to_string(threads);
}

void add(const std::string& name, std::function<void(benchmark::State&)> body) {
  benchmark::RegisterBenchmark(name.c_str(), [body](benchmark::State& state) { body(state); })
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

// ---- fully connected ----------------------------------------------------------------

using FcFactory = std::unique_ptr<Runner> (*)(FcTensors&, size_t, std::string&);

void register_fc(const FcLayer& layer) {
  const struct {
    const char* name;
    FcFactory make;
  } cases[] = {{"BM_fc_nnjit", make_nnjit_fc}, {"BM_fc_openblas", make_openblas_fc}, {"BM_fc_onednn", make_onednn_fc}};
  for (const size_t batch : kFcBatches) {
    for (const size_t threads : kThreads) {
      for (const auto& c : cases) {
        const FcFactory make = c.make;
        add(case_name(c.name, layer.name, batch, threads), [=](benchmark::State& state) {
          FcTensors& t = shared_tensors<FcTensors>(layer, batch);
          std::string error;
          std::unique_ptr<Runner> runner = make(t, threads, error);
          measure(state, runner.get(), error, threads);
          set_gflops(state, t.flops());
        });
      }
    }
  }
}

// ---- convolution ------------------------------------------------------------------------

// Which batches a case runs at.
enum class Batches { all, one, many };

struct ConvCase {
  std::string name;
  Batches batches;
  std::function<std::unique_ptr<Runner>(ConvTensors&, size_t, std::string&)> make;
};

std::vector<ConvCase> conv_cases() {
  const auto nnjit = [](NnjitConvMode mode) {
    return [mode](ConvTensors& t, size_t threads, std::string& error) {
      return make_nnjit_conv(t, mode, threads, error);
    };
  };
  const auto onednn = [](OneDnnConvMode mode) {
    return [mode](ConvTensors& t, size_t threads, std::string& error) {
      return make_onednn_conv(t, mode, threads, error);
    };
  };
  using A = NnjitAlgorithm;
  using Op = NnjitOperation;
  // batch 1: nnp_convolution_inference; batch 16: nnp_convolution_output (the API refuses
  // implicit_gemm there, and precompute/reuse is inference-only).
  std::vector<ConvCase> cases = {
      {"BM_conv_nnjit_implicit_gemm", Batches::one, nnjit({A::implicit_gemm, false})},
      {"BM_conv_nnjit_implicit_gemm_reuse", Batches::one, nnjit({A::implicit_gemm, true})},
      {"BM_conv_nnjit_auto", Batches::all, nnjit({A::automatic, false})},
      {"BM_conv_nnjit_auto_reuse", Batches::one, nnjit({A::automatic, true})},
  };
  // Each transform algorithm by name (where it cannot serve a layer, an error row), and the
  // training gradients at batch 16 next to the forward pass.
  const std::pair<const char*, A> named[] = {{"wt8x8", A::wt8x8}, {"ft8x8", A::ft8x8}, {"ft16x16", A::ft16x16}};
  for (const auto& [name, algorithm] : named) {
    cases.push_back({std::string("BM_conv_nnjit_") + name, Batches::all, nnjit({algorithm, false})});
    cases.push_back({std::string("BM_conv_nnjit_") + name + "_reuse", Batches::one, nnjit({algorithm, true})});
  }
  for (const auto& [name, algorithm] : std::initializer_list<std::pair<const char*, A>>{{"auto", A::automatic},
                                                                                       {"ft8x8", A::ft8x8},
                                                                                       {"ft16x16", A::ft16x16}}) {
    cases.push_back({std::string("BM_conv_nnjit_input_gradient_") + name, Batches::many,
                     nnjit({algorithm, false, Op::input_gradient})});
    cases.push_back({std::string("BM_conv_nnjit_kernel_gradient_") + name, Batches::many,
                     nnjit({algorithm, false, Op::kernel_gradient})});
  }
  cases.push_back({"BM_conv_im2col_openblas", Batches::all, make_im2col_openblas_conv});
  cases.push_back({"BM_conv_onednn_direct", Batches::all, onednn(OneDnnConvMode::direct)});
  cases.push_back({"BM_conv_onednn_direct_blocked", Batches::all, onednn(OneDnnConvMode::direct_blocked)});
  cases.push_back({"BM_conv_onednn_winograd", Batches::all, onednn(OneDnnConvMode::winograd)});
  return cases;
}

void register_conv(const ConvLayer& layer) {
  for (const size_t batch : kConvBatches) {
    for (const size_t threads : kThreads) {
      for (const ConvCase& c : conv_cases()) {
        if ((c.batches == Batches::one && batch != 1) || (c.batches == Batches::many && batch == 1)) continue;
        const auto make = c.make;
        add(case_name(c.name.c_str(), layer.name, batch, threads), [=](benchmark::State& state) {
          ConvTensors& t = shared_tensors<ConvTensors>(layer, batch);
          std::string error;
          std::unique_ptr<Runner> runner = make(t, threads, error);
          measure(state, runner.get(), error, threads);
          set_gflops(state, t.flops());
        });
      }
    }
  }
}

// ---- max pooling ----------------------------------------------------------------------

void register_pool(const PoolLayer& layer) {
  for (const size_t threads : kThreads) {
    add(case_name("BM_pool_nnjit", layer.name, 1, threads), [=](benchmark::State& state) {
      PoolTensors& t = shared_tensors<PoolTensors>(layer, 1);
      std::string error;
      std::unique_ptr<Runner> runner = make_nnjit_pool(t, threads, error);
      measure(state, runner.get(), error, threads);
      // Window elements per second, in 1e9/s (the ANCHORS.md unit for pooling).
      state.counters["Gwindow_elems"] =
          benchmark::Counter(t.window_elements() * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    });
  }
}

}  // namespace

void register_layer_benchmarks(const LayerSet& layers) {
  for (const FcLayer& layer : layers.fc) register_fc(layer);
  for (const ConvLayer& layer : layers.conv) register_conv(layer);
  for (const PoolLayer& layer : layers.pool) register_pool(layer);
}

}  // namespace nnjit_bench
