// api_uninitialized_test.cc — the library's life cycle, in a binary where nothing calls
// nnp_initialize behind the tests' back.
//
// Before nnp_initialize every function returns nnp_status_uninitialized (50), whatever its
// other arguments; nnp_initialize is idempotent and thread-safe; after nnp_deinitialize every
// function returns 50 again until the next nnp_initialize.
//
// The tests run in the order written (gtest's default); each leaves the library uninitialized.
#include <nnpack.h>
#include <nnjit.h>

#include "tests/api_testing.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Outcome {
  const char* function;
  nnp_status status;
};

// Calls every public function twice: with valid arguments, and with arguments that fail their
// first validation check (batch 0, zero sizes, NULL pointers).
std::vector<Outcome> CallEverything() {
  std::vector<Outcome> outcomes;
  auto record = [&](const char* name, nnp_status status) { outcomes.push_back({name, status}); };

  const nnp_size input{6, 5}, kernel{3, 3}, one{1, 1};
  const nnp_padding pad{1, 1, 1, 1};
  std::vector<float> in(2 * 3 * 5 * 6, 0.5f), k(4 * 3 * 3 * 3, 0.25f), bias(4, 0.0f), out(2 * 4 * 5 * 6, 0.0f);
  std::vector<uint16_t> k16(4 * 3, 0x3C00);
  size_t size = 0;

  record("nnp_convolution_output", nnp_convolution_output(nnp_convolution_algorithm_auto, 2, 3, 4, input, pad, kernel,
      in.data(), k.data(), bias.data(), out.data(), nullptr, nullptr, nnp_activation_identity, nullptr, nullptr, nullptr));
  record("nnp_convolution_output (size query)", nnp_convolution_output(nnp_convolution_algorithm_auto, 2, 3, 4, input,
      pad, kernel, nullptr, nullptr, nullptr, nullptr, nullptr, &size, nnp_activation_identity, nullptr, nullptr, nullptr));
  record("nnp_convolution_output (invalid)", nnp_convolution_output(nnp_convolution_algorithm_auto, 0, 0, 0,
      nnp_size{0, 0}, pad, nnp_size{0, 0}, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nnp_activation_identity,
      nullptr, nullptr, nullptr));
  record("nnp_convolution_output (inline overload)", nnp_convolution_output(nnp_convolution_algorithm_auto, 2, 3, 4,
      input, pad, kernel, in.data(), k.data(), bias.data(), out.data(), nullptr, nullptr));
  record("nnp_convolution_input_gradient", nnp_convolution_input_gradient(nnp_convolution_algorithm_auto, 2, 3, 4,
      input, pad, kernel, out.data(), k.data(), in.data(), nullptr, nullptr, nnp_activation_identity, nullptr, nullptr,
      nullptr));
  record("nnp_convolution_input_gradient (invalid)", nnp_convolution_input_gradient(
      static_cast<nnp_convolution_algorithm>(7), 0, 3, 4, input, pad, kernel, nullptr, nullptr, nullptr, nullptr,
      nullptr, nnp_activation_relu, nullptr, nullptr, nullptr));
  record("nnp_convolution_input_gradient (inline overload)", nnp_convolution_input_gradient(
      nnp_convolution_algorithm_auto, 2, 3, 4, input, pad, kernel, out.data(), k.data(), in.data(), nullptr, nullptr));
  record("nnp_convolution_kernel_gradient", nnp_convolution_kernel_gradient(nnp_convolution_algorithm_auto, 2, 3, 4,
      input, pad, kernel, in.data(), out.data(), k.data(), nullptr, nullptr, nnp_activation_identity, nullptr, nullptr,
      nullptr));
  record("nnp_convolution_kernel_gradient (invalid)", nnp_convolution_kernel_gradient(nnp_convolution_algorithm_wt8x8,
      2, 0, 4, input, pad, kernel, nullptr, nullptr, nullptr, nullptr, nullptr, nnp_activation_identity, nullptr,
      nullptr, nullptr));
  record("nnp_convolution_kernel_gradient (inline overload)", nnp_convolution_kernel_gradient(
      nnp_convolution_algorithm_auto, 2, 3, 4, input, pad, kernel, in.data(), out.data(), k.data(), nullptr, nullptr));
  record("nnp_convolution_inference", nnp_convolution_inference(nnp_convolution_algorithm_auto,
      nnp_convolution_transform_strategy_compute, 3, 4, input, pad, kernel, one, in.data(), k.data(), bias.data(),
      out.data(), nullptr, nullptr, nnp_activation_identity, nullptr, nullptr, nullptr));
  record("nnp_convolution_inference (precompute query)", nnp_convolution_inference(nnp_convolution_algorithm_wt8x8,
      nnp_convolution_transform_strategy_precompute, 3, 4, input, pad, kernel, one, nullptr, nullptr, nullptr, nullptr,
      nullptr, &size, nnp_activation_identity, nullptr, nullptr, nullptr));
  record("nnp_convolution_inference (invalid)", nnp_convolution_inference(nnp_convolution_algorithm_auto,
      static_cast<nnp_convolution_transform_strategy>(0), 3, 0, input, pad, kernel, nnp_size{0, 0}, nullptr, nullptr,
      nullptr, nullptr, nullptr, nullptr, nnp_activation_identity, nullptr, nullptr, nullptr));
  record("nnp_convolution_inference (inline overload)", nnp_convolution_inference(nnp_convolution_algorithm_auto,
      nnp_convolution_transform_strategy_tuple_based, 3, 4, input, pad, kernel, one, in.data(), k.data(), bias.data(),
      out.data(), nullptr, nullptr));
  record("nnp_fully_connected_output", nnp_fully_connected_output(2, 3, 4, in.data(), k.data(), out.data(), nullptr,
      nullptr));
  record("nnp_fully_connected_output (invalid)", nnp_fully_connected_output(0, 0, 0, nullptr, nullptr, nullptr,
      nullptr, nullptr));
  record("nnp_fully_connected_inference", nnp_fully_connected_inference(3, 4, in.data(), k.data(), out.data(), nullptr));
  record("nnp_fully_connected_inference (invalid)", nnp_fully_connected_inference(0, 0, nullptr, nullptr, nullptr,
      nullptr));
  record("nnp_fully_connected_inference_f16f32", nnp_fully_connected_inference_f16f32(3, 4, in.data(), k16.data(),
      out.data(), nullptr));
  record("nnp_fully_connected_inference_f16f32 (invalid)", nnp_fully_connected_inference_f16f32(0, 0, nullptr, nullptr,
      nullptr, nullptr));
  record("nnp_max_pooling_output", nnp_max_pooling_output(2, 3, input, nnp_padding{0, 0, 0, 0}, nnp_size{2, 2},
      nnp_size{2, 2}, in.data(), out.data(), nullptr));
  record("nnp_max_pooling_output (invalid)", nnp_max_pooling_output(1, 1, nnp_size{0, 0}, nnp_padding{9, 9, 9, 9},
      nnp_size{0, 0}, nnp_size{0, 0}, nullptr, nullptr, nullptr));
  record("nnp_softmax_output", nnp_softmax_output(2, 3, in.data(), out.data(), nullptr));
  record("nnp_softmax_output (invalid)", nnp_softmax_output(0, 0, nullptr, nullptr, nullptr));
  record("nnp_relu_output", nnp_relu_output(2, 3, in.data(), out.data(), 0.0f, nullptr));
  record("nnp_relu_output (invalid)", nnp_relu_output(0, 0, nullptr, nullptr, 0.0f, nullptr));
  record("nnp_relu_input_gradient", nnp_relu_input_gradient(2, 3, in.data(), in.data(), out.data(), 0.0f, nullptr));
  record("nnp_relu_input_gradient (invalid)", nnp_relu_input_gradient(0, 0, nullptr, nullptr, nullptr, 0.0f, nullptr));
  nnp_convolution_algorithm chosen = nnp_convolution_algorithm_auto;
  record("nnp_ext_convolution_algorithm", nnp_ext_convolution_algorithm(nnp_ext_convolution_output,
      nnp_convolution_algorithm_auto, nnp_convolution_transform_strategy_compute, 2, 3, 4, input, pad, kernel, one,
      &chosen));
  record("nnp_ext_convolution_algorithm (invalid)", nnp_ext_convolution_algorithm(nnp_ext_convolution_inference,
      nnp_convolution_algorithm_auto, nnp_convolution_transform_strategy_compute, 0, 0, 0, nnp_size{0, 0}, pad,
      nnp_size{0, 0}, nnp_size{0, 0}, &chosen));
  return outcomes;
}

// Every function, valid arguments or not, returns 50.
void ExpectAllUninitialized(const char* when) {
  for (const Outcome& o : CallEverything()) {
    EXPECT_EQ(int(o.status), int(nnp_status_uninitialized)) << o.function << " " << when;
  }
}

// Initialized: the valid calls succeed and the invalid ones report their own (non-50) status.
void ExpectAllInitialized(const char* when) {
  for (const Outcome& o : CallEverything()) {
    const bool invalid = std::string(o.function).find("(invalid)") != std::string::npos;
    if (invalid) {
      EXPECT_NE(int(o.status), int(nnp_status_uninitialized)) << o.function << " " << when;
      EXPECT_NE(int(o.status), int(nnp_status_success)) << o.function << " " << when;
    } else {
      EXPECT_EQ(int(o.status), int(nnp_status_success)) << o.function << " " << when;
    }
  }
}

TEST(Lifecycle, EveryFunctionReturnsUninitializedBeforeInitialize) {
  const char* isa = nnp_ext_isa_name();
  ASSERT_NE(isa, nullptr);
  EXPECT_STREQ(isa, "uninitialized");
  ExpectAllUninitialized("before nnp_initialize");
  EXPECT_STREQ(nnp_ext_isa_name(), "uninitialized") << "failed calls must not initialize the library";
}

TEST(Lifecycle, ThreadPoolsNeedNoInitialization) {
  // pthreadpool is the caller's; creating one does not initialize nnpack.
  pthreadpool_t pool = pthreadpool_create(2);
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pthreadpool_get_threads_count(pool), 2u);
  EXPECT_EQ(nnp_relu_output(1, 1, nullptr, nullptr, 0.0f, pool), nnp_status_uninitialized);
  pthreadpool_destroy(pool);
}

TEST(Lifecycle, InitializeIsIdempotentAndDeinitializeUndoesIt) {
  ASSERT_EQ(nnp_initialize(), nnp_status_success);
  EXPECT_STRNE(nnp_ext_isa_name(), "uninitialized");
  EXPECT_EQ(nnp_initialize(), nnp_status_success) << "second nnp_initialize";
  ExpectAllInitialized("after nnp_initialize twice");

  ASSERT_EQ(nnp_deinitialize(), nnp_status_success);
  ExpectAllUninitialized("after nnp_deinitialize");

  ASSERT_EQ(nnp_initialize(), nnp_status_success) << "initialize again after deinitialize";
  ExpectAllInitialized("after re-initialization");
  ASSERT_EQ(nnp_deinitialize(), nnp_status_success);
  ExpectAllUninitialized("after the second nnp_deinitialize");
}

TEST(Lifecycle, ConcurrentInitializeAllSucceed) {
  for (int round = 0; round < 3; round++) {
    SCOPED_TRACE("round " + std::to_string(round));
    constexpr int kThreads = 8;
    std::atomic<int> ready{0};
    std::vector<nnp_status> results(kThreads, nnp_status_out_of_memory);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++) {
      threads.emplace_back([&, t] {
        ready++;
        while (ready.load() < kThreads) std::this_thread::yield();  // start together
        results[size_t(t)] = nnp_initialize();
      });
    }
    for (std::thread& thread : threads) thread.join();
    for (int t = 0; t < kThreads; t++) EXPECT_EQ(results[size_t(t)], nnp_status_success) << "thread " << t;
    ExpectAllInitialized("after concurrent nnp_initialize");

    // and concurrent use right after
    std::atomic<int> failures{0};
    threads.clear();
    for (int t = 0; t < 4; t++) {
      threads.emplace_back([&] {
        for (const Outcome& o : CallEverything()) {
          const bool invalid = std::string(o.function).find("(invalid)") != std::string::npos;
          if (!invalid && o.status != nnp_status_success) failures++;
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(failures.load(), 0);
    ASSERT_EQ(nnp_deinitialize(), nnp_status_success);
  }
  ExpectAllUninitialized("at the end");
}

}  // namespace
