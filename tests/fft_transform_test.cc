// FFT family internals: the tile transforms (reference twins and generated code) against
// a plain double-precision DFT, staging with every kind of offset, padding and partial
// tile, and the multiply-accumulate microkernel against its reference twin and a
// double-precision product.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "kernels/fft/cmac.h"
#include "kernels/fft/fft_algorithm.h"
#include "kernels/fft/staging.h"
#include "kernels/fft/transforms.h"
#include "runtime/hardware.h"
#include "tests/random_vector.h"

namespace nnjit::fft {
namespace {

constexpr uint32_t kSeed = 20261126;
constexpr double kEps = 1.0 / (1 << 24);
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
using Complex = std::complex<double>;

Hardware this_machine() { return detect_hardware(nullptr); }

// The instruction sets this machine runs generated code for (AVX2, and AVX-512VL variants).
std::vector<Isa> jit_isas() {
  const Hardware hw = this_machine();
  std::vector<Isa> isas;
  for (Isa isa : {Isa::avx2, Isa::avx512})
    if (hw.can_run(isa)) isas.push_back(isa);
  return isas;
}

using nnjit::testing::random_vector;

struct AlignedFloats {
  explicit AlignedFloats(size_t n, float fill = kNaN) : data_((n + 15) / 16 * 16 + 16) {
    offset_ = (64 - reinterpret_cast<uintptr_t>(data_.data()) % 64) % 64 / sizeof(float);
    std::fill(data_.begin(), data_.end(), fill);
  }
  float* get() { return data_.data() + offset_; }
  float& operator[](size_t i) { return get()[i]; }

 private:
  std::vector<float> data_;
  size_t offset_;
};

// The bin (k1, k2) and which part of it each slot holds, per fft_algorithm.h.
struct SlotBins {
  bool pointwise;
  size_t k1, k2;        // complex slot: its bin; pointwise: the bin of the "re" part
  size_t k1_im, k2_im;  // pointwise: the bin of the "im" part
};

SlotBins slot_bins(size_t tile, size_t slot) {
  const size_t half = tile / 2;
  if (slot == 0) return {true, 0, 0, 0, half};
  if (slot == 1) return {true, half, 0, half, half};
  if (slot < 1 + half) return {false, slot - 1, 0, 0, 0};
  if (slot < tile) return {false, slot - half, half, 0, 0};
  const size_t inner = slot - tile;
  return {false, inner % tile, inner / tile + 1, 0, 0};
}

// The plain 2-D DFT of a tile x[r][c] (r < rows, c < cols; zero elsewhere), all bins:
// X[k1][k2] = sum x[r][c] exp(-2 pi i (k1 r + k2 c) / tile), evaluated by the definition
// (rows, then columns; no fast algorithm).
std::vector<Complex> dft2(const std::vector<double>& x, size_t tile, size_t rows, size_t cols) {
  std::vector<Complex> w(tile);
  for (size_t k = 0; k < tile; ++k) w[k] = std::polar(1.0, -2.0 * std::numbers::pi * double(k) / double(tile));
  std::vector<Complex> row_dft(rows * tile, 0.0), out(tile * tile, 0.0);
  for (size_t r = 0; r < rows; ++r)
    for (size_t k2 = 0; k2 < tile; ++k2)
      for (size_t c = 0; c < cols; ++c) row_dft[r * tile + k2] += x[r * cols + c] * w[(k2 * c) % tile];
  for (size_t k1 = 0; k1 < tile; ++k1)
    for (size_t k2 = 0; k2 < tile; ++k2)
      for (size_t r = 0; r < rows; ++r) out[k1 * tile + k2] += row_dft[r * tile + k2] * w[(k1 * r) % tile];
  return out;
}

bool same_value(float a, float b) { return a == b || (std::isnan(a) && std::isnan(b)); }

// ---- forward ----------------------------------------------------------------------------

struct ForwardCase {
  uint8_t tile, rows, cols;
  bool conjugate;
  bool summed;
};

std::vector<ForwardCase> forward_cases() {
  std::vector<ForwardCase> cases;
  for (uint8_t tile : {8, 16}) {
    for (uint8_t rows : {1, 2, 3, 5, 8, 9, 15, 16}) {
      for (uint8_t cols : {1, 3, 4, 7, 8, 11, 16}) {
        if (rows > tile || cols > tile) continue;
        cases.push_back({tile, rows, cols, (rows + cols) % 2 == 0, (rows * cols) % 3 != 1});
      }
    }
  }
  return cases;
}

// Runs a forward transform of 8 lanes of random (rows x cols) data, in a buffer whose
// other elements are NaN (they must not be read), and checks every slot of every lane
// against the DFT, and with `summed` the sums re + im after the imaginary parts. Returns the
// outputs (slot-major: [slot][re 8, im 8]).
std::vector<float> check_forward(const ForwardCase& fc, bool use_jit, Isa isa, std::mt19937& rng,
                                 double* worst_ratio) {
  const ForwardSpec spec{fc.tile, fc.rows, fc.cols, fc.conjugate, fc.summed};
  const size_t tile = fc.tile, slots = slot_count(tile);
  const size_t stride_floats = (tile + 1) * kLanes;  // rows further apart than the tile
  AlignedFloats in(tile * stride_floats);
  const std::vector<float> data = random_vector(size_t(fc.rows) * fc.cols * kLanes, rng);
  for (size_t r = 0; r < fc.rows; ++r)
    for (size_t c = 0; c < fc.cols; ++c)
      for (size_t l = 0; l < kLanes; ++l) in[r * stride_floats + c * kLanes + l] = data[(r * fc.cols + c) * kLanes + l];
  const size_t out_stride = 4 * kLanes;  // re, gap, im, sum (or a second gap)
  AlignedFloats out(slots * out_stride + 8);
  if (use_jit) {
    const ForwardTransformFn code = jit_forward(spec, isa);
    EXPECT_NE(code, nullptr);
    if (code == nullptr) return {};
    code(in.get(), stride_floats * sizeof(float), out.get(), out_stride * sizeof(float), 2 * kLanes * sizeof(float));
  } else {
    reference_forward(spec, in.get(), stride_floats * sizeof(float), out.get(), out_stride * sizeof(float),
                      2 * kLanes * sizeof(float));
  }
  std::vector<float> result(slots * 2 * kLanes);
  for (size_t l = 0; l < kLanes; ++l) {
    std::vector<double> x(size_t(fc.rows) * fc.cols);
    double norm1 = 0.0;
    for (size_t i = 0; i < x.size(); ++i) {
      x[i] = data[i * kLanes + l];
      norm1 += std::fabs(x[i]);
    }
    const double bound = 2.0 * kEps * std::log2(double(tile * tile)) * norm1;
    const std::vector<Complex> full = dft2(x, tile, fc.rows, fc.cols);
    for (size_t s = 0; s < slots; ++s) {
      const SlotBins bins = slot_bins(tile, s);
      Complex expected;
      if (bins.pointwise) {
        expected = {full[bins.k1 * tile + bins.k2].real(), full[bins.k1_im * tile + bins.k2_im].real()};
      } else {
        expected = full[bins.k1 * tile + bins.k2];
        if (fc.conjugate) expected = std::conj(expected);
      }
      expected *= 2.0;
      const float re = out[s * out_stride + l], im = out[s * out_stride + 2 * kLanes + l];
      const double error = std::max(std::fabs(re - expected.real()), std::fabs(im - expected.imag()));
      EXPECT_LE(error, bound) << "slot " << s << " lane " << l << ": got (" << re << ", " << im << "), expected "
                              << expected;
      *worst_ratio = std::max(*worst_ratio, error / (kEps * norm1));
      result[(s * 2) * kLanes + l] = re;
      result[(s * 2 + 1) * kLanes + l] = im;
    }
    // The gap between the real and imaginary vectors stays untouched; the sums are the
    // float sums of the stored parts, or absent.
    for (size_t s = 0; s < slots; ++s) {
      EXPECT_TRUE(std::isnan(out[s * out_stride + kLanes + l])) << "slot " << s;
      const float sum = out[s * out_stride + 3 * kLanes + l];
      if (fc.summed) EXPECT_EQ(sum, out[s * out_stride + l] + out[s * out_stride + 2 * kLanes + l]) << "slot " << s;
      else EXPECT_TRUE(std::isnan(sum)) << "slot " << s;
    }
  }
  return result;
}

TEST(FftTransform, ForwardReferenceMatchesTheDft) {
  std::mt19937 rng(kSeed);
  double worst = 0.0;
  for (const ForwardCase& fc : forward_cases()) {
    SCOPED_TRACE("tile " + std::to_string(fc.tile) + ", input " + std::to_string(fc.rows) + "x" +
                 std::to_string(fc.cols) + (fc.conjugate ? ", conjugate" : "") + (fc.summed ? ", summed" : ""));
    check_forward(fc, false, Isa::reference, rng, &worst);
  }
  std::printf("[ measured ] forward reference: max error / (eps * |x|_1) = %.3f\n", worst);
}

TEST(FftTransform, ForwardJitMatchesTheDftAndTheReference) {
  double worst = 0.0;
  bool any = false;
  for (Isa isa : jit_isas()) {
  if (jit_forward({8, 8, 8, false}, isa) == nullptr) continue;
  any = true;
  for (const ForwardCase& fc : forward_cases()) {
    SCOPED_TRACE(std::string(isa_name(isa)) + " tile " + std::to_string(fc.tile) + ", input " +
                 std::to_string(fc.rows) + "x" + std::to_string(fc.cols) + (fc.conjugate ? ", conjugate" : "") +
                 (fc.summed ? ", summed" : ""));
    std::mt19937 rng_jit(kSeed + fc.tile * 1000 + fc.rows * 17 + fc.cols), rng_ref = rng_jit;
    const std::vector<float> jit = check_forward(fc, true, isa, rng_jit, &worst);
    const std::vector<float> ref = check_forward(fc, false, isa, rng_ref, &worst);
    ASSERT_EQ(jit.size(), ref.size());
    for (size_t i = 0; i < jit.size(); ++i)
      ASSERT_TRUE(same_value(jit[i], ref[i])) << "element " << i << ": jit " << jit[i] << " reference " << ref[i];
  }
  }
  std::printf("[ measured ] forward: max error / (eps * |x|_1) = %.3f\n", worst);
  if (!any) GTEST_SKIP() << "no JIT transforms on this machine";
}

// ---- inverse ----------------------------------------------------------------------------

struct InverseCase {
  uint8_t tile, rows, cols;
  bool bias, relu;
};

std::vector<InverseCase> inverse_cases() {
  std::vector<InverseCase> cases;
  for (uint8_t tile : {8, 16}) {
    for (uint8_t rows : {1, 2, 3, 4, 6, 7, 8, 12, 14, 16}) {
      for (uint8_t cols : {1, 2, 5, 8, 9, 14, 16}) {
        if (rows > tile || cols > tile) continue;
        cases.push_back({tile, rows, cols, (rows + cols) % 3 != 0, (rows * cols) % 2 == 0});
      }
    }
  }
  return cases;
}

std::vector<float> check_inverse(const InverseCase& ic, bool use_jit, Isa isa, std::mt19937& rng,
                                 double* worst_ratio) {
  const InverseSpec spec{ic.tile, ic.rows, ic.cols, ic.bias, ic.relu};
  const size_t tile = ic.tile, slots = slot_count(tile);
  const size_t in_stride = 2 * kLanes;
  const std::vector<float> spectrum = random_vector(slots * in_stride, rng);
  AlignedFloats in(slots * in_stride);
  std::memcpy(in.get(), spectrum.data(), spectrum.size() * sizeof(float));
  const std::vector<float> bias = random_vector(kLanes, rng);
  const size_t out_stride_floats = (tile + 2) * kLanes;
  AlignedFloats out(tile * out_stride_floats);
  if (use_jit) {
    const InverseTransformFn code = jit_inverse(spec, isa);
    EXPECT_NE(code, nullptr);
    if (code == nullptr) return {};
    code(in.get(), in_stride * sizeof(float), kLanes * sizeof(float), out.get(), out_stride_floats * sizeof(float),
         bias.data());
  } else {
    reference_inverse(spec, in.get(), in_stride * sizeof(float), kLanes * sizeof(float), out.get(),
                      out_stride_floats * sizeof(float), bias.data());
  }
  std::vector<float> result;
  for (size_t l = 0; l < kLanes; ++l) {
    // The full spectrum from the packed slots (conjugate symmetric).
    std::vector<Complex> full(tile * tile, 0.0);
    double norm1 = 0.0;
    for (size_t s = 0; s < slots; ++s) {
      const SlotBins bins = slot_bins(tile, s);
      const double re = spectrum[s * in_stride + l], im = spectrum[s * in_stride + kLanes + l];
      norm1 += std::fabs(re) + std::fabs(im);
      if (bins.pointwise) {
        full[bins.k1 * tile + bins.k2] = re;
        full[bins.k1_im * tile + bins.k2_im] = im;
      } else {
        full[bins.k1 * tile + bins.k2] = Complex(re, im);
        full[((tile - bins.k1) % tile) * tile + (tile - bins.k2) % tile] = Complex(re, -im);
      }
    }
    std::vector<Complex> conj_w(tile);
    for (size_t k = 0; k < tile; ++k) conj_w[k] = std::polar(1.0, 2.0 * std::numbers::pi * double(k) / double(tile));
    const double scale = 1.0 / double(4 * tile * tile);
    const double bound = 4.0 * kEps * std::log2(double(tile * tile)) * norm1 * scale + kEps;
    for (size_t r = 0; r < tile; ++r) {
      for (size_t c = 0; c < tile; ++c) {
        const float got = out[r * out_stride_floats + c * kLanes + l];
        if (r >= ic.rows || c >= ic.cols) {
          EXPECT_TRUE(std::isnan(got)) << "wrote outside the block at " << r << "," << c;
          continue;
        }
        Complex sum = 0.0;
        for (size_t k1 = 0; k1 < tile; ++k1)
          for (size_t k2 = 0; k2 < tile; ++k2) sum += full[k1 * tile + k2] * conj_w[(k1 * r + k2 * c) % tile];
        double expected = sum.real() * scale + (ic.bias ? bias[l] : 0.0);
        if (ic.relu) expected = std::max(expected, 0.0);
        const double error = std::fabs(got - expected);
        EXPECT_LE(error, bound) << "lane " << l << " at " << r << "," << c << ": got " << got << ", expected "
                                << expected;
        *worst_ratio = std::max(*worst_ratio, error / (kEps * norm1 * scale));
        result.push_back(got);
      }
    }
  }
  return result;
}

TEST(FftTransform, InverseReferenceMatchesTheDft) {
  std::mt19937 rng(kSeed + 1);
  double worst = 0.0;
  for (const InverseCase& ic : inverse_cases()) {
    SCOPED_TRACE("tile " + std::to_string(ic.tile) + ", output " + std::to_string(ic.rows) + "x" +
                 std::to_string(ic.cols));
    check_inverse(ic, false, Isa::reference, rng, &worst);
  }
  std::printf("[ measured ] inverse reference: max error / (eps * |Y|_1 / 4T^2) = %.3f\n", worst);
}

TEST(FftTransform, InverseJitMatchesTheDftAndTheReference) {
  double worst = 0.0;
  bool any = false;
  for (Isa isa : jit_isas()) {
  if (jit_inverse({8, 8, 8, false, false}, isa) == nullptr) continue;
  any = true;
  for (const InverseCase& ic : inverse_cases()) {
    SCOPED_TRACE(std::string(isa_name(isa)) + " tile " + std::to_string(ic.tile) + ", output " +
                 std::to_string(ic.rows) + "x" + std::to_string(ic.cols) + (ic.bias ? ", bias" : "") +
                 (ic.relu ? ", relu" : ""));
    std::mt19937 rng_jit(kSeed + ic.tile * 1000 + ic.rows * 17 + ic.cols), rng_ref = rng_jit;
    const std::vector<float> jit = check_inverse(ic, true, isa, rng_jit, &worst);
    const std::vector<float> ref = check_inverse(ic, false, isa, rng_ref, &worst);
    ASSERT_EQ(jit.size(), ref.size());
    for (size_t i = 0; i < jit.size(); ++i)
      ASSERT_TRUE(same_value(jit[i], ref[i])) << "element " << i << ": jit " << jit[i] << " reference " << ref[i];
  }
  }
  std::printf("[ measured ] inverse: max error / (eps * |Y|_1 / 4T^2) = %.3f\n", worst);
  if (!any) GTEST_SKIP() << "no JIT transforms on this machine";
}

// ---- staging + forward transform: tiles read with an offset ------------------------------

TEST(FftTransform, StagedTilesAtEveryOffsetMatchTheDftOfTheZeroPaddedWindow) {
  const Hardware hw = this_machine();
  std::mt19937 rng(kSeed + 2);
  for (size_t tile : {size_t(8), size_t(16)}) {
    const ForwardTransform transform({uint8_t(tile), uint8_t(tile), uint8_t(tile), false}, hw.isa);
    const TileStager stager(tile / kLanes, hw.isa);
    for (size_t height : {size_t(1), size_t(5), size_t(tile + 3)}) {
      for (size_t width : {size_t(2), size_t(tile), size_t(2 * tile + 1)}) {
        for (size_t lanes : {size_t(8), size_t(3)}) {
          const std::vector<float> image = random_vector(lanes * height * width, rng);
          const ptrdiff_t t = ptrdiff_t(tile);
          for (ptrdiff_t y0 : {-t, -t + 1, ptrdiff_t(-2), ptrdiff_t(0), ptrdiff_t(1), ptrdiff_t(height) - 2,
                               ptrdiff_t(height)}) {
            for (ptrdiff_t x0 : {-t + 2, ptrdiff_t(-1), ptrdiff_t(0), ptrdiff_t(3), ptrdiff_t(width) - 1}) {
              SCOPED_TRACE("tile " + std::to_string(tile) + ", image " + std::to_string(height) + "x" +
                           std::to_string(width) + ", offset " + std::to_string(y0) + "," + std::to_string(x0) +
                           ", lanes " + std::to_string(lanes));
              AlignedFloats staged(tile * tile * kLanes);
              stager(image.data(), height, width, lanes, y0, x0, tile, tile, staged.get());
              const size_t slots = slot_count(tile);
              AlignedFloats out(slots * 2 * kLanes);
              transform(staged.get(), tile * kLanes * sizeof(float), out.get(), 2 * kLanes * sizeof(float),
                        kLanes * sizeof(float));
              for (size_t l = 0; l < kLanes; ++l) {
                std::vector<double> window(tile * tile, 0.0);
                double norm1 = 0.0;
                for (size_t r = 0; r < tile; ++r) {
                  for (size_t c = 0; c < tile; ++c) {
                    const ptrdiff_t y = y0 + ptrdiff_t(r), x = x0 + ptrdiff_t(c);
                    if (l >= lanes || y < 0 || x < 0 || y >= ptrdiff_t(height) || x >= ptrdiff_t(width)) continue;
                    window[r * tile + c] = image[(l * height + size_t(y)) * width + size_t(x)];
                    norm1 += std::fabs(window[r * tile + c]);
                  }
                }
                const double bound = 2.0 * kEps * std::log2(double(tile * tile)) * norm1 + 1e-30;
                const std::vector<Complex> full = dft2(window, tile, tile, tile);
                for (size_t s = 0; s < slots; ++s) {
                  const SlotBins bins = slot_bins(tile, s);
                  Complex expected = bins.pointwise ? Complex(full[bins.k1 * tile + bins.k2].real(),
                                                              full[bins.k1_im * tile + bins.k2_im].real())
                                                    : full[bins.k1 * tile + bins.k2];
                  expected *= 2.0;
                  const double error = std::max(std::fabs(out[s * 2 * kLanes + l] - expected.real()),
                                                std::fabs(out[s * 2 * kLanes + kLanes + l] - expected.imag()));
                  ASSERT_LE(error, bound) << "slot " << s << " lane " << l;
                }
              }
            }
          }
        }
      }
    }
  }
}

// Staging and unstaging, generated and reference, against plain loops: every window
// position relative to the image (inside, over each edge, beyond), partial channel blocks.
TEST(FftStaging, StageAndUnstageMatchPlainLoopsAtEveryOffset) {
  const Hardware hw = this_machine();
  std::mt19937 rng(kSeed + 3);
  for (size_t chunks : {size_t(1), size_t(2)}) {
    const TileStager stager(chunks, hw.isa);
    const TileUnstager unstager(chunks, hw.isa);
    const size_t width_floats = chunks * kLanes;
    for (size_t lanes : {size_t(8), size_t(5)}) {
      for (size_t height : {size_t(3), size_t(19)}) {
        for (size_t width : {size_t(4), size_t(21)}) {
          const std::vector<float> image = random_vector(lanes * height * width, rng);
          for (size_t cols : {width_floats, width_floats - 3}) {
            for (ptrdiff_t y0 : {ptrdiff_t(-5), ptrdiff_t(0), ptrdiff_t(2), ptrdiff_t(height) - 1, ptrdiff_t(height) + 2}) {
              for (ptrdiff_t x0 : {ptrdiff_t(-9), ptrdiff_t(-1), ptrdiff_t(0), ptrdiff_t(3), ptrdiff_t(width) - 2}) {
                SCOPED_TRACE("chunks " + std::to_string(chunks) + ", lanes " + std::to_string(lanes) + ", image " +
                             std::to_string(height) + "x" + std::to_string(width) + ", cols " + std::to_string(cols) +
                             ", offset " + std::to_string(y0) + "," + std::to_string(x0));
                const size_t rows = 7;
                AlignedFloats staged(rows * width_floats * kLanes);
                stager(image.data(), height, width, lanes, y0, x0, rows, cols, staged.get());
                for (size_t r = 0; r < rows; ++r)
                  for (size_t c = 0; c < width_floats; ++c)
                    for (size_t l = 0; l < kLanes; ++l) {
                      const ptrdiff_t y = y0 + ptrdiff_t(r), x = x0 + ptrdiff_t(c);
                      const bool inside = l < lanes && c < cols && y >= 0 && x >= 0 && y < ptrdiff_t(height) &&
                                          x < ptrdiff_t(width);
                      const float expected = inside ? image[(l * height + size_t(y)) * width + size_t(x)] : 0.0f;
                      ASSERT_EQ(staged[(r * width_floats + c) * kLanes + l], expected) << r << "," << c << "," << l;
                    }
                // Unstage (window inside the image at a non-negative offset).
                if (y0 < 0 || x0 < 0 || y0 >= ptrdiff_t(height) || x0 >= ptrdiff_t(width)) continue;
                std::vector<float> out(lanes * height * width, kNaN);
                unstager(staged.get(), rows, cols, lanes, size_t(y0), size_t(x0), height, width, out.data());
                for (size_t l = 0; l < lanes; ++l)
                  for (size_t y = 0; y < height; ++y)
                    for (size_t x = 0; x < width; ++x) {
                      const float got = out[(l * height + y) * width + x];
                      const bool written = y >= size_t(y0) && y < size_t(y0) + rows && x >= size_t(x0) &&
                                           x < size_t(x0) + cols;
                      if (!written) {
                        ASSERT_TRUE(std::isnan(got)) << "wrote outside the window at " << l << "," << y << "," << x;
                        continue;
                      }
                      ASSERT_EQ(got, staged[((y - size_t(y0)) * width_floats + (x - size_t(x0))) * kLanes + l]);
                    }
              }
            }
          }
        }
      }
    }
  }
}

TEST(FftStaging, GeneratedKernelsMatchTheirReferenceTwins) {
  const Hardware hw = this_machine();
  if (jit_stage(1, false, hw.isa) == nullptr) GTEST_SKIP() << "no JIT staging for " << isa_name(hw.isa);
  std::mt19937 rng(kSeed + 4);
  for (size_t chunks : {size_t(1), size_t(2)}) {
    for (bool masked : {false, true}) {
      const size_t width = 37, height = 6, rows = 5;
      const std::vector<float> image = random_vector(kLanes * height * width, rng);
      alignas(32) int32_t masks[16];
      for (size_t c = 0; c < 16; ++c) masks[c] = (c % 3 == 1) ? 0 : -1;
      AlignedFloats jit_tile(rows * chunks * kLanes * kLanes), ref_tile(rows * chunks * kLanes * kLanes);
      StageArgs args{image.data() + width + 2, height * width * 4, width * 4, jit_tile.get(),
                     chunks * kLanes * kLanes * 4, rows, masks};
      jit_stage(chunks, masked, hw.isa)(&args);
      args.dst = ref_tile.get();
      reference_stage(chunks, masked, args);
      for (size_t i = 0; i < rows * chunks * kLanes * kLanes; ++i) ASSERT_EQ(jit_tile[i], ref_tile[i]) << i;
      for (size_t columns = 8 * chunks - 7; columns <= 8 * chunks; ++columns) {
        std::vector<float> jit_image(image.size(), kNaN), ref_image(image.size(), kNaN);
        UnstageArgs back{ref_tile.get(), chunks * kLanes * kLanes * 4, jit_image.data() + width + 2,
                         height * width * 4, width * 4, rows, nullptr};
        jit_unstage(columns, hw.isa)(&back);
        back.dst = ref_image.data() + width + 2;
        reference_unstage(columns, back);
        for (size_t i = 0; i < image.size(); ++i) ASSERT_TRUE(same_value(jit_image[i], ref_image[i])) << i;
      }
    }
  }
}

// ---- multiply-accumulate -----------------------------------------------------------------

struct CmacCase {
  CmacSpec spec;
  size_t k;
};

// B's strides in floats (columns and k steps apart, so that no element's sum lands on
// another's parts), and its sums re + im written where the input transform writes them.
constexpr size_t kCmacLdbN = 3 * kLanes + 1, kCmacLdbK = kCmacMaxColumns * kCmacLdbN + 3;
size_t b_index(bool blocked, size_t k, size_t n) {
  return (blocked ? k / kLanes * kCmacLdbK + k % kLanes : k * kCmacLdbK) + n * kCmacLdbN;
}
std::vector<float> random_b(bool blocked, size_t k, std::mt19937& rng) {
  std::vector<float> b = random_vector((k + 1) * kCmacLdbK + 3 * kLanes, rng);
  for (size_t kk = 0; kk < k; ++kk)
    for (size_t n = 0; n < kCmacMaxColumns; ++n) {
      const size_t i = b_index(blocked, kk, n);
      b[i + 2 * kLanes] = b[i] + b[i + kLanes];
    }
  return b;
}

// Runs the microkernel on random operands with distinct strides; returns C.
std::vector<float> run_cmac(const CmacSpec& spec, size_t k, bool use_jit, Isa isa, std::mt19937& rng,
                            double* worst_ratio) {
  const size_t lda = 3 * kLanes, a_im = kLanes + 3;  // floats; deliberately not 32-byte multiples
  const size_t ldb_k = kCmacLdbK, ldb_n = kCmacLdbN, b_im = kLanes;
  const size_t ldc_n = 5 * kLanes, c_im = kLanes;
  const std::vector<float> a = random_vector(std::max<size_t>(k, 1) * lda + a_im + kLanes, rng);
  const std::vector<float> b = random_b(spec.blocked, k, rng);
  std::vector<float> c = random_vector(kCmacMaxColumns * ldc_n + c_im + kLanes, rng);
  const std::vector<float> c0 = c;
  alignas(32) const int32_t mask[kLanes] = {-1, -1, -1, -1, -1, 0, 0, 0};
  CmacArgs args{a.data(), lda * 4, a_im * 4, b.data(), ldb_k * 4, ldb_n * 4, c.data(), ldc_n * 4, k, mask, a.data()};
  if (use_jit) {
    const CmacFn code = jit_cmac(spec, isa);
    EXPECT_NE(code, nullptr);
    if (code == nullptr) return {};
    code(&args);
  } else {
    reference_cmac(spec, args);
  }
  // Against a double-precision complex product.
  for (size_t n = 0; n < spec.nr; ++n) {
    for (size_t l = 0; l < kLanes; ++l) {
      const bool loaded = !spec.masked || l < 5;
      double re = 0.0, im = 0.0, magnitude = 0.0;
      for (size_t kk = 0; kk < k; ++kk) {
        const double ar = loaded ? a[kk * lda + l] : 0.0, ai = loaded ? a[kk * lda + a_im + l] : 0.0;
        const size_t kb = b_index(spec.blocked, kk, n);
        const double br = b[kb], bi = b[kb + b_im];
        if (spec.pointwise) {
          re += ar * br;
          im += ai * bi;
        } else {
          re += ar * br - ai * bi;
          im += ar * bi + ai * br;
        }
        magnitude += (std::fabs(ar) + std::fabs(ai)) * (std::fabs(br) + std::fabs(bi));
      }
      if (spec.accumulate) {
        re += c0[n * ldc_n + l];
        im += c0[n * ldc_n + c_im + l];
        magnitude += std::fabs(c0[n * ldc_n + l]) + std::fabs(c0[n * ldc_n + c_im + l]);
      }
      const double error = std::max(std::fabs(c[n * ldc_n + l] - re), std::fabs(c[n * ldc_n + c_im + l] - im));
      EXPECT_LE(error, 4.0 * double(k + 2) * kEps * magnitude + 1e-30) << "column " << n << " lane " << l;
      if (magnitude > 0) *worst_ratio = std::max(*worst_ratio, error / (double(k + 2) * kEps * magnitude));
    }
  }
  // Nothing outside the nr columns' 8 + 8 lanes changed.
  for (size_t i = 0; i < c.size(); ++i) {
    const size_t column = i / ldc_n, within = i % ldc_n;
    const bool written = column < spec.nr && (within < kLanes || (within >= c_im && within < c_im + kLanes));
    if (!written) EXPECT_EQ(c[i], c0[i]) << "element " << i;
  }
  return c;
}

TEST(FftCmac, ReferenceAndJitMatchTheProductAndEachOther) {
  double worst = 0.0;
  bool any = false;
  for (Isa isa : jit_isas()) {
    if (jit_cmac({1, false, false, false, false}, isa) == nullptr) continue;
    any = true;
    for (int blocked = 0; blocked < 2; ++blocked)
      for (int pointwise = 0; pointwise < 2; ++pointwise)
        for (int accumulate = 0; accumulate < 2; ++accumulate)
          for (int masked = 0; masked < 2; ++masked)
            for (uint8_t nr = 1; nr <= cmac_columns(isa); ++nr)
              for (size_t k : {size_t(0), size_t(1), size_t(2), size_t(3), size_t(7), size_t(8), size_t(9),
                               size_t(64), size_t(131)}) {
                const CmacSpec spec{nr, pointwise != 0, accumulate != 0, masked != 0, blocked != 0};
                SCOPED_TRACE(std::string(isa_name(isa)) + " nr " + std::to_string(nr) +
                             (pointwise ? " pointwise" : "") + (accumulate ? " acc" : "") + (masked ? " masked" : "") +
                             (blocked ? " blocked" : "") + ", k " + std::to_string(k));
                std::mt19937 rng_ref(kSeed + k * 31 + nr), rng_jit = rng_ref;
                const std::vector<float> ref = run_cmac(spec, k, false, isa, rng_ref, &worst);
                const std::vector<float> jit = run_cmac(spec, k, true, isa, rng_jit, &worst);
                ASSERT_EQ(jit.size(), ref.size());
                for (size_t i = 0; i < jit.size(); ++i) ASSERT_EQ(jit[i], ref[i]) << "element " << i;
              }
  }
  // Paired calls (two blocks of 8 rows, where generated): the same bits as two unpaired calls.
  for (Isa isa : jit_isas()) {
    for (int blocked = 0; blocked < 2; ++blocked)
      for (int pointwise = 0; pointwise < 2; ++pointwise)
        for (int accumulate = 0; accumulate < 2; ++accumulate)
          for (uint8_t nr = 1; nr <= cmac_columns(isa); ++nr) {
            const CmacSpec spec{nr, pointwise != 0, accumulate != 0, false, blocked != 0, true};
            const CmacFn code = jit_cmac(spec, isa);
            if (code == nullptr) continue;
            for (size_t k : {size_t(0), size_t(1), size_t(7), size_t(8), size_t(9), size_t(64), size_t(131)}) {
              SCOPED_TRACE(std::string("paired ") + isa_name(isa) + " nr " + std::to_string(nr) + ", k " +
                           std::to_string(k));
              std::mt19937 rng(kSeed + 5 * k + nr);
              const size_t lda = 3 * kLanes, a_im = kLanes + 3, a_pair = 2 * (k + 1) * lda + 5;  // floats
              const size_t ldb_k = kCmacLdbK, ldb_n = kCmacLdbN, ldc_n = 7 * kLanes;
              const std::vector<float> a = random_vector(a_pair + (k + 1) * lda + a_im + kLanes, rng);
              const std::vector<float> b = random_b(blocked != 0, k, rng);
              const std::vector<float> c0 = random_vector(8 * ldc_n + 4 * kLanes, rng);
              std::vector<float> c_jit = c0, c_twin = c0;
              CmacArgs args{a.data(), lda * 4, a_im * 4, b.data(), ldb_k * 4, ldb_n * 4, c_jit.data(), ldc_n * 4,
                            k, nullptr, a.data(), a_pair * 4};
              code(&args);
              args.c = c_twin.data();
              reference_cmac(spec, args);  // two unpaired reference calls
              for (size_t i = 0; i < c0.size(); ++i) ASSERT_EQ(c_jit[i], c_twin[i]) << "element " << i;
            }
          }
  }
  // The reference twin alone, every width.
  for (uint8_t nr = 1; nr <= kCmacMaxColumns; ++nr) {
    std::mt19937 rng(kSeed + nr);
    run_cmac({nr, false, true, true, true}, 19, false, Isa::reference, rng, &worst);
  }
  std::printf("[ measured ] multiply-accumulate: max error / ((k + 2) eps sum |a||b|) = %.3f\n", worst);
  if (!any) GTEST_SKIP() << "no JIT multiply-accumulate on this machine";
}

}  // namespace
}  // namespace nnjit::fft
