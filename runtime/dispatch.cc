#include "runtime/dispatch.h"

#include <array>
#include <initializer_list>

#include "kernels/activation/activation.h"
#include "kernels/fft/kernel_sets.h"
#include "kernels/gemm/kernel_sets.h"
#include "kernels/pooling/pooling.h"
#include "kernels/reference/kernel_sets.h"
#include "kernels/winograd/kernel_sets.h"

namespace nnjit {
namespace {

// ---- Registrations: adding a kernel set is adding a line here. ----------------
// Reference sets need no line: they are every table's last resort.

struct ConvolutionRegistration {
  nnp_convolution_algorithm algorithm;
  Isa isa;
  const ConvolutionKernelSet* kernels;
};
constexpr std::initializer_list<ConvolutionRegistration> kConvolutionRegistrations = {
    {nnp_convolution_algorithm_implicit_gemm, Isa::avx2, &gemm::kConvolutionKernels},
    {nnp_convolution_algorithm_direct, Isa::avx2, &gemm::kConvolutionKernels},
    {nnp_convolution_algorithm_wt8x8, Isa::avx2, &winograd::kWinogradKernels},
    {kAlgorithmWt6x6, Isa::avx2, &winograd::kWinograd6x6Kernels},
    {nnp_convolution_algorithm_ft8x8, Isa::avx2, &fft::kFft8x8Kernels},
    {nnp_convolution_algorithm_ft16x16, Isa::avx2, &fft::kFft16x16Kernels},
};

template <class KernelSet>
struct Registration {
  Isa isa;
  const KernelSet* kernels;
};
constexpr std::initializer_list<Registration<FullyConnectedKernelSet>> kFullyConnectedRegistrations = {
    {Isa::avx2, &gemm::kFullyConnectedKernels},
};
constexpr std::initializer_list<Registration<MaxPoolingKernelSet>> kMaxPoolingRegistrations = {
#if defined(__x86_64__)
    {Isa::avx2, &pooling::kMaxPooling2x2s2Avx2},  // 2x2/2 only (its applies()); others: reference
#endif
};
constexpr std::initializer_list<Registration<ActivationKernelSet>> kActivationRegistrations = {
#if defined(__x86_64__)
    {Isa::avx2, &activation::kActivationKernelsAvx2},
#endif
};

// ---- Lookup ---------------------------------------------------------------------

// Levels from most to least capable; a machine runs those that Hardware::can_run allows.
constexpr std::array<Isa, kIsaCount> kPreference = {Isa::avx512, Isa::avx2, Isa::neon,
                                                    Isa::reference};
constexpr size_t kAlgorithmCount = 8;  // nnp_convolution_algorithm values 0..6, and kAlgorithmWt6x6

using ConvolutionTable = std::array<std::array<const ConvolutionKernelSet*, kIsaCount>, kAlgorithmCount>;

const ConvolutionTable& convolution_table() {
  static const ConvolutionTable table = [] {
    ConvolutionTable t{};
    for (const ConvolutionRegistration& r : kConvolutionRegistrations)
      t[static_cast<size_t>(r.algorithm)][static_cast<size_t>(r.isa)] = r.kernels;
    return t;
  }();
  return table;
}

const ConvolutionKernelSet* find_convolution_kernels(nnp_convolution_algorithm algorithm,
                                                     const ConvolutionProblem& problem,
                                                     const Hardware& hardware) {
  const auto& row = convolution_table()[static_cast<size_t>(algorithm)];
  for (Isa isa : kPreference) {
    const ConvolutionKernelSet* kernels = row[static_cast<size_t>(isa)];
    if (kernels != nullptr && hardware.can_run(isa) &&
        (kernels->applies == nullptr || kernels->applies(problem, hardware)))
      return kernels;
  }
  return nullptr;
}

// The registered set of the most capable runnable level that `applies` accepts.
template <class KernelSet, class Applies>
const KernelSet& best_of(std::initializer_list<Registration<KernelSet>> registrations,
                         const KernelSet& fallback, const Hardware& hardware, Applies applies) {
  for (Isa isa : kPreference) {
    for (const Registration<KernelSet>& r : registrations)
      if (r.isa == isa && hardware.can_run(isa) && applies(*r.kernels)) return *r.kernels;
  }
  return fallback;
}

constexpr auto kAlways = [](const auto&) { return true; };

}  // namespace

const ConvolutionKernelSet& convolution_kernels(nnp_convolution_algorithm algorithm,
                                                const ConvolutionProblem& problem,
                                                const Hardware& hardware) {
  if (const ConvolutionKernelSet* kernels = find_convolution_kernels(algorithm, problem, hardware))
    return *kernels;
  if (algorithm == nnp_convolution_algorithm_wt8x8_fp16) {
    if (const ConvolutionKernelSet* kernels =
            find_convolution_kernels(nnp_convolution_algorithm_wt8x8, problem, hardware))
      return *kernels;
  }
  return reference::kConvolutionKernels;
}

bool has_fast_convolution_kernels(nnp_convolution_algorithm algorithm, const ConvolutionProblem& problem,
                                  const Hardware& hardware) {
  return &convolution_kernels(algorithm, problem, hardware) != &reference::kConvolutionKernels;
}

const FullyConnectedKernelSet& fully_connected_kernels(const Hardware& hardware) {
  return best_of(kFullyConnectedRegistrations, reference::kFullyConnectedKernels, hardware, kAlways);
}

const MaxPoolingKernelSet& max_pooling_kernels(const PoolingShape& shape, const Hardware& hardware) {
  return best_of(kMaxPoolingRegistrations, reference::kMaxPoolingKernels, hardware,
                 [&](const MaxPoolingKernelSet& kernels) {
                   return kernels.applies == nullptr || kernels.applies(shape, hardware);
                 });
}

const ActivationKernelSet& activation_kernels(const Hardware& hardware) {
  return best_of(kActivationRegistrations, reference::kActivationKernels, hardware, kAlways);
}

}  // namespace nnjit
