// bench_layers --check: do the compared libraries compute the same thing?
//
// Each library computes the layer from identical data into its own output, which
// is pre-filled with NaN so that elements a library never writes show up. The
// difference of two outputs x (tested) and y (reference) is
//     max_i |x_i - y_i| / max_i |y_i|,
// a norm-wise relative difference: element-wise ratios are meaningless for
// outputs near zero. Bound: 1e-3 (every algorithm, Winograd and FFT included; at
// these sizes their error is orders of magnitude smaller). A NaN or an infinity
// anywhere fails.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "layer_benchmarks.h"
#include "runners.h"

namespace nnjit_bench {
namespace {

constexpr double kBound = 1e-3;

struct Output {
  std::string name;  // case, e.g. "nnjit_auto/t2"
  std::string label;
  std::vector<float> values;
};

struct Tally {
  int passed = 0, failed = 0, skipped = 0;
};

void compare(const std::string& what, const Output& x, const Output& y, Tally& tally) {
  double max_diff = 0.0, max_ref = 0.0;
  size_t bad = 0;
  for (size_t i = 0; i < x.values.size(); ++i) {
    if (!std::isfinite(x.values[i]) || !std::isfinite(y.values[i])) {
      ++bad;
      continue;
    }
    max_diff = std::max(max_diff, std::fabs(double(x.values[i]) - double(y.values[i])));
    max_ref = std::max(max_ref, std::fabs(double(y.values[i])));
  }
  const double rel = max_ref > 0.0 ? max_diff / max_ref : max_diff;
  const bool ok = bad == 0 && rel < kBound && x.values.size() == y.values.size();
  std::printf("%-4s %s: %s [%s] vs %s [%s]: max_rel_diff=%.3g max_abs_diff=%.3g non_finite=%zu\n",
              ok ? "OK" : "FAIL", what.c_str(), x.name.c_str(), x.label.c_str(), y.name.c_str(),
              y.label.c_str(), rel, max_diff, bad);
  (ok ? tally.passed : tally.failed)++;
}

void skip(const std::string& what, const std::string& name, const std::string& why, Tally& tally) {
  std::printf("SKIP %s: %s: %s\n", what.c_str(), name.c_str(), why.c_str());
  tally.skipped++;
}

template <typename Tensors, typename Layer, typename Make>
std::unique_ptr<Output> compute(const std::string& what, const std::string& name, const Layer& layer,
                                size_t batch, Make make, Tally& tally) {
  Tensors t(layer, batch, std::nanf(""));
  std::string error;
  std::unique_ptr<Runner> runner = make(t, error);
  if (!runner) {
    skip(what, name, error, tally);
    return nullptr;
  }
  if (!runner->run()) {
    std::printf("FAIL %s: %s [%s]: %s\n", what.c_str(), name.c_str(), runner->label().c_str(),
                runner->error().c_str());
    tally.failed++;
    return nullptr;
  }
  auto out = std::make_unique<Output>();
  out->name = name;
  out->label = runner->label();
  out->values.assign(t.output.get(), t.output.get() + t.output_count());
  return out;
}

void check_conv(const ConvLayer& layer, size_t batch, Tally& tally) {
  const std::string what = "conv " + layer.name + " b" + std::to_string(batch);
  const auto conv = [&](const std::string& name, auto make) {
    return compute<ConvTensors>(what, name, layer, batch, make, tally);
  };
  // References, one thread.
  const std::unique_ptr<Output> openblas = conv("im2col_openblas/t1", [](ConvTensors& t, std::string& e) {
    return make_im2col_openblas_conv(t, 1, e);
  });
  const std::unique_ptr<Output> onednn = conv("onednn_direct/t1", [](ConvTensors& t, std::string& e) {
    return make_onednn_conv(t, OneDnnConvMode::direct, 1, e);
  });
  if (openblas && onednn) compare(what, *onednn, *openblas, tally);
  if (openblas) {
    if (auto wino = conv("onednn_winograd/t1", [](ConvTensors& t, std::string& e) {
          return make_onednn_conv(t, OneDnnConvMode::winograd, 1, e);
        }))
      compare(what, *wino, *openblas, tally);
  }

  struct Mode {
    const char* name;
    NnjitConvMode mode;
  };
  using A = NnjitAlgorithm;
  std::vector<Mode> modes = {{"nnjit_auto", {A::automatic, false}}};
  if (batch == 1) {
    modes.insert(modes.begin(), {{"nnjit_implicit_gemm", {A::implicit_gemm, false}},
                                 {"nnjit_implicit_gemm_reuse", {A::implicit_gemm, true}}});
    modes.push_back({"nnjit_auto_reuse", {A::automatic, true}});
  }
  // The transform algorithms by name (skipped where they cannot serve the layer).
  for (const Mode& named : {Mode{"nnjit_wt8x8", {A::wt8x8, false}}, Mode{"nnjit_ft8x8", {A::ft8x8, false}},
                            Mode{"nnjit_ft16x16", {A::ft16x16, false}}})
    modes.push_back(named);
  for (const Mode& m : modes) {
    for (const size_t threads : {size_t{1}, size_t{2}}) {
      const NnjitConvMode mode = m.mode;
      const auto out = conv(std::string(m.name) + "/t" + std::to_string(threads),
                            [=](ConvTensors& t, std::string& e) { return make_nnjit_conv(t, mode, threads, e); });
      if (!out) continue;
      if (openblas) compare(what, *out, *openblas, tally);
      if (onednn) compare(what, *out, *onednn, tally);
      if (!openblas && !onednn) skip(what, out->name, "no comparison library built in", tally);
    }
  }
}

void check_fc(const FcLayer& layer, size_t batch, Tally& tally) {
  const std::string what = "fc " + layer.name + " b" + std::to_string(batch);
  const auto fc = [&](const std::string& name, auto make) {
    return compute<FcTensors>(what, name, layer, batch, make, tally);
  };
  const auto openblas =
      fc("openblas/t1", [](FcTensors& t, std::string& e) { return make_openblas_fc(t, 1, e); });
  const auto onednn = fc("onednn/t1", [](FcTensors& t, std::string& e) { return make_onednn_fc(t, 1, e); });
  if (openblas && onednn) compare(what, *onednn, *openblas, tally);
  for (const size_t threads : {size_t{1}, size_t{2}}) {
    const auto out = fc("nnjit/t" + std::to_string(threads),
                        [=](FcTensors& t, std::string& e) { return make_nnjit_fc(t, threads, e); });
    if (!out) continue;
    if (openblas) compare(what, *out, *openblas, tally);
    if (onednn) compare(what, *out, *onednn, tally);
  }
}

}  // namespace

bool run_layer_checks(const LayerSet& layers, const std::string& conv_layer, const std::string& fc_layer) {
  Tally tally;
  std::printf("bench_layers check: max_rel_diff = max|x - y| / max|y|, bound %g; outputs pre-filled with NaN\n",
              kBound);
  bool found_conv = false, found_fc = false;
  for (const ConvLayer& layer : layers.conv) {
    if (layer.name != conv_layer) continue;
    found_conv = true;
    check_conv(layer, 1, tally);
    if (layer.stride == 1) check_conv(layer, 2, tally);  // nnp_convolution_output path
  }
  for (const FcLayer& layer : layers.fc) {
    if (layer.name != fc_layer) continue;
    found_fc = true;
    check_fc(layer, 1, tally);
    check_fc(layer, 16, tally);
  }
  if (!found_conv) std::printf("FAIL no conv layer named %s in the layer set\n", conv_layer.c_str());
  if (!found_fc) std::printf("FAIL no fc layer named %s in the layer set\n", fc_layer.c_str());
  // Nothing compared (no comparison library built in) is not a pass.
  const bool ok = tally.failed == 0 && tally.passed > 0 && found_conv && found_fc;
  std::printf("bench_layers check: %d passed, %d failed, %d skipped: %s\n", tally.passed, tally.failed,
              tally.skipped, ok ? "PASS" : tally.failed == 0 && tally.passed == 0 ? "NOTHING COMPARED" : "FAIL");
  std::fflush(stdout);
  return ok;
}

}  // namespace nnjit_bench
