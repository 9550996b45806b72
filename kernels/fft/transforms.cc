// The reference tile transforms (fft_algorithm.h on 8 float lanes) and the choice
// between them and the generated code.
#include "kernels/fft/transforms.h"

#include <cmath>
#include <cstring>

#include "jit/kernel_cache.h"
#include "kernels/fft/fft_algorithm.h"
#include "kernels/fft/generators.h"

namespace nnjit::fft {
namespace {

struct Lanes {
  float v[kLanes];
};

// Computes on 8 lanes at once; fused multiply-adds round once, as the generated code does.
struct LaneBuilder {
  using V = Lanes;
  V zero() const { return {}; }
  V constant(float c) const {
    V r;
    for (float& x : r.v) x = c;
    return r;
  }
  template <class F>
  static V map(const V& a, const V& b, F f) {
    V r;
    for (size_t l = 0; l < kLanes; ++l) r.v[l] = f(a.v[l], b.v[l]);
    return r;
  }
  V add(const V& a, const V& b) const { return map(a, b, [](float x, float y) { return x + y; }); }
  V sub(const V& a, const V& b) const { return map(a, b, [](float x, float y) { return x - y; }); }
  V mul(const V& a, const V& b) const { return map(a, b, [](float x, float y) { return x * y; }); }
  V neg(const V& a) const {
    V r;
    for (size_t l = 0; l < kLanes; ++l) r.v[l] = -a.v[l];
    return r;
  }
  V fma(const V& a, const V& b, const V& c) const {
    V r;
    for (size_t l = 0; l < kLanes; ++l) r.v[l] = std::fma(a.v[l], b.v[l], c.v[l]);
    return r;
  }
  V fms(const V& a, const V& b, const V& c) const {
    V r;
    for (size_t l = 0; l < kLanes; ++l) r.v[l] = std::fma(a.v[l], b.v[l], -c.v[l]);
    return r;
  }
  V fnma(const V& a, const V& b, const V& c) const {
    V r;
    for (size_t l = 0; l < kLanes; ++l) r.v[l] = std::fma(-a.v[l], b.v[l], c.v[l]);
    return r;
  }
};

const float* at(const float* base, size_t bytes) {
  return reinterpret_cast<const float*>(reinterpret_cast<const char*>(base) + bytes);
}
float* at(float* base, size_t bytes) { return reinterpret_cast<float*>(reinterpret_cast<char*>(base) + bytes); }

Lanes load_lanes(const float* p) {
  Lanes v;
  std::memcpy(v.v, p, sizeof v.v);
  return v;
}
void store_lanes(float* p, const Lanes& v) { std::memcpy(p, v.v, sizeof v.v); }

uint8_t encode_extent(uint8_t rows, uint8_t cols) { return static_cast<uint8_t>((rows - 1) * 16 + (cols - 1)); }

}  // namespace

void reference_forward(const ForwardSpec& spec, const float* in, size_t in_stride, float* out, size_t out_stride,
                       size_t out_im) {
  LaneBuilder b;
  forward_2d(
      b, spec.tile, spec.rows, spec.cols, spec.conjugate,
      [&](size_t r, size_t c) { return load_lanes(at(in, r * in_stride) + c * kLanes); },
      [&](size_t slot, const Lanes& re, const Lanes& im) {
        store_lanes(at(out, slot * out_stride), re);
        store_lanes(at(out, slot * out_stride + out_im), im);
        if (spec.summed) store_lanes(at(out, slot * out_stride + out_im + kLanes * sizeof(float)), b.add(re, im));
      });
}

void reference_inverse(const InverseSpec& spec, const float* in, size_t in_stride, size_t in_im, float* out,
                       size_t out_stride, const float* bias) {
  LaneBuilder b;
  const Lanes scale = b.constant(1.0f / static_cast<float>(4 * spec.tile * spec.tile));
  const Lanes bias_lanes = spec.bias ? load_lanes(bias) : b.zero();
  inverse_2d(
      b, spec.tile, spec.rows, spec.cols,
      [&](size_t slot) {
        return Cplx<Lanes>{load_lanes(at(in, slot * in_stride)), load_lanes(at(in, slot * in_stride + in_im))};
      },
      [&](size_t r, size_t c, const Lanes& y) {
        Lanes v = spec.bias ? b.fma(y, scale, bias_lanes) : b.mul(y, scale);
        if (spec.relu) {
          for (float& x : v.v) x = x > 0.0f ? x : 0.0f;
        }
        store_lanes(at(out, r * out_stride) + c * kLanes, v);
      });
}

jit::KernelKey forward_key(const ForwardSpec& spec, Isa isa) {
  jit::KernelKey key;
  key.family = jit::KernelFamily::f32_fft_forward;
  key.isa = isa;
  key.mr = spec.tile;
  key.nr = encode_extent(spec.rows, spec.cols);
  key.k_unroll = 1;
  key.flags = (spec.conjugate ? kConjugate : 0) | (spec.summed ? kSummed : 0);
  return key;
}

jit::KernelKey inverse_key(const InverseSpec& spec, Isa isa) {
  jit::KernelKey key;
  key.family = jit::KernelFamily::f32_fft_inverse;
  key.isa = isa;
  key.mr = spec.tile;
  key.nr = encode_extent(spec.rows, spec.cols);
  key.k_unroll = 1;
  key.flags = (spec.bias ? jit::kBias : 0) | (spec.relu ? jit::kRelu : 0);
  return key;
}

namespace {

// The generated transform of `key` as a function of type Fn; nullptr without a generator
// for the key's ISA, or when generation failed.
template <class Fn>
Fn jit_transform(const jit::KernelKey& key) {
  jit::Generator generator = nullptr;
#if NNJIT_X64_JIT
  if (key.isa == Isa::avx2 || key.isa == Isa::avx512) generator = generate_transform_avx2;
#endif
  if (generator == nullptr) return nullptr;
  return reinterpret_cast<Fn>(const_cast<void*>(jit::get_kernel(key, generator)));
}

}  // namespace

ForwardTransformFn jit_forward(const ForwardSpec& spec, Isa isa) {
  return jit_transform<ForwardTransformFn>(forward_key(spec, isa));
}

InverseTransformFn jit_inverse(const InverseSpec& spec, Isa isa) {
  return jit_transform<InverseTransformFn>(inverse_key(spec, isa));
}

ForwardTransform::ForwardTransform(const ForwardSpec& spec, Isa isa) : spec_(spec), code_(jit_forward(spec, isa)) {}

void ForwardTransform::operator()(const float* in, size_t in_stride, float* out, size_t out_stride,
                                  size_t out_im) const {
  if (code_ != nullptr) code_(in, in_stride, out, out_stride, out_im);
  else reference_forward(spec_, in, in_stride, out, out_stride, out_im);
}

InverseTransform::InverseTransform(const InverseSpec& spec, Isa isa) : spec_(spec), code_(jit_inverse(spec, isa)) {}

void InverseTransform::operator()(const float* in, size_t in_stride, size_t in_im, float* out, size_t out_stride,
                                  const float* bias) const {
  if (code_ != nullptr) code_(in, in_stride, in_im, out, out_stride, bias);
  else reference_inverse(spec_, in, in_stride, in_im, out, out_stride, bias);
}

}  // namespace nnjit::fft
