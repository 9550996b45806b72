// Choosing Winograd transforms: JIT code where a generator serves the ISA, else the
// reference version.
#include "kernels/winograd/transforms.h"

#include "jit/kernel_cache.h"
#include "kernels/winograd/transform_generators.h"

namespace nnjit::winograd {
namespace {

jit::KernelKey key_for(jit::KernelFamily family, Isa isa, uint32_t flags, size_t tile = kTile) {
  jit::KernelKey key;
  key.family = family;
  key.isa = generator_isa(isa);
  key.mr = static_cast<uint8_t>(tile);  // the transformed tile: 8x8, or 6x6 for F(4x4, 3x3)
  key.nr = static_cast<uint8_t>(tile);
  key.k_unroll = 1;
  key.flags = flags;
  return key;
}

template <class Function>
Function get(const jit::KernelKey& key, jit::Generator generator) {
  return reinterpret_cast<Function>(const_cast<void*>(jit::get_kernel(key, generator)));
}

}  // namespace

jit::KernelKey input_transform_key(Isa isa) { return key_for(jit::KernelFamily::f32_wt8x8_input, isa, 0); }

jit::KernelKey kernel_transform_key(Isa isa, bool rotated) {
  return key_for(rotated ? jit::KernelFamily::f32_wt8x8_kernel_rotated : jit::KernelFamily::f32_wt8x8_kernel, isa,
                 0);
}

jit::KernelKey output_transform_key(Isa isa, OutputVariant v) {
  return key_for(v.stride2 ? jit::KernelFamily::f32_wt8x8_output_stride2 : jit::KernelFamily::f32_wt8x8_output, isa,
                 v.relu ? jit::kRelu : 0);
}

InputTransform jit_input_transform(Isa isa) {
#if NNJIT_X64_JIT
  const jit::KernelKey key = input_transform_key(isa);
  if (key.isa == Isa::avx2) return get<InputTransform>(key, generate_input_transform_avx2);
#endif
  (void)isa;
  return nullptr;
}

jit::KernelKey wide_kernel_transform_key(bool rotated) {
  jit::KernelKey key = kernel_transform_key(Isa::avx2, rotated);
  key.isa = Isa::avx512;
  return key;
}

KernelTransform jit_wide_kernel_transform(Isa isa, bool rotated) {
#if NNJIT_X64_JIT
  if (isa == Isa::avx512) return get<KernelTransform>(wide_kernel_transform_key(rotated), generate_kernel_transform_avx2);
#endif
  (void)isa;
  (void)rotated;
  return nullptr;
}

KernelTransform jit_kernel_transform(Isa isa, bool rotated) {
#if NNJIT_X64_JIT
  const jit::KernelKey key = kernel_transform_key(isa, rotated);
  if (key.isa == Isa::avx2) return get<KernelTransform>(key, generate_kernel_transform_avx2);
#endif
  (void)isa;
  (void)rotated;
  return nullptr;
}

OutputTransform jit_output_transform(Isa isa, OutputVariant variant) {
#if NNJIT_X64_JIT
  const jit::KernelKey key = output_transform_key(isa, variant);
  if (key.isa == Isa::avx2) return get<OutputTransform>(key, generate_output_transform_avx2);
#endif
  (void)isa;
  (void)variant;
  return nullptr;
}

InputTransform input_transform(Isa isa) {
  if (InputTransform f = jit_input_transform(isa)) return f;
  return reference_input_transform();
}

KernelTransform kernel_transform(Isa isa, bool rotated) {
  if (KernelTransform f = jit_kernel_transform(isa, rotated)) return f;
  return reference_kernel_transform(rotated);
}

OutputTransform output_transform(Isa isa, OutputVariant variant) {
  if (OutputTransform f = jit_output_transform(isa, variant)) return f;
  return reference_output_transform(variant);
}

// ---- F(4x4, 3x3) on 6x6 tiles -------------------------------------------------------------

jit::KernelKey small_input_transform_key(Isa isa) {
  return key_for(jit::KernelFamily::f32_wt8x8_input, isa, 0, kSmallTile);
}

jit::KernelKey small_kernel_transform_key(Isa isa, bool rotated) {
  return key_for(rotated ? jit::KernelFamily::f32_wt8x8_kernel_rotated : jit::KernelFamily::f32_wt8x8_kernel, isa, 0,
                 kSmallTile);
}

jit::KernelKey small_output_transform_key(Isa isa, bool relu) {
  return key_for(jit::KernelFamily::f32_wt8x8_output, isa, relu ? jit::kRelu : 0, kSmallTile);
}

InputTransform jit_small_input_transform(Isa isa) {
#if NNJIT_X64_JIT
  const jit::KernelKey key = small_input_transform_key(isa);
  if (key.isa == Isa::avx2) return get<InputTransform>(key, generate_input_transform_avx2);
#endif
  (void)isa;
  return nullptr;
}

KernelTransform jit_small_kernel_transform(Isa isa, bool rotated) {
#if NNJIT_X64_JIT
  const jit::KernelKey key = small_kernel_transform_key(isa, rotated);
  if (key.isa == Isa::avx2) return get<KernelTransform>(key, generate_kernel_transform_avx2);
#endif
  (void)isa;
  (void)rotated;
  return nullptr;
}

KernelTransform jit_small_wide_kernel_transform(Isa isa, bool rotated) {
#if NNJIT_X64_JIT
  if (isa == Isa::avx512) {
    jit::KernelKey key = small_kernel_transform_key(Isa::avx2, rotated);
    key.isa = Isa::avx512;
    return get<KernelTransform>(key, generate_kernel_transform_avx2);
  }
#endif
  (void)isa;
  (void)rotated;
  return nullptr;
}

OutputTransform jit_small_output_transform(Isa isa, bool relu) {
#if NNJIT_X64_JIT
  const jit::KernelKey key = small_output_transform_key(isa, relu);
  if (key.isa == Isa::avx2) return get<OutputTransform>(key, generate_output_transform_avx2);
#endif
  (void)isa;
  (void)relu;
  return nullptr;
}

InputTransform small_input_transform(Isa isa) {
  if (InputTransform f = jit_small_input_transform(isa)) return f;
  return reference_small_input_transform();
}

KernelTransform small_kernel_transform(Isa isa, bool rotated) {
  if (KernelTransform f = jit_small_kernel_transform(isa, rotated)) return f;
  return reference_small_kernel_transform(rotated);
}

OutputTransform small_output_transform(Isa isa, bool relu) {
  if (OutputTransform f = jit_small_output_transform(isa, relu)) return f;
  return reference_small_output_transform(relu);
}

}  // namespace nnjit::winograd
