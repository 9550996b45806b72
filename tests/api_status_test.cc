// api_status_test.cc — every status code each public function can return, and the order of
// its checks: for each pair of consecutive checks, a call failing both reports the earlier.
//
// The specification is shared/API.md plus the decisions recorded for where it is silent:
//   convolutions: 50, 51, 2 (batch 0; not inference), 4, 5, 10, 12 (padding >= kernel extent,
//   so kernel extent 0 reports 12), 13 (subsampling 0, inference), 14, 15, 29 (output/inference:
//   non-NULL activation parameters) or 28 (gradients: activation other than identity), 16, 17
//   (inference), 20 (padded input smaller than the kernel), 26, 27, then the workspace: 54 (buffer
//   not 64-byte aligned) before 53 (size too small, or size pointer NULL).
//   fully connected: 2, 4, 5 (inference forms: 4, 5). relu, relu gradient, softmax: 2, 3.
//   max pooling: 10, 14, 15 (stride 0 or larger than the window), 12; batch or channels 0 succeed.
// 50 (uninitialized) has its own binary: api_uninitialized_test.cc.
//
// Enum arguments outside their enumerations are kept as integers in the tables and converted
// only in the call expression (a C caller may pass any int).
//
// This file is built twice (tests/api_tests.cmake): api_status_test runs every row whose enum
// arguments lie within their enumeration's range of values; api_status_enum_test
// (API_STATUS_OUT_OF_RANGE_ENUMS=1) runs the rows that pass values outside it (activation 2,
// transform strategy 4). C callers can pass those, so the library must answer 14 and 17 even
// when built with UBSan (whose enum check aborts on loading such a value as the enum type);
// keeping them apart lets the rest of the table run under the sanitizers regardless.
#ifndef API_STATUS_OUT_OF_RANGE_ENUMS
#define API_STATUS_OUT_OF_RANGE_ENUMS 0
#endif
#include <nnpack.h>
#include <nnjit.h>

#include "tests/api_testing.h"

#include <cmath>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

namespace {

using api_test::AlignedBytes;
using api_test::Doz;

const bool kInitialized = api_test::InitializeLibraryForAllTests();

// ============================================================================================
// Convolutions
// ============================================================================================

enum class Op { output, input_gradient, kernel_gradient, inference };

const char* OpName(Op op) {
  switch (op) {
    case Op::output: return "output";
    case Op::input_gradient: return "input_gradient";
    case Op::kernel_gradient: return "kernel_gradient";
    case Op::inference: return "inference";
  }
  return "?";
}

nnp_ext_convolution_operation ExtOp(Op op) {
  switch (op) {
    case Op::output: return nnp_ext_convolution_output;
    case Op::input_gradient: return nnp_ext_convolution_input_gradient;
    case Op::kernel_gradient: return nnp_ext_convolution_kernel_gradient;
    case Op::inference: return nnp_ext_convolution_inference;
  }
  return nnp_ext_convolution_output;
}

// How the workspace arguments are passed.
enum class Ws {
  internal,           // NULL buffer, NULL size: the library allocates
  query,              // NULL buffer, size pointer: size query, nothing computed
  exact,              // query first, then an aligned buffer of exactly that size
  exact_minus_one,    // query first, then an aligned buffer one byte short
  misaligned_exact,   // query first, then the queried size at an address 4 bytes past alignment
  misaligned_zero,    // misaligned address and size 0: alignment is checked first
  aligned_zero,       // aligned buffer, size 0
  size_null,          // aligned buffer, NULL size pointer
};

// The activation parameter pointer passed.
enum class Param { none, zero, quarter, negative, nan, infinity, minus_infinity };

const float* ParamPointer(Param p) {
  static const float zero = 0.0f, quarter = 0.25f, negative = -1.0f;
  static const float nan = std::numeric_limits<float>::quiet_NaN();
  static const float inf = std::numeric_limits<float>::infinity();
  static const float minus_inf = -std::numeric_limits<float>::infinity();
  switch (p) {
    case Param::none: return nullptr;
    case Param::zero: return &zero;
    case Param::quarter: return &quarter;
    case Param::negative: return &negative;
    case Param::nan: return &nan;
    case Param::infinity: return &inf;
    case Param::minus_infinity: return &minus_inf;
  }
  return nullptr;
}

constexpr int kAuto = nnp_convolution_algorithm_auto;
constexpr int kFt8 = nnp_convolution_algorithm_ft8x8;
constexpr int kFt16 = nnp_convolution_algorithm_ft16x16;
constexpr int kWt8 = nnp_convolution_algorithm_wt8x8;
constexpr int kGemm = nnp_convolution_algorithm_implicit_gemm;
constexpr int kDirect = nnp_convolution_algorithm_direct;
constexpr int kWt8Fp16 = nnp_convolution_algorithm_wt8x8_fp16;
constexpr int kBadAlgorithm = 7;  // representable in the enumeration's range, but no algorithm

constexpr int kCompute = nnp_convolution_transform_strategy_compute;
constexpr int kPrecompute = nnp_convolution_transform_strategy_precompute;
constexpr int kReuse = nnp_convolution_transform_strategy_reuse;

constexpr int kIdentity = nnp_activation_identity;
constexpr int kRelu = nnp_activation_relu;
constexpr int kBadActivation = 2;

// One convolution call; fluent setters return modified copies so that table rows read as
// "the valid base call, changed like this".
struct ConvCall {
  Op op = Op::output;
  int algorithm = kAuto;
  int strategy = kCompute;
  size_t batch = 2;
  size_t input_channels = 3;
  size_t output_channels = 4;
  nnp_size input{9, 7};  // width 9, height 7
  nnp_padding padding{1, 1, 1, 1};
  nnp_size kernel{3, 3};
  nnp_size subsampling{1, 1};
  int activation = kIdentity;
  Param param = Param::none;
  Ws workspace = Ws::internal;
  bool legacy = false;  // the C++ inline overload without workspace and activation arguments

  ConvCall Algorithm(int a) const { ConvCall c = *this; c.algorithm = a; return c; }
  ConvCall Strategy(int s) const { ConvCall c = *this; c.strategy = s; return c; }
  ConvCall Batch(size_t b) const { ConvCall c = *this; c.batch = b; return c; }
  ConvCall InputChannels(size_t n) const { ConvCall c = *this; c.input_channels = n; return c; }
  ConvCall OutputChannels(size_t n) const { ConvCall c = *this; c.output_channels = n; return c; }
  ConvCall Input(size_t h, size_t w) const { ConvCall c = *this; c.input = {w, h}; return c; }
  ConvCall Padding(size_t t, size_t r, size_t b, size_t l) const { ConvCall c = *this; c.padding = {t, r, b, l}; return c; }
  ConvCall Kernel(size_t h, size_t w) const { ConvCall c = *this; c.kernel = {w, h}; return c; }
  ConvCall Subsampling(size_t h, size_t w) const { ConvCall c = *this; c.subsampling = {w, h}; return c; }
  ConvCall Activation(int a, Param p = Param::none) const { ConvCall c = *this; c.activation = a; c.param = p; return c; }
  ConvCall Workspace(Ws w) const { ConvCall c = *this; c.workspace = w; return c; }
  ConvCall Legacy() const { ConvCall c = *this; c.legacy = true; return c; }

  size_t batch_for_data() const { return op == Op::inference ? 1 : batch; }
  size_t output_height() const {
    return Doz(padding.top + input.height + padding.bottom, kernel.height) / std::max<size_t>(subsampling.height, 1) + 1;
  }
  size_t output_width() const {
    return Doz(padding.left + input.width + padding.right, kernel.width) / std::max<size_t>(subsampling.width, 1) + 1;
  }
};

std::ostream& operator<<(std::ostream& out, const ConvCall& c) {
  return out << OpName(c.op) << (c.legacy ? " (inline overload)" : "") << " algorithm " << c.algorithm
             << " strategy " << c.strategy << " batch " << c.batch << " channels " << c.input_channels << "->"
             << c.output_channels << " input " << c.input.height << "x" << c.input.width << " padding t"
             << c.padding.top << " r" << c.padding.right << " b" << c.padding.bottom << " l" << c.padding.left
             << " kernel " << c.kernel.height << "x" << c.kernel.width << " subsampling " << c.subsampling.height
             << "x" << c.subsampling.width << " activation " << c.activation << " param " << int(c.param)
             << " workspace " << int(c.workspace);
}

ConvCall Output() { return ConvCall{}; }
ConvCall InputGradient() { ConvCall c; c.op = Op::input_gradient; return c; }
ConvCall KernelGradient() { ConvCall c; c.op = Op::kernel_gradient; return c; }
ConvCall Inference() { ConvCall c; c.op = Op::inference; c.batch = 1; return c; }

// Data for a call: every tensor exists (at least one element) and holds small values, the
// result is prefilled with NaN.
struct ConvData {
  std::vector<float> input, kernel, bias, output;
  explicit ConvData(const ConvCall& c) {
    const size_t b = c.batch_for_data();
    const size_t in = std::max<size_t>(1, b * c.input_channels * c.input.height * c.input.width);
    const size_t k = std::max<size_t>(1, c.output_channels * c.input_channels * c.kernel.height * c.kernel.width);
    const size_t out = std::max<size_t>(1, b * c.output_channels * c.output_height() * c.output_width());
    api_test::Rng rng(1234);
    input = rng.Vector(in);
    kernel = rng.Vector(k);
    bias = rng.Vector(std::max<size_t>(1, c.output_channels));
    output.assign(out, api_test::kNaN);
  }
};

nnp_status CallWithWorkspace(const ConvCall& c, ConvData& d, void* buffer, size_t* size) {
  const auto algorithm = static_cast<nnp_convolution_algorithm>(c.algorithm);
  const auto strategy = static_cast<nnp_convolution_transform_strategy>(c.strategy);
  const auto activation = static_cast<nnp_activation>(c.activation);
  const float* param = ParamPointer(c.param);
  switch (c.op) {
    case Op::output:
      if (c.legacy) {
        return nnp_convolution_output(algorithm, c.batch, c.input_channels, c.output_channels, c.input, c.padding,
                                      c.kernel, d.input.data(), d.kernel.data(), d.bias.data(), d.output.data(),
                                      nullptr, nullptr);
      }
      return nnp_convolution_output(algorithm, c.batch, c.input_channels, c.output_channels, c.input, c.padding,
                                    c.kernel, d.input.data(), d.kernel.data(), d.bias.data(), d.output.data(), buffer,
                                    size, activation, param, nullptr, nullptr);
    case Op::input_gradient:
      // grad_output has the output's shape (d.output), grad_input the input's (d.input).
      if (c.legacy) {
        return nnp_convolution_input_gradient(algorithm, c.batch, c.input_channels, c.output_channels, c.input,
                                              c.padding, c.kernel, d.output.data(), d.kernel.data(),
                                              d.input.data(), nullptr, nullptr);
      }
      return nnp_convolution_input_gradient(algorithm, c.batch, c.input_channels, c.output_channels, c.input,
                                            c.padding, c.kernel, d.output.data(), d.kernel.data(), d.input.data(),
                                            buffer, size, activation, param, nullptr, nullptr);
    case Op::kernel_gradient:
      if (c.legacy) {
        return nnp_convolution_kernel_gradient(algorithm, c.batch, c.input_channels, c.output_channels, c.input,
                                               c.padding, c.kernel, d.input.data(), d.output.data(),
                                               d.kernel.data(), nullptr, nullptr);
      }
      return nnp_convolution_kernel_gradient(algorithm, c.batch, c.input_channels, c.output_channels, c.input,
                                             c.padding, c.kernel, d.input.data(), d.output.data(), d.kernel.data(),
                                             buffer, size, activation, param, nullptr, nullptr);
    case Op::inference:
      if (c.legacy) {
        return nnp_convolution_inference(algorithm, strategy, c.input_channels, c.output_channels, c.input,
                                         c.padding, c.kernel, c.subsampling, d.input.data(), d.kernel.data(),
                                         d.bias.data(), d.output.data(), nullptr, nullptr);
      }
      return nnp_convolution_inference(algorithm, strategy, c.input_channels, c.output_channels, c.input,
                                       c.padding, c.kernel, c.subsampling, d.input.data(), d.kernel.data(),
                                       d.bias.data(), d.output.data(), buffer, size, activation, param, nullptr,
                                       nullptr);
  }
  return nnp_status_success;
}

nnp_status RunConv(const ConvCall& c) {
  ConvData d(c);
  switch (c.workspace) {
    case Ws::internal:
      return CallWithWorkspace(c, d, nullptr, nullptr);
    case Ws::query: {
      size_t size = 0;
      return CallWithWorkspace(c, d, nullptr, &size);
    }
    case Ws::exact:
    case Ws::exact_minus_one:
    case Ws::misaligned_exact: {
      size_t size = 0;
      const nnp_status query = CallWithWorkspace(c, d, nullptr, &size);
      if (query != nnp_status_success) return query;
      AlignedBytes buffer(size);
      if (c.workspace == Ws::exact_minus_one) size -= 1;
      uint8_t* address = buffer.data() + (c.workspace == Ws::misaligned_exact ? 4 : 0);
      return CallWithWorkspace(c, d, address, &size);
    }
    case Ws::misaligned_zero: {
      AlignedBytes buffer(256);
      size_t size = 0;
      return CallWithWorkspace(c, d, buffer.data() + 4, &size);
    }
    case Ws::aligned_zero: {
      AlignedBytes buffer(256);
      size_t size = 0;
      return CallWithWorkspace(c, d, buffer.data(), &size);
    }
    case Ws::size_null: {
      AlignedBytes buffer(256);
      return CallWithWorkspace(c, d, buffer.data(), nullptr);
    }
  }
  return nnp_status_success;
}

struct ConvRow {
  const char* name;
  ConvCall call;
  int expected;
};

void PrintTo(const ConvRow& row, std::ostream* out) { *out << row.name; }

std::vector<ConvRow> ConvRows() {
  std::vector<ConvRow> rows;
  auto add = [&](const char* name, ConvCall call, int expected) { rows.push_back({name, call, expected}); };

  // ---------------- convolution_output ----------------
  const ConvCall o = Output();
  add("output: valid, auto", o, 0);
  add("output: relu without parameters", o.Activation(kRelu), 0);
  add("output: ft8x8", o.Algorithm(kFt8), 0);
  add("output: ft16x16", o.Algorithm(kFt16), 0);
  add("output: wt8x8", o.Algorithm(kWt8), 0);
  add("output: wt8x8_fp16", o.Algorithm(kWt8Fp16), 0);
  add("output: 1x1 image, 3x3 kernel, padding 1: padded input exactly the kernel", o.Input(1, 1), 0);
  add("output: 1x7 kernel", o.Kernel(1, 7).Padding(0, 0, 0, 0).Input(3, 7), 0);
  add("output: 16x16 kernel, ft16x16", o.Kernel(16, 16).Input(16, 16).Padding(0, 0, 0, 0).Algorithm(kFt16), 0);
  add("output: 8x8 kernel, ft8x8", o.Kernel(8, 8).Input(8, 9).Padding(0, 0, 0, 0).Algorithm(kFt8), 0);
  add("output: workspace query", o.Workspace(Ws::query), 0);
  add("output: exact workspace", o.Workspace(Ws::exact), 0);
  add("output: batch 0", o.Batch(0), 2);
  add("output: input channels 0", o.InputChannels(0), 4);
  add("output: output channels 0", o.OutputChannels(0), 5);
  add("output: input height 0", o.Input(0, 9), 10);
  add("output: input width 0", o.Input(7, 0), 10);
  add("output: input 0x0", o.Input(0, 0), 10);
  add("output: padding top == kernel height", o.Padding(3, 0, 0, 0), 12);
  add("output: padding right == kernel width", o.Padding(0, 3, 0, 0), 12);
  add("output: padding bottom == kernel height", o.Padding(0, 0, 3, 0), 12);
  add("output: padding left == kernel width", o.Padding(0, 0, 0, 3), 12);
  add("output: padding top > kernel height", o.Padding(7, 0, 0, 0), 12);
  add("output: padding top vs height of a 3x5 kernel", o.Kernel(3, 5).Padding(3, 0, 0, 0), 12);
  add("output: padding left 4 < width of a 3x5 kernel", o.Kernel(3, 5).Padding(0, 0, 0, 4), 0);
  add("output: padding left vs width of a 5x3 kernel", o.Kernel(5, 3).Padding(0, 0, 0, 3), 12);
  add("output: padding top 4 < height of a 5x3 kernel", o.Kernel(5, 3).Padding(4, 0, 0, 0), 0);
  add("output: kernel height 0, padding 0 (12 as NNPACK)", o.Kernel(0, 3).Padding(0, 0, 0, 0), 12);
  add("output: kernel width 0, padding 0 (12 as NNPACK)", o.Kernel(3, 0).Padding(0, 0, 0, 0), 12);
  add("output: activation not in the enum", o.Activation(kBadActivation), 14);
  add("output: identity with parameters", o.Activation(kIdentity, Param::quarter), 15);
  add("output: relu, negative parameter", o.Activation(kRelu, Param::negative), 15);
  add("output: relu, NaN parameter", o.Activation(kRelu, Param::nan), 15);
  add("output: relu, +inf parameter", o.Activation(kRelu, Param::infinity), 15);
  add("output: relu, -inf parameter", o.Activation(kRelu, Param::minus_infinity), 15);
  add("output: relu with a valid parameter", o.Activation(kRelu, Param::quarter), 29);
  add("output: relu with parameter 0", o.Activation(kRelu, Param::zero), 29);
  add("output: algorithm not in the enum", o.Algorithm(kBadAlgorithm), 16);
  add("output: input 2x2 smaller than 3x3 kernel", o.Input(2, 2).Padding(0, 0, 0, 0), 20);
  add("output: input too short only", o.Input(2, 9).Padding(0, 0, 0, 0), 20);
  add("output: padded width 2 < kernel width 3", o.Input(5, 1).Padding(0, 0, 0, 1), 20);
  add("output: implicit_gemm", o.Algorithm(kGemm), 26);
  add("output: direct", o.Algorithm(kDirect), 26);
  add("output: direct, 1x1 kernel", o.Algorithm(kDirect).Kernel(1, 1).Padding(0, 0, 0, 0), 26);
  add("output: wt8x8 with 5x5", o.Algorithm(kWt8).Kernel(5, 5), 26);
  add("output: wt8x8_fp16 with 5x5", o.Algorithm(kWt8Fp16).Kernel(5, 5), 26);
  add("output: wt8x8 with 1x3", o.Algorithm(kWt8).Kernel(1, 3).Padding(0, 1, 0, 1), 26);
  add("output: wt8x8 with 2x2", o.Algorithm(kWt8).Kernel(2, 2), 26);
  add("output: ft8x8 with 9x9", o.Algorithm(kFt8).Kernel(9, 9).Input(16, 16), 26);
  add("output: ft8x8 with 3x9", o.Algorithm(kFt8).Kernel(3, 9).Input(16, 16), 26);
  add("output: ft8x8 with 9x1", o.Algorithm(kFt8).Kernel(9, 1).Input(16, 16).Padding(0, 0, 0, 0), 26);
  add("output: ft16x16 with 17x17", o.Algorithm(kFt16).Kernel(17, 17).Input(20, 20), 26);
  add("output: ft16x16 with 1x17", o.Algorithm(kFt16).Kernel(1, 17).Input(20, 20).Padding(0, 0, 0, 0), 26);
  add("output: aligned buffer, size 0", o.Workspace(Ws::aligned_zero), 53);
  add("output: buffer, size pointer NULL", o.Workspace(Ws::size_null), 53);
  add("output: buffer one byte short", o.Workspace(Ws::exact_minus_one), 53);
  add("output: misaligned buffer of the right size", o.Workspace(Ws::misaligned_exact), 54);
  add("output: misaligned buffer, size 0", o.Workspace(Ws::misaligned_zero), 54);
  // order: each row fails two consecutive checks
  add("output order 2<4: batch 0 + input channels 0", o.Batch(0).InputChannels(0), 2);
  add("output order 4<5: input channels 0 + output channels 0", o.InputChannels(0).OutputChannels(0), 4);
  add("output order 5<10: output channels 0 + input height 0", o.OutputChannels(0).Input(0, 9), 5);
  add("output order 10<12: input width 0 + padding", o.Input(7, 0).Padding(3, 0, 0, 0), 10);
  add("output order 12<14: padding + bad activation", o.Padding(0, 0, 0, 3).Activation(kBadActivation), 12);
  add("output order 12<14: kernel 0 + bad activation", o.Kernel(0, 0).Padding(0, 0, 0, 0).Activation(kBadActivation), 12);
  add("output order 14<15: bad activation with NaN parameter", o.Activation(kBadActivation, Param::nan), 14);
  add("output order 14<29: bad activation with valid parameter", o.Activation(kBadActivation, Param::quarter), 14);
  add("output order 15<29: identity with parameter", o.Activation(kIdentity, Param::zero), 15);
  add("output order 29<16: relu parameter + bad algorithm", o.Activation(kRelu, Param::quarter).Algorithm(kBadAlgorithm), 29);
  add("output order 16<20: bad algorithm + input too small", o.Algorithm(kBadAlgorithm).Input(2, 2).Padding(0, 0, 0, 0), 16);
  add("output order 20<26: input too small + wt8x8 with 5x5", o.Algorithm(kWt8).Kernel(5, 5).Input(4, 4).Padding(0, 0, 0, 0), 20);
  add("output order 26<54: implicit_gemm + misaligned buffer", o.Algorithm(kGemm).Workspace(Ws::misaligned_zero), 26);
  add("output order 26<53: implicit_gemm + size 0", o.Algorithm(kGemm).Workspace(Ws::aligned_zero), 26);
  add("output order 2 first: everything wrong",
      o.Batch(0).InputChannels(0).OutputChannels(0).Input(0, 0).Kernel(0, 0).Activation(kBadActivation, Param::nan)
          .Algorithm(kBadAlgorithm).Workspace(Ws::misaligned_zero), 2);
  // the 13-argument inline overload
  add("output inline: valid", o.Legacy(), 0);
  add("output inline: ft16x16", o.Algorithm(kFt16).Legacy(), 0);
  add("output inline: batch 0", o.Batch(0).Legacy(), 2);
  add("output inline: input channels 0", o.InputChannels(0).Legacy(), 4);
  add("output inline: output channels 0", o.OutputChannels(0).Legacy(), 5);
  add("output inline: input size 0", o.Input(0, 4).Legacy(), 10);
  add("output inline: padding", o.Padding(0, 0, 3, 0).Legacy(), 12);
  add("output inline: bad algorithm", o.Algorithm(kBadAlgorithm).Legacy(), 16);
  add("output inline: input too small", o.Input(1, 1).Padding(0, 0, 0, 0).Legacy(), 20);
  add("output inline: implicit_gemm", o.Algorithm(kGemm).Legacy(), 26);

  // ---------------- the two gradients ----------------
  for (const ConvCall& g : {InputGradient(), KernelGradient()}) {
    const bool kernel_gradient = g.op == Op::kernel_gradient;
    add(kernel_gradient ? "kernel_gradient: valid, auto" : "input_gradient: valid, auto", g, 0);
    add("gradient: ft8x8", g.Algorithm(kFt8), 0);
    add("gradient: ft16x16", g.Algorithm(kFt16), 0);
    add("gradient: wt8x8", g.Algorithm(kWt8), kernel_gradient ? 26 : 0);
    add("gradient: wt8x8_fp16", g.Algorithm(kWt8Fp16), kernel_gradient ? 26 : 0);
    add("gradient: implicit_gemm", g.Algorithm(kGemm), 26);
    add("gradient: direct", g.Algorithm(kDirect), 26);
    add("gradient: direct 1x1", g.Algorithm(kDirect).Kernel(1, 1).Padding(0, 0, 0, 0), 26);
    add("gradient: wt8x8 with 5x5", g.Algorithm(kWt8).Kernel(5, 5), 26);
    add("gradient: ft8x8 with 9x9", g.Algorithm(kFt8).Kernel(9, 9).Input(12, 12), 26);
    add("gradient: ft16x16 with 16x16", g.Algorithm(kFt16).Kernel(16, 16).Input(16, 16).Padding(0, 0, 0, 0), 0);
    add("gradient: ft16x16 with 17x17", g.Algorithm(kFt16).Kernel(17, 17).Input(20, 20), 26);
    add("gradient: workspace query", g.Workspace(Ws::query), 0);
    add("gradient: exact workspace", g.Workspace(Ws::exact), 0);
    add("gradient: batch 0", g.Batch(0), 2);
    add("gradient: input channels 0", g.InputChannels(0), 4);
    add("gradient: output channels 0", g.OutputChannels(0), 5);
    add("gradient: input height 0", g.Input(0, 9), 10);
    add("gradient: input width 0", g.Input(7, 0), 10);
    add("gradient: padding top", g.Padding(3, 0, 0, 0), 12);
    add("gradient: padding right", g.Padding(0, 3, 0, 0), 12);
    add("gradient: padding bottom", g.Padding(0, 0, 3, 0), 12);
    add("gradient: padding left", g.Padding(0, 0, 0, 3), 12);
    add("gradient: kernel 0x0, padding 0", g.Kernel(0, 0).Padding(0, 0, 0, 0), 12);
    add("gradient: activation not in the enum", g.Activation(kBadActivation), 14);
    add("gradient: identity with parameters", g.Activation(kIdentity, Param::zero), 15);
    add("gradient: relu, negative parameter", g.Activation(kRelu, Param::negative), 15);
    add("gradient: relu, NaN parameter", g.Activation(kRelu, Param::nan), 15);
    add("gradient: relu, +inf parameter", g.Activation(kRelu, Param::infinity), 15);
    add("gradient: relu", g.Activation(kRelu), 28);
    add("gradient: relu with a valid parameter", g.Activation(kRelu, Param::quarter), 28);
    add("gradient: algorithm not in the enum", g.Algorithm(kBadAlgorithm), 16);
    add("gradient: input too small", g.Input(2, 2).Padding(0, 0, 0, 0), 20);
    add("gradient: aligned buffer, size 0", g.Workspace(Ws::aligned_zero), 53);
    add("gradient: size pointer NULL", g.Workspace(Ws::size_null), 53);
    add("gradient: buffer one byte short", g.Workspace(Ws::exact_minus_one), 53);
    add("gradient: misaligned buffer", g.Workspace(Ws::misaligned_exact), 54);
    add("gradient: misaligned buffer, size 0", g.Workspace(Ws::misaligned_zero), 54);
    add("gradient order 2<4", g.Batch(0).InputChannels(0), 2);
    add("gradient order 4<5", g.InputChannels(0).OutputChannels(0), 4);
    add("gradient order 5<10", g.OutputChannels(0).Input(7, 0), 5);
    add("gradient order 10<12", g.Input(0, 9).Padding(0, 0, 3, 0), 10);
    add("gradient order 12<14", g.Padding(0, 3, 0, 0).Activation(kBadActivation), 12);
    add("gradient order 14<15", g.Activation(kBadActivation, Param::negative), 14);
    add("gradient order 15<28", g.Activation(kRelu, Param::nan), 15);
    add("gradient order 28<16", g.Activation(kRelu).Algorithm(kBadAlgorithm), 28);
    add("gradient order 16<20", g.Algorithm(kBadAlgorithm).Input(2, 2).Padding(0, 0, 0, 0), 16);
    add("gradient order 20<26", g.Algorithm(kGemm).Input(2, 2).Padding(0, 0, 0, 0), 20);
    add("gradient order 26<54", g.Algorithm(kDirect).Workspace(Ws::misaligned_zero), 26);
    add("gradient inline: valid", g.Legacy(), 0);
    add("gradient inline: batch 0", g.Batch(0).Legacy(), 2);
    add("gradient inline: input channels 0", g.InputChannels(0).Legacy(), 4);
    add("gradient inline: output channels 0", g.OutputChannels(0).Legacy(), 5);
    add("gradient inline: input size 0", g.Input(3, 0).Legacy(), 10);
    add("gradient inline: padding", g.Padding(0, 0, 0, 3).Legacy(), 12);
    add("gradient inline: bad algorithm", g.Algorithm(kBadAlgorithm).Legacy(), 16);
    add("gradient inline: input too small", g.Input(1, 1).Padding(0, 0, 0, 0).Legacy(), 20);
    add("gradient inline: implicit_gemm", g.Algorithm(kGemm).Legacy(), 26);
    add("gradient inline: wt8x8", g.Algorithm(kWt8).Legacy(), kernel_gradient ? 26 : 0);
  }

  // ---------------- convolution_inference ----------------
  const ConvCall i = Inference();
  add("inference: valid, auto", i, 0);
  add("inference: batch argument does not exist (our batch field 0 is ignored)", i.Batch(0), 0);
  add("inference: relu without parameters", i.Activation(kRelu), 0);
  add("inference: ft8x8", i.Algorithm(kFt8), 0);
  add("inference: ft16x16", i.Algorithm(kFt16), 0);
  add("inference: wt8x8", i.Algorithm(kWt8), 0);
  add("inference: wt8x8_fp16", i.Algorithm(kWt8Fp16), 0);
  add("inference: implicit_gemm", i.Algorithm(kGemm), 0);
  add("inference: implicit_gemm 17x17", i.Algorithm(kGemm).Kernel(17, 17).Input(18, 18), 0);
  add("inference: direct 1x1", i.Algorithm(kDirect).Kernel(1, 1).Padding(0, 0, 0, 0), 0);
  add("inference: wt8x8 stride 2x2", i.Algorithm(kWt8).Subsampling(2, 2), 0);
  add("inference: wt8x8_fp16 stride 2x2", i.Algorithm(kWt8Fp16).Subsampling(2, 2), 0);
  add("inference: implicit_gemm stride 3x2", i.Algorithm(kGemm).Subsampling(3, 2), 0);
  add("inference: auto stride 2x1", i.Subsampling(2, 1), 0);
  add("inference: auto 1x1 stride 3 (subsampling larger than the kernel)", i.Kernel(1, 1).Padding(0, 0, 0, 0).Subsampling(3, 3), 0);
  add("inference: legacy tuple_based strategy", i.Strategy(nnp_convolution_transform_strategy_tuple_based), 0);
  add("inference: legacy block_based strategy", i.Strategy(nnp_convolution_transform_strategy_block_based), 0);
  add("inference: workspace query", i.Workspace(Ws::query), 0);
  add("inference: exact workspace", i.Workspace(Ws::exact), 0);
  for (int algorithm : {kFt8, kFt16, kWt8, kWt8Fp16, kGemm}) {
    add("inference: precompute size query", i.Algorithm(algorithm).Strategy(kPrecompute).Workspace(Ws::query), 0);
    add("inference: precompute into an exact buffer", i.Algorithm(algorithm).Strategy(kPrecompute).Workspace(Ws::exact), 0);
    add("inference: precompute, buffer one byte short", i.Algorithm(algorithm).Strategy(kPrecompute).Workspace(Ws::exact_minus_one), 53);
    add("inference: precompute, misaligned buffer", i.Algorithm(algorithm).Strategy(kPrecompute).Workspace(Ws::misaligned_exact), 54);
    add("inference: precompute, size pointer NULL", i.Algorithm(algorithm).Strategy(kPrecompute).Workspace(Ws::size_null), 53);
    add("inference: reuse workspace query", i.Algorithm(algorithm).Strategy(kReuse).Workspace(Ws::query), 0);
  }
  add("inference: input channels 0", i.InputChannels(0), 4);
  add("inference: output channels 0", i.OutputChannels(0), 5);
  add("inference: input height 0", i.Input(0, 9), 10);
  add("inference: input width 0", i.Input(7, 0), 10);
  add("inference: padding top", i.Padding(3, 0, 0, 0), 12);
  add("inference: padding right", i.Padding(0, 3, 0, 0), 12);
  add("inference: padding bottom", i.Padding(0, 0, 3, 0), 12);
  add("inference: padding left", i.Padding(0, 0, 0, 3), 12);
  add("inference: kernel 0x3, padding 0", i.Kernel(0, 3).Padding(0, 0, 0, 0), 12);
  add("inference: subsampling height 0", i.Subsampling(0, 1), 13);
  add("inference: subsampling width 0", i.Subsampling(1, 0), 13);
  add("inference: activation not in the enum", i.Activation(kBadActivation), 14);
  add("inference: identity with parameters", i.Activation(kIdentity, Param::quarter), 15);
  add("inference: relu, negative parameter", i.Activation(kRelu, Param::negative), 15);
  add("inference: relu, NaN parameter", i.Activation(kRelu, Param::nan), 15);
  add("inference: relu, -inf parameter", i.Activation(kRelu, Param::minus_infinity), 15);
  add("inference: relu with a valid parameter", i.Activation(kRelu, Param::quarter), 29);
  add("inference: algorithm not in the enum", i.Algorithm(kBadAlgorithm), 16);
  add("inference: strategy 0", i.Strategy(0), 17);
  add("inference: strategy 4", i.Strategy(4), 17);
  add("inference: input too small", i.Input(2, 2).Padding(0, 0, 0, 0), 20);
  add("inference: input too small with stride", i.Input(2, 2).Padding(0, 0, 0, 0).Subsampling(2, 2), 20);
  add("inference: ft8x8 stride 2x2", i.Algorithm(kFt8).Subsampling(2, 2), 26);
  add("inference: ft16x16 stride 2x2", i.Algorithm(kFt16).Subsampling(2, 2), 26);
  add("inference: ft8x8 stride 1x2", i.Algorithm(kFt8).Subsampling(1, 2), 26);
  add("inference: wt8x8 stride 2x1", i.Algorithm(kWt8).Subsampling(2, 1), 26);
  add("inference: wt8x8 stride 1x2", i.Algorithm(kWt8).Subsampling(1, 2), 26);
  add("inference: wt8x8 stride 3x3", i.Algorithm(kWt8).Subsampling(3, 3), 26);
  add("inference: wt8x8_fp16 stride 3x3", i.Algorithm(kWt8Fp16).Subsampling(3, 3), 26);
  add("inference: wt8x8 with 5x5", i.Algorithm(kWt8).Kernel(5, 5), 26);
  add("inference: ft8x8 with 9x9", i.Algorithm(kFt8).Kernel(9, 9).Input(12, 12), 26);
  add("inference: ft16x16 with 17x17", i.Algorithm(kFt16).Kernel(17, 17).Input(20, 20), 26);
  add("inference: direct with 3x3", i.Algorithm(kDirect), 26);
  add("inference: direct 1x1 stride 2", i.Algorithm(kDirect).Kernel(1, 1).Padding(0, 0, 0, 0).Subsampling(2, 2), 26);
  add("inference: direct 1x1 precompute", i.Algorithm(kDirect).Kernel(1, 1).Padding(0, 0, 0, 0).Strategy(kPrecompute).Workspace(Ws::query), 27);
  add("inference: direct 1x1 precompute, no workspace", i.Algorithm(kDirect).Kernel(1, 1).Padding(0, 0, 0, 0).Strategy(kPrecompute), 27);
  add("inference: direct 1x1 reuse", i.Algorithm(kDirect).Kernel(1, 1).Padding(0, 0, 0, 0).Strategy(kReuse).Workspace(Ws::query), 27);
  add("inference: aligned buffer, size 0", i.Workspace(Ws::aligned_zero), 53);
  add("inference: size pointer NULL", i.Workspace(Ws::size_null), 53);
  add("inference: buffer one byte short", i.Workspace(Ws::exact_minus_one), 53);
  add("inference: misaligned buffer", i.Workspace(Ws::misaligned_exact), 54);
  add("inference: misaligned buffer, size 0", i.Workspace(Ws::misaligned_zero), 54);
  add("inference order 4<5", i.InputChannels(0).OutputChannels(0), 4);
  add("inference order 5<10", i.OutputChannels(0).Input(0, 0), 5);
  add("inference order 10<12", i.Input(0, 9).Padding(3, 0, 0, 0), 10);
  add("inference order 12<13", i.Padding(0, 0, 0, 3).Subsampling(0, 0), 12);
  add("inference order 12<13 (kernel 0)", i.Kernel(3, 0).Padding(0, 0, 0, 0).Subsampling(0, 1), 12);
  add("inference order 13<14", i.Subsampling(1, 0).Activation(kBadActivation), 13);
  add("inference order 14<15", i.Activation(kBadActivation, Param::infinity), 14);
  add("inference order 15<29", i.Activation(kIdentity, Param::quarter), 15);
  add("inference order 29<16", i.Activation(kRelu, Param::zero).Algorithm(kBadAlgorithm), 29);
  add("inference order 16<17", i.Algorithm(kBadAlgorithm).Strategy(0), 16);
  add("inference order 17<20", i.Strategy(4).Input(2, 2).Padding(0, 0, 0, 0), 17);
  add("inference order 20<26", i.Algorithm(kDirect).Input(2, 2).Padding(0, 0, 0, 0), 20);
  add("inference order 26<27", i.Algorithm(kDirect).Strategy(kPrecompute).Workspace(Ws::query), 26);
  add("inference order 27<54", i.Algorithm(kDirect).Kernel(1, 1).Padding(0, 0, 0, 0).Strategy(kReuse).Workspace(Ws::misaligned_zero), 27);
  add("inference order 27<53", i.Algorithm(kDirect).Kernel(1, 1).Padding(0, 0, 0, 0).Strategy(kPrecompute).Workspace(Ws::size_null), 27);
  add("inference order 4 first: everything wrong",
      i.InputChannels(0).OutputChannels(0).Input(0, 0).Subsampling(0, 0).Activation(kBadActivation).Algorithm(kBadAlgorithm)
          .Strategy(0).Workspace(Ws::misaligned_zero), 4);
  // the 14-argument inline overload
  add("inference inline: valid, tuple_based", i.Strategy(nnp_convolution_transform_strategy_tuple_based).Legacy(), 0);
  add("inference inline: implicit_gemm stride 2", i.Algorithm(kGemm).Subsampling(2, 2).Legacy(), 0);
  add("inference inline: input channels 0", i.InputChannels(0).Legacy(), 4);
  add("inference inline: output channels 0", i.OutputChannels(0).Legacy(), 5);
  add("inference inline: input size 0", i.Input(0, 5).Legacy(), 10);
  add("inference inline: padding", i.Padding(3, 0, 0, 0).Legacy(), 12);
  add("inference inline: subsampling 0", i.Subsampling(0, 0).Legacy(), 13);
  add("inference inline: bad algorithm", i.Algorithm(kBadAlgorithm).Legacy(), 16);
  add("inference inline: strategy 0", i.Strategy(0).Legacy(), 17);
  add("inference inline: input too small", i.Input(1, 2).Padding(0, 0, 0, 0).Legacy(), 20);
  add("inference inline: direct 3x3", i.Algorithm(kDirect).Legacy(), 26);
  add("inference inline: direct precompute", i.Algorithm(kDirect).Kernel(1, 1).Padding(0, 0, 0, 0).Strategy(kPrecompute).Legacy(), 27);
  return rows;
}

// Values outside the range of values of nnp_activation (0..1) or of
// nnp_convolution_transform_strategy (0..3). Algorithm 7 and strategy 0 are inside (not valid,
// but representable), so they stay in the main table.
bool OutsideEnumRange(const ConvCall& c) {
  return c.activation < 0 || c.activation > 1 || c.strategy < 0 || c.strategy > 3;
}

std::vector<ConvRow> SelectedConvRows() {
  std::vector<ConvRow> selected;
  for (const ConvRow& row : ConvRows()) {
    if (OutsideEnumRange(row.call) == bool(API_STATUS_OUT_OF_RANGE_ENUMS)) selected.push_back(row);
  }
  return selected;
}

class ConvolutionStatus : public ::testing::TestWithParam<ConvRow> {};

TEST_P(ConvolutionStatus, ReturnsTheSpecifiedStatus) {
  const ConvRow& row = GetParam();
  SCOPED_TRACE(::testing::Message() << row.call);
  EXPECT_EQ(int(RunConv(row.call)), row.expected) << row.name;
}

// nnp_ext_convolution_algorithm validates exactly as the entry point, without the workspace
// checks and without activation arguments (it has none): its status must equal the entry
// point's for the same call made with identity activation and a size query.
TEST_P(ConvolutionStatus, ExtensionValidatesLikeTheCall) {
  const ConvRow& row = GetParam();
  const ConvCall& c = row.call;
  SCOPED_TRACE(::testing::Message() << c);
  ConvCall plain = c.Activation(kIdentity, Param::none).Workspace(Ws::query);
  plain.legacy = false;
  const int call_status = int(RunConv(plain));

  nnp_convolution_algorithm chosen = static_cast<nnp_convolution_algorithm>(kBadAlgorithm);
  const nnp_status status = nnp_ext_convolution_algorithm(
      ExtOp(c.op), static_cast<nnp_convolution_algorithm>(c.algorithm),
      static_cast<nnp_convolution_transform_strategy>(c.strategy), c.batch, c.input_channels, c.output_channels,
      c.input, c.padding, c.kernel, c.subsampling, &chosen);
  EXPECT_EQ(int(status), call_status) << row.name;
  const bool activation_or_workspace = row.expected == 14 || row.expected == 15 || row.expected == 28 ||
                                       row.expected == 29 || row.expected == 53 || row.expected == 54;
  if (!activation_or_workspace) {
    EXPECT_EQ(int(status), row.expected) << row.name;
  }
  if (status == nnp_status_success) {
    if (c.algorithm != kAuto) {
      EXPECT_EQ(int(chosen), c.algorithm) << "an explicit algorithm is echoed back";
    } else {
      EXPECT_GE(int(chosen), 1);
      EXPECT_LE(int(chosen), 6);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Table, ConvolutionStatus, ::testing::ValuesIn(SelectedConvRows()),
                         [](const ::testing::TestParamInfo<ConvRow>& info) {
                           return std::to_string(info.index) + "_" + OpName(info.param.call.op);
                         });

#if !API_STATUS_OUT_OF_RANGE_ENUMS

// Workspace checks: the query must not depend on data pointers, and a failing check leaves the
// output untouched.
TEST(ConvolutionStatusWorkspace, FailedWorkspaceChecksComputeNothing) {
  for (Op op : {Op::output, Op::input_gradient, Op::kernel_gradient, Op::inference}) {
    ConvCall c = Output();
    c.op = op;
    SCOPED_TRACE(OpName(op));
    for (Ws ws : {Ws::aligned_zero, Ws::size_null, Ws::misaligned_zero}) {
      ConvData d(c);
      d.output.assign(d.output.size(), api_test::kNaN);
      std::vector<float>* result = &d.output;  // output / inference write here
      if (op == Op::input_gradient) result = &d.input;
      if (op == Op::kernel_gradient) result = &d.kernel;
      result->assign(result->size(), api_test::kNaN);
      AlignedBytes buffer(256);
      size_t size = 0;
      uint8_t* address = buffer.data() + (ws == Ws::misaligned_zero ? 4 : 0);
      const nnp_status status = CallWithWorkspace(c, d, address, ws == Ws::size_null ? nullptr : &size);
      EXPECT_EQ(int(status), ws == Ws::misaligned_zero ? 54 : 53);
      EXPECT_TRUE(api_test::AllNaN(*result)) << "a call that failed its workspace check wrote its result";
    }
  }
}

// ============================================================================================
// Fully connected
// ============================================================================================

enum class Fc { output, inference, inference_f16f32 };

struct FcRow {
  const char* name;
  Fc function;
  size_t batch, input_channels, output_channels;
  int expected;
};

void PrintTo(const FcRow& row, std::ostream* out) { *out << row.name; }

nnp_status RunFc(const FcRow& r) {
  const size_t b = std::max<size_t>(r.batch, 1);
  std::vector<float> input(std::max<size_t>(1, b * r.input_channels), 0.5f);
  std::vector<float> kernel(std::max<size_t>(1, r.input_channels * r.output_channels), 0.25f);
  std::vector<uint16_t> kernel16(kernel.size(), 0x3400);  // 0.25 in binary16
  std::vector<float> output(std::max<size_t>(1, b * r.output_channels), api_test::kNaN);
  switch (r.function) {
    case Fc::output:
      return nnp_fully_connected_output(r.batch, r.input_channels, r.output_channels, input.data(), kernel.data(),
                                        output.data(), nullptr, nullptr);
    case Fc::inference:
      return nnp_fully_connected_inference(r.input_channels, r.output_channels, input.data(), kernel.data(),
                                           output.data(), nullptr);
    case Fc::inference_f16f32:
      return nnp_fully_connected_inference_f16f32(r.input_channels, r.output_channels, input.data(),
                                                  kernel16.data(), output.data(), nullptr);
  }
  return nnp_status_success;
}

class FullyConnectedStatus : public ::testing::TestWithParam<FcRow> {};

TEST_P(FullyConnectedStatus, ReturnsTheSpecifiedStatus) {
  const FcRow& r = GetParam();
  EXPECT_EQ(int(RunFc(r)), r.expected) << r.name;
}

INSTANTIATE_TEST_SUITE_P(Table, FullyConnectedStatus,
                         ::testing::Values(
                             FcRow{"output: valid", Fc::output, 2, 3, 4, 0},
                             FcRow{"output: 1x1x1", Fc::output, 1, 1, 1, 0},
                             FcRow{"output: batch 0", Fc::output, 0, 3, 4, 2},
                             FcRow{"output: input channels 0", Fc::output, 2, 0, 4, 4},
                             FcRow{"output: output channels 0", Fc::output, 2, 3, 0, 5},
                             FcRow{"output order 2<4", Fc::output, 0, 0, 4, 2},
                             FcRow{"output order 4<5", Fc::output, 2, 0, 0, 4},
                             FcRow{"output order: all 0", Fc::output, 0, 0, 0, 2},
                             FcRow{"inference: valid", Fc::inference, 1, 3, 4, 0},
                             FcRow{"inference: input channels 0", Fc::inference, 1, 0, 4, 4},
                             FcRow{"inference: output channels 0", Fc::inference, 1, 3, 0, 5},
                             FcRow{"inference order 4<5", Fc::inference, 1, 0, 0, 4},
                             FcRow{"f16f32: valid", Fc::inference_f16f32, 1, 3, 4, 0},
                             FcRow{"f16f32: input channels 0", Fc::inference_f16f32, 1, 0, 4, 4},
                             FcRow{"f16f32: output channels 0", Fc::inference_f16f32, 1, 3, 0, 5},
                             FcRow{"f16f32 order 4<5", Fc::inference_f16f32, 1, 0, 0, 4}),
                         [](const ::testing::TestParamInfo<FcRow>& info) { return std::to_string(info.index); });

// ============================================================================================
// Max pooling
// ============================================================================================

struct PoolRow {
  const char* name;
  size_t batch, channels;
  nnp_size input;  // width, height
  nnp_padding padding;
  nnp_size pool;
  nnp_size stride;
  int expected;
};

void PrintTo(const PoolRow& row, std::ostream* out) { *out << row.name; }

size_t PoolOutputExtent(size_t padded, size_t pool, size_t stride) {
  if (pool == 0 || stride == 0) return 1;
  return (Doz(padded, pool) + stride - 1) / stride + 1;
}

class PoolingStatus : public ::testing::TestWithParam<PoolRow> {};

TEST_P(PoolingStatus, ReturnsTheSpecifiedStatus) {
  const PoolRow& r = GetParam();
  const size_t oh = PoolOutputExtent(r.padding.top + r.input.height + r.padding.bottom, r.pool.height, r.stride.height);
  const size_t ow = PoolOutputExtent(r.padding.left + r.input.width + r.padding.right, r.pool.width, r.stride.width);
  const size_t planes = std::max<size_t>(r.batch, 1) * std::max<size_t>(r.channels, 1);
  std::vector<float> input(std::max<size_t>(1, planes * r.input.height * r.input.width), 1.0f);
  std::vector<float> output(planes * oh * ow, api_test::kNaN);
  const nnp_status status = nnp_max_pooling_output(r.batch, r.channels, r.input, r.padding, r.pool, r.stride,
                                                   input.data(), output.data(), nullptr);
  EXPECT_EQ(int(status), r.expected) << r.name;
  if (r.expected == 0 && (r.batch == 0 || r.channels == 0)) {
    EXPECT_TRUE(api_test::AllNaN(output)) << "batch or channels 0 must write nothing";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, PoolingStatus,
    ::testing::Values(
        PoolRow{"valid 2x2/2", 2, 3, {8, 8}, {0, 0, 0, 0}, {2, 2}, {2, 2}, 0},
        PoolRow{"batch 0 is not checked", 0, 3, {8, 8}, {0, 0, 0, 0}, {2, 2}, {2, 2}, 0},
        PoolRow{"channels 0 is not checked", 2, 0, {8, 8}, {0, 0, 0, 0}, {2, 2}, {2, 2}, 0},
        PoolRow{"unusual shape 5x1/3x1 is supported", 1, 1, {9, 9}, {0, 0, 0, 0}, {1, 5}, {1, 3}, 0},
        PoolRow{"unusual shape 7x7/5 is supported", 1, 2, {9, 9}, {6, 0, 0, 6}, {7, 7}, {5, 5}, 0},
        PoolRow{"1x1/1 is supported", 1, 1, {3, 3}, {0, 0, 0, 0}, {1, 1}, {1, 1}, 0},
        PoolRow{"window larger than the image", 1, 1, {2, 1}, {0, 0, 0, 0}, {3, 3}, {1, 1}, 0},
        PoolRow{"padding 1 < window 2 on every side", 1, 1, {4, 4}, {1, 1, 1, 1}, {2, 2}, {2, 2}, 0},
        PoolRow{"input height 0", 1, 1, {8, 0}, {0, 0, 0, 0}, {2, 2}, {2, 2}, 10},
        PoolRow{"input width 0", 1, 1, {0, 8}, {0, 0, 0, 0}, {2, 2}, {2, 2}, 10},
        PoolRow{"batch 0 and input size 0", 0, 1, {0, 8}, {0, 0, 0, 0}, {2, 2}, {2, 2}, 10},
        PoolRow{"pooling height 0", 1, 1, {8, 8}, {0, 0, 0, 0}, {2, 0}, {1, 1}, 14},
        PoolRow{"pooling width 0", 1, 1, {8, 8}, {0, 0, 0, 0}, {0, 2}, {1, 1}, 14},
        PoolRow{"stride height 0", 1, 1, {8, 8}, {0, 0, 0, 0}, {2, 2}, {2, 0}, 15},
        PoolRow{"stride width 0", 1, 1, {8, 8}, {0, 0, 0, 0}, {2, 2}, {0, 2}, 15},
        PoolRow{"stride height > pooling height", 1, 1, {8, 8}, {0, 0, 0, 0}, {2, 2}, {2, 3}, 15},
        PoolRow{"stride width > pooling width", 1, 1, {8, 8}, {0, 0, 0, 0}, {2, 2}, {3, 2}, 15},
        PoolRow{"stride width 3 > pooling width 2 of a 3x2 window", 1, 1, {8, 8}, {0, 0, 0, 0}, {2, 3}, {3, 1}, 15},
        PoolRow{"stride height 3 <= pooling height 3 of a 3x2 window", 1, 1, {8, 8}, {0, 0, 0, 0}, {2, 3}, {2, 3}, 0},
        PoolRow{"padding top == pooling height", 1, 1, {8, 8}, {2, 0, 0, 0}, {2, 2}, {2, 2}, 12},
        PoolRow{"padding right == pooling width", 1, 1, {8, 8}, {0, 2, 0, 0}, {2, 2}, {2, 2}, 12},
        PoolRow{"padding bottom == pooling height", 1, 1, {8, 8}, {0, 0, 2, 0}, {2, 2}, {2, 2}, 12},
        PoolRow{"padding left == pooling width", 1, 1, {8, 8}, {0, 0, 0, 2}, {2, 2}, {2, 2}, 12},
        PoolRow{"padding top 2 vs height 2 of a 2x3 window", 1, 1, {8, 8}, {2, 0, 0, 0}, {3, 2}, {1, 1}, 12},
        PoolRow{"padding left 2 vs width 3 of a 2x3 window", 1, 1, {8, 8}, {0, 0, 0, 2}, {3, 2}, {1, 1}, 0},
        PoolRow{"padding left 3 vs width 3 of a 2x3 window", 1, 1, {8, 8}, {0, 0, 0, 3}, {3, 2}, {1, 1}, 12},
        PoolRow{"order 10<14", 1, 1, {8, 0}, {0, 0, 0, 0}, {0, 2}, {1, 1}, 10},
        PoolRow{"order 14<15", 1, 1, {8, 8}, {0, 0, 0, 0}, {2, 0}, {0, 1}, 14},
        PoolRow{"order 14<15 (stride > zero window)", 1, 1, {8, 8}, {0, 0, 0, 0}, {0, 2}, {1, 1}, 14},
        PoolRow{"order 15<12", 1, 1, {8, 8}, {3, 0, 0, 0}, {2, 2}, {0, 2}, 15},
        PoolRow{"order 15<12 (stride too large)", 1, 1, {8, 8}, {0, 0, 0, 5}, {2, 2}, {4, 2}, 15},
        PoolRow{"order 10 first: everything wrong", 0, 0, {0, 0}, {9, 9, 9, 9}, {0, 0}, {0, 0}, 10}),
    [](const ::testing::TestParamInfo<PoolRow>& info) { return std::to_string(info.index); });

// ============================================================================================
// ReLU, ReLU gradient, softmax
// ============================================================================================

enum class Act { relu, relu_gradient, softmax };

struct ActRow {
  const char* name;
  Act function;
  size_t batch, channels;
  float slope;
  int expected;
};

void PrintTo(const ActRow& row, std::ostream* out) { *out << row.name; }

class ActivationStatus : public ::testing::TestWithParam<ActRow> {};

TEST_P(ActivationStatus, ReturnsTheSpecifiedStatus) {
  const ActRow& r = GetParam();
  const size_t n = std::max<size_t>(1, r.batch * r.channels);
  std::vector<float> a(n, -0.5f), b(n, 0.5f), out(n, api_test::kNaN);
  nnp_status status = nnp_status_success;
  switch (r.function) {
    case Act::relu:
      status = nnp_relu_output(r.batch, r.channels, a.data(), out.data(), r.slope, nullptr);
      break;
    case Act::relu_gradient:
      status = nnp_relu_input_gradient(r.batch, r.channels, b.data(), a.data(), out.data(), r.slope, nullptr);
      break;
    case Act::softmax:
      status = nnp_softmax_output(r.batch, r.channels, a.data(), out.data(), nullptr);
      break;
  }
  EXPECT_EQ(int(status), r.expected) << r.name;
}

constexpr float kInf = std::numeric_limits<float>::infinity();

INSTANTIATE_TEST_SUITE_P(
    Table, ActivationStatus,
    ::testing::Values(ActRow{"relu: valid", Act::relu, 2, 3, 0.0f, 0},
                      ActRow{"relu: negative slope not validated (NaN)", Act::relu, 2, 3, api_test::kNaN, 0},
                      ActRow{"relu: negative slope not validated (-1)", Act::relu, 2, 3, -1.0f, 0},
                      ActRow{"relu: negative slope not validated (inf)", Act::relu, 2, 3, kInf, 0},
                      ActRow{"relu: batch 0", Act::relu, 0, 3, 0.0f, 2},
                      ActRow{"relu: channels 0", Act::relu, 2, 0, 0.0f, 3},
                      ActRow{"relu order 2<3", Act::relu, 0, 0, 0.0f, 2},
                      ActRow{"relu gradient: valid", Act::relu_gradient, 2, 3, 0.1f, 0},
                      ActRow{"relu gradient: slope not validated (NaN)", Act::relu_gradient, 2, 3, api_test::kNaN, 0},
                      ActRow{"relu gradient: slope not validated (-inf)", Act::relu_gradient, 2, 3, -kInf, 0},
                      ActRow{"relu gradient: batch 0", Act::relu_gradient, 0, 3, 0.0f, 2},
                      ActRow{"relu gradient: channels 0", Act::relu_gradient, 2, 0, 0.0f, 3},
                      ActRow{"relu gradient order 2<3", Act::relu_gradient, 0, 0, 0.0f, 2},
                      ActRow{"softmax: valid", Act::softmax, 2, 3, 0.0f, 0},
                      ActRow{"softmax: one channel", Act::softmax, 1, 1, 0.0f, 0},
                      ActRow{"softmax: batch 0", Act::softmax, 0, 3, 0.0f, 2},
                      ActRow{"softmax: channels 0", Act::softmax, 2, 0, 0.0f, 3},
                      ActRow{"softmax order 2<3", Act::softmax, 0, 0, 0.0f, 2}),
    [](const ::testing::TestParamInfo<ActRow>& info) { return std::to_string(info.index); });

// ============================================================================================
// nnjit.h name helpers
// ============================================================================================

TEST(ExtensionNames, AlgorithmNamesAreTheDocumentedOnes) {
  const struct {
    int algorithm;
    const char* name;
  } names[] = {{kAuto, "auto"}, {kFt8, "ft8x8"}, {kFt16, "ft16x16"}, {kWt8, "wt8x8"},
               {kGemm, "implicit_gemm"}, {kDirect, "direct"}, {kWt8Fp16, "wt8x8_fp16"}};
  for (const auto& entry : names) {
    const char* name = nnp_ext_algorithm_name(static_cast<nnp_convolution_algorithm>(entry.algorithm));
    ASSERT_NE(name, nullptr) << entry.algorithm;
    EXPECT_STREQ(name, entry.name);
  }
  EXPECT_EQ(nnp_ext_algorithm_name(static_cast<nnp_convolution_algorithm>(kBadAlgorithm)), nullptr);
}

TEST(ExtensionNames, IsaNameAfterInitialize) {
  const char* isa = nnp_ext_isa_name();
  ASSERT_NE(isa, nullptr);
  EXPECT_STRNE(isa, "uninitialized");
  EXPECT_GT(std::strlen(isa), 0u);
}

#endif  // !API_STATUS_OUT_OF_RANGE_ENUMS

}  // namespace
