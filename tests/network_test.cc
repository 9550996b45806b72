// The network runner (tools/network.h): fast path against fallback on reduced AlexNet, VGG-16
// and VGG-A (fewer channels, smaller images: the same layer structure, padding, strides and
// pooling overhang), batch 1 and 2; the framework rule's routing; the thread variables.
//
// Agreement bound, relative to the output norm: ||fast - fallback|| <= kPerLayer * L * ||fallback||
// on the logits (fc8's output), L = the number of layers with weights (8 for AlexNet, 16 for
// VGG-16). Each fp32 convolution or fully-connected layer adds a norm-relative rounding error
// of about sqrt(K) * 2^-24 (K <= 4608 here: ~4e-6 at worst) for GEMM-based algorithms, and up
// to several times that for Winograd F(6x6, 3x3) and FFT transforms; He-initialised layers
// and ReLU do not amplify relative errors, so they add up at most linearly over the layers.
// kPerLayer = 3e-5 covers that with a margin (measured totals: 0.4e-6 to 4e-6); a real fault
// (wrong padding, tile or channel) gives errors of order 1e-1. The probabilities are held to
// what the logits imply: softmax moves by at most 2 * max|delta logit| relative, per row.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include <nnjit.h>
#include <nnpack.h>
#include <pthreadpool.h>

#include "network.h"

namespace nnjit_tools {
namespace {

constexpr double kPerLayer = 3e-5;

class NetworkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(nnp_initialize(), nnp_status_success);
    pool_ = pthreadpool_create(2);
  }
  static void TearDownTestSuite() { pthreadpool_destroy(pool_); }
  static pthreadpool_t pool_;
};
pthreadpool_t NetworkTest::pool_ = nullptr;

struct Reduced {
  const char* name;
  size_t image, divisor, weighted_layers;
};
// Image sizes chosen so that pooling hangs over the edge somewhere (the ceil rule).
const Reduced kNetworks[] = {{"alexnet", 67, 4, 8}, {"vgg16", 40, 8, 16}, {"vgga", 40, 8, 11}};

std::unique_ptr<Network> make(const Reduced& r) {
  std::string error;
  auto network = Network::create(r.name, NetworkOptions{r.image, r.divisor, 20261125}, &error);
  EXPECT_TRUE(network) << error;
  return network;
}

double norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  return std::sqrt(s);
}

struct Output {
  std::vector<float> logits, probabilities;
  std::vector<LayerRecord> records;
};

Output run(Network& network, const std::vector<float>& input, size_t batch, Path path, const RunOptions& options) {
  Output out;
  network.forward(input.data(), batch, path, options, &out.records);
  const size_t n = batch * network.classes();
  out.logits.assign(network.logits(), network.logits() + n);
  out.probabilities.assign(network.probabilities(), network.probabilities() + n);
  return out;
}

// The agreement check of the file comment; `what` names the case in failures.
void expect_agreement(const Output& fast, const Output& fallback, size_t batch, size_t classes,
                      size_t weighted_layers, const std::string& what) {
  for (float x : fast.probabilities) ASSERT_TRUE(std::isfinite(x)) << what;
  std::vector<float> difference(fast.logits.size());
  for (size_t i = 0; i < difference.size(); ++i) difference[i] = fast.logits[i] - fallback.logits[i];
  const double reference = norm(fallback.logits);
  ASSERT_GT(reference, 1e-3) << what << ": logits are (nearly) zero, the comparison would be empty";
  const double relative = norm(difference) / reference;
  std::printf("%s: logits differ by %.3g relative to their norm (bound %.3g)\n", what.c_str(), relative,
              kPerLayer * weighted_layers);
  EXPECT_LE(relative, kPerLayer * weighted_layers) << what;
  for (size_t b = 0; b < batch; ++b) {
    double max_delta = 0, sum = 0, delta_p = 0, p_norm = 0;
    for (size_t c = 0; c < classes; ++c) {
      const size_t i = b * classes + c;
      max_delta = std::max(max_delta, std::fabs(double(difference[i])));
      sum += fast.probabilities[i];
      delta_p += std::pow(double(fast.probabilities[i]) - fallback.probabilities[i], 2);
      p_norm += std::pow(double(fallback.probabilities[i]), 2);
    }
    EXPECT_NEAR(sum, 1.0, 1e-5) << what << ", row " << b;
    EXPECT_LE(std::sqrt(delta_p), (2 * max_delta + 1e-6) * std::sqrt(p_norm)) << what << ", row " << b;
  }
}

TEST_F(NetworkTest, FastPathAgreesWithFallbackAtBatchOneAndTwo) {
  for (const Reduced& r : kNetworks) {
    auto network = make(r);
    ASSERT_TRUE(network);
    for (size_t batch : {1, 2}) {
      const std::vector<float> input = network->random_input(batch);
      const RunOptions options{pool_, nnp_convolution_algorithm_auto};
      const Output fast = run(*network, input, batch, Path::fast, options);
      const Output fallback = run(*network, input, batch, Path::fallback, options);
      expect_agreement(fast, fallback, batch, network->classes(), r.weighted_layers,
                       std::string(r.name) + " batch " + std::to_string(batch));
      for (const LayerRecord& record : fallback.records) EXPECT_FALSE(record.fast) << record.name;
    }
  }
}

// Every algorithm nnjit-bench offers, through the fast path (layers an algorithm cannot
// serve run with auto and say so).
TEST_F(NetworkTest, EveryAlgorithmAgreesWithFallback) {
  const Reduced& r = kNetworks[1];  // vgg16: 3x3 layers, which every algorithm serves
  auto network = make(r);
  ASSERT_TRUE(network);
  for (size_t batch : {1, 2}) {
    const std::vector<float> input = network->random_input(batch);
    const Output fallback = run(*network, input, batch, Path::fallback, RunOptions{pool_, nnp_convolution_algorithm_auto});
    for (nnp_convolution_algorithm algorithm :
         {nnp_convolution_algorithm_wt8x8, nnp_convolution_algorithm_ft8x8, nnp_convolution_algorithm_ft16x16,
          nnp_convolution_algorithm_implicit_gemm}) {
      const std::string name = nnp_ext_algorithm_name(algorithm);
      const Output fast = run(*network, input, batch, Path::fast, RunOptions{pool_, algorithm});
      expect_agreement(fast, fallback, batch, network->classes(), r.weighted_layers,
                       std::string(r.name) + " batch " + std::to_string(batch) + " " + name);
      // implicit GEMM serves only inference (batch 1); at batch 2 the layers run with auto.
      const bool honoured = !(algorithm == nnp_convolution_algorithm_implicit_gemm && batch > 1);
      for (const LayerRecord& record : fast.records) {
        if (record.kind != LayerKind::convolution) continue;
        EXPECT_EQ(record.implementation.find(name) == 0, honoured) << name << " " << record.name << ": "
                                                                   << record.implementation;
      }
    }
  }
}

// Image 1 of a batch of 2 gives what a batch of 1 gives for that image.
TEST_F(NetworkTest, BatchImagesAreIndependent) {
  for (const Reduced& r : kNetworks) {
    auto network = make(r);
    ASSERT_TRUE(network);
    const std::vector<float> input = network->random_input(2);
    const std::vector<float> second(input.begin() + network->input_size(), input.end());
    for (Path path : {Path::fast, Path::fallback}) {
      const RunOptions options{pool_, nnp_convolution_algorithm_auto};
      const Output both = run(*network, input, 2, path, options);
      const Output one = run(*network, second, 1, path, options);
      Output tail;
      tail.logits.assign(both.logits.begin() + network->classes(), both.logits.end());
      tail.probabilities.assign(both.probabilities.begin() + network->classes(), both.probabilities.end());
      expect_agreement(tail, one, 1, network->classes(), r.weighted_layers,
                       std::string(r.name) + " " + path_name(path) + " image 2 of 2 against batch 1");
    }
  }
}

TEST_F(NetworkTest, LayersFollowTheFrameworkRule) {
  auto alexnet = make(kNetworks[0]);
  auto vgg16 = make(kNetworks[1]);
  ASSERT_TRUE(alexnet && vgg16);
  for (size_t batch : {1, 2}) {
    const RunOptions options{pool_, nnp_convolution_algorithm_auto};
    std::vector<float> input = alexnet->random_input(batch);
    std::vector<LayerRecord> records;
    alexnet->forward(input.data(), batch, Path::fast, options, &records);
    for (const LayerRecord& r : records) {
      // conv1 is 11x11 stride 4: fast only at batch 1; the 3x3/2 pools always fall back.
      const bool expected = r.name == "conv1" ? batch == 1 : r.kind != LayerKind::max_pooling;
      EXPECT_EQ(r.fast, expected) << "alexnet batch " << batch << " " << r.name;
      EXPECT_EQ(r.implementation == "im2col+gemm" || r.implementation == "loop", !expected) << r.name;
    }
    input = vgg16->random_input(batch);
    vgg16->forward(input.data(), batch, Path::fast, options, &records);
    for (const LayerRecord& r : records) EXPECT_TRUE(r.fast) << "vgg16 batch " << batch << " " << r.name;
  }
  EXPECT_FALSE(takes_fast_path(LayerSpec{"c", LayerKind::convolution, 8, 3, 2, 1}, 2));
  EXPECT_TRUE(takes_fast_path(LayerSpec{"c", LayerKind::convolution, 8, 3, 2, 1}, 1));
  EXPECT_TRUE(takes_fast_path(LayerSpec{"c", LayerKind::convolution, 8, 3, 1, 1}, 32));
  EXPECT_FALSE(takes_fast_path(LayerSpec{"p", LayerKind::max_pooling, 0, 3, 2, 0}, 1));
  EXPECT_TRUE(takes_fast_path(LayerSpec{"p", LayerKind::max_pooling, 0, 2, 2, 0}, 4));
  EXPECT_TRUE(takes_fast_path(LayerSpec{"f", LayerKind::fully_connected, 10}, 3));
}

TEST_F(NetworkTest, RealNetworksHaveTheirPublishedShapes) {
  std::string error;
  auto alexnet = Network::create("alexnet", NetworkOptions{}, &error);
  // Full-size images; fewer channels keep the weights small.
  auto vgg16 = Network::create("vgg16", NetworkOptions{224, 16, 1}, &error);
  auto vgga = Network::create("vgga", NetworkOptions{224, 16, 1}, &error);
  ASSERT_TRUE(alexnet && vgg16 && vgga) << error;
  EXPECT_EQ(alexnet->input_size(), 3u * 224 * 224);
  EXPECT_EQ(alexnet->classes(), 1000u);
  size_t convolutions = 0;
  for (const LayerSpec& l : vgg16->layers()) convolutions += l.kind == LayerKind::convolution;
  EXPECT_EQ(convolutions, 13u);
  convolutions = 0;
  for (const LayerSpec& l : vgga->layers()) convolutions += l.kind == LayerKind::convolution;
  EXPECT_EQ(convolutions, 8u);
  EXPECT_FALSE(Network::create("resnet", NetworkOptions{}, &error));
  EXPECT_NE(error.find("unknown network"), std::string::npos);
  EXPECT_EQ(vgg16->input_size(), 3u * 224 * 224);
  EXPECT_FALSE(Network::create("alexnet", NetworkOptions{4, 1, 1}, &error));  // 4 + 2 * 2 < 11: no conv1 output
  EXPECT_NE(error.find("too small"), std::string::npos);
}

TEST(NetworkThreads, EnvironmentVariables) {
  std::string error;
  unsetenv("NNJIT_NUM_THREADS");
  unsetenv("MXNET_CPU_NNPACK_NTHREADS");
  EXPECT_EQ(threads_from_environment(&error), 0u);
  setenv("MXNET_CPU_NNPACK_NTHREADS", "3", 1);
  EXPECT_EQ(threads_from_environment(&error), 3u);
  setenv("NNJIT_NUM_THREADS", "5", 1);  // ours wins
  EXPECT_EQ(threads_from_environment(&error), 5u);
  EXPECT_TRUE(error.empty());
  setenv("NNJIT_NUM_THREADS", "two", 1);
  threads_from_environment(&error);
  EXPECT_NE(error.find("NNJIT_NUM_THREADS"), std::string::npos);
  error.clear();
  setenv("NNJIT_NUM_THREADS", "0", 1);
  threads_from_environment(&error);
  EXPECT_FALSE(error.empty());
  unsetenv("NNJIT_NUM_THREADS");
  unsetenv("MXNET_CPU_NNPACK_NTHREADS");
}

}  // namespace
}  // namespace nnjit_tools
