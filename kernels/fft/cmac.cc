// The reference multiply-accumulate microkernel and the choice of generated code.
#include "kernels/fft/cmac.h"

#include <algorithm>
#include <cmath>

#include "jit/kernel_cache.h"
#include "kernels/fft/generators.h"
#include "kernels/fft/transforms.h"

namespace nnjit::fft {
namespace {

constexpr uint8_t kUnroll = 4;

const float* at(const float* base, size_t bytes) {
  return reinterpret_cast<const float*>(reinterpret_cast<const char*>(base) + bytes);
}
float* at(float* base, size_t bytes) { return reinterpret_cast<float*>(reinterpret_cast<char*>(base) + bytes); }

}  // namespace

void reference_cmac(const CmacSpec& spec, const CmacArgs& p) {
  if (spec.paired) {  // two independent blocks, each computed as by an unpaired call
    CmacSpec single = spec;
    single.paired = false;
    reference_cmac(single, p);
    CmacArgs second = p;
    second.a = at(p.a, p.a_pair);
    second.c = at(p.c, 2 * kLanes * sizeof(float));
    reference_cmac(single, second);
    return;
  }
  float p1[kCmacMaxColumns][kLanes] = {}, p2[kCmacMaxColumns][kLanes] = {}, p3[kCmacMaxColumns][kLanes] = {};
  for (size_t k = 0; k < p.k; ++k) {
    const float* ar = at(p.a, k * p.lda);
    const float* ai = at(p.a, k * p.lda + p.a_im);
    float a_re[kLanes], a_im[kLanes];
    for (size_t l = 0; l < kLanes; ++l) {
      const bool load = !spec.masked || p.mask[l] < 0;
      a_re[l] = load ? ar[l] : 0.0f;
      a_im[l] = load ? ai[l] : 0.0f;
    }
    const size_t b_offset = spec.blocked ? k / kLanes * p.ldb_k + k % kLanes * sizeof(float) : k * p.ldb_k;
    for (size_t n = 0; n < spec.nr; ++n) {
      const float br = *at(p.b, b_offset + n * p.ldb_n);
      const float bi = *at(p.b, b_offset + n * p.ldb_n + kLanes * sizeof(float));
      if (spec.pointwise) {
        for (size_t l = 0; l < kLanes; ++l) {
          p1[n][l] = std::fma(a_re[l], br, p1[n][l]);
          p2[n][l] = std::fma(a_im[l], bi, p2[n][l]);
        }
      } else {
        const float bs = *at(p.b, b_offset + n * p.ldb_n + 2 * kLanes * sizeof(float));  // br + bi
        for (size_t l = 0; l < kLanes; ++l) {
          const float as = a_re[l] + a_im[l];
          const float ad = a_im[l] - a_re[l];
          p1[n][l] = std::fma(a_re[l], bs, p1[n][l]);
          p2[n][l] = std::fma(as, bi, p2[n][l]);
          p3[n][l] = std::fma(ad, br, p3[n][l]);
        }
      }
    }
  }
  for (size_t n = 0; n < spec.nr; ++n) {
    float* cr = at(p.c, n * p.ldc_n);
    float* ci = cr + kLanes;
    for (size_t l = 0; l < kLanes; ++l) {
      float re, im;
      if (spec.pointwise) {
        re = p1[n][l];
        im = p2[n][l];
      } else {
        re = p1[n][l] - p2[n][l];
        im = p1[n][l] + p3[n][l];
      }
      if (spec.accumulate) {
        re += cr[l];
        im += ci[l];
      }
      cr[l] = re;
      ci[l] = im;
    }
  }
}

jit::KernelKey cmac_key(const CmacSpec& spec, Isa isa) {
  jit::KernelKey key;
  key.family = jit::KernelFamily::f32_fft_cmac;
  key.isa = isa;
  key.mr = kLanes;
  key.nr = spec.nr;
  key.k_unroll = kUnroll;
  key.flags = (spec.pointwise ? kPointwise : 0) | (spec.accumulate ? jit::kAccumulate : 0) |
              (spec.masked ? kMaskedA : 0) | (spec.blocked ? kBlockedB : 0) | (spec.paired ? kPairedA : 0);
  return key;
}

CmacFn jit_cmac(const CmacSpec& spec, Isa isa) {
  const jit::KernelKey key = cmac_key(spec, isa);
  jit::Generator generator = nullptr;
#if NNJIT_X64_JIT
  if (key.isa == Isa::avx2 || key.isa == Isa::avx512) generator = generate_cmac_avx2;
#endif
  if (generator == nullptr) return nullptr;
  return reinterpret_cast<CmacFn>(const_cast<void*>(jit::get_kernel(key, generator)));
}

Cmac::Cmac(const CmacSpec& spec, Isa isa) : spec_(spec), code_(jit_cmac(spec, isa)) {}

void Cmac::operator()(const CmacArgs& args) const {
  if (code_ != nullptr) code_(&args);
  else reference_cmac(spec_, args);
}

CmacSet::CmacSet(Isa isa, bool blocked)
    : columns(std::min(kCmacColumns, cmac_columns(isa))),
      paired(true),
      paired_columns(std::min(kCmacPairedColumns, cmac_columns(isa))) {
  for (int pointwise = 0; pointwise < 2; ++pointwise)
    for (int accumulate = 0; accumulate < 2; ++accumulate) {
      for (size_t nr = 1; nr <= columns; ++nr)
        for (int masked = 0; masked < 2; ++masked)
          kernels[pointwise][accumulate][masked][nr - 1] =
              Cmac({static_cast<uint8_t>(nr), pointwise != 0, accumulate != 0, masked != 0, blocked}, isa);
      for (size_t nr = 1; nr <= paired_columns; ++nr) {
        const Cmac pair({static_cast<uint8_t>(nr), pointwise != 0, accumulate != 0, false, blocked, true}, isa);
        paired = paired && pair.generated();
        paired_kernels[pointwise][accumulate][nr - 1] = pair;
      }
    }
  if (!paired || paired_columns % columns != 0) paired_columns = columns;
}

}  // namespace nnjit::fft
