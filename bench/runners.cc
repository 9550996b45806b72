#include "runners.h"

#include <nnjit.h>
#include <nnpack.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <thread>
#include <unordered_map>

#include "im2col.h"

#ifdef NNJIT_BENCH_HAVE_OPENBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_corename(void);
extern "C" char* openblas_get_config(void);
#endif

#ifdef NNJIT_BENCH_HAVE_DNNL
#include <omp.h>

#include <dnnl.hpp>
#endif

namespace nnjit_bench {

// ---- tensors ------------------------------------------------------------------------

// Seeds per role: every library reads the same data.
constexpr uint64_t kSeedInput = 11, kSeedKernel = 12, kSeedBias = 13, kSeedGradOutput = 14;

ConvTensors::ConvTensors(const ConvLayer& l, size_t b, float output_fill)
    : layer(l),
      batch(b),
      input(random_buffer(b * l.input_floats(), kSeedInput)),
      kernel(random_buffer(l.kernel_floats(), kSeedKernel)),
      bias(random_buffer(l.output_channels, kSeedBias)),
      output(filled_buffer(b * l.output_floats(), output_fill)) {}

FcTensors::FcTensors(const FcLayer& l, size_t b, float output_fill)
    : layer(l),
      batch(b),
      input(random_buffer(b * l.input_channels, kSeedInput)),
      kernel(random_buffer(l.output_channels * l.input_channels, kSeedKernel)),
      output(filled_buffer(b * l.output_channels, output_fill)) {}

namespace {
size_t pool_extent(size_t in, size_t pool, size_t stride) {
  return in <= pool ? 1 : (in - pool + stride - 1) / stride + 1;
}
}  // namespace

PoolTensors::PoolTensors(const PoolLayer& l, size_t b)
    : layer(l),
      batch(b),
      output_height(pool_extent(l.height, l.pool, l.stride)),
      output_width(pool_extent(l.width, l.pool, l.stride)),
      input(random_buffer(b * l.channels * l.height * l.width, kSeedInput)),
      output(filled_buffer(b * l.channels * output_height * output_width, 0.0f)) {}

namespace {

// ---- nnjit (public API only) ----------------------------------------------------------

struct PoolDeleter {
  void operator()(pthreadpool* p) const { pthreadpool_destroy(p); }
};
using ThreadPool = std::unique_ptr<pthreadpool, PoolDeleter>;

ThreadPool make_pool(size_t threads, std::string& error) {
  ThreadPool pool(pthreadpool_create(threads));
  if (!pool) error = "pthreadpool_create(" + std::to_string(threads) + ") failed";
  return pool;
}

std::string status_text(const char* what, nnp_status status) {
  return std::string(what) + " returned nnp_status " + std::to_string(int(status));
}

class NnjitConv final : public Runner {
 public:
  NnjitConv(ConvTensors& t, ThreadPool pool) : t_(t), pool_(std::move(pool)) {}

  bool prepare(NnjitConvMode mode) {
    const ConvLayer& l = t_.layer;
    input_size_ = {l.width, l.height};
    padding_ = {l.padding, l.padding, l.padding, l.padding};
    kernel_size_ = {l.kernel_width, l.kernel_height};
    subsampling_ = {l.stride, l.stride};
    algorithm_ = algorithm_enum(mode.algorithm);
    operation_ = mode.operation;
    profile_ = mode.profile;
    inference_ = t_.batch == 1 && operation_ == NnjitOperation::forward;
    if (!inference_ && l.stride != 1) {
      error_ = "only nnp_convolution_inference has a stride";
      return false;
    }
    strategy_ = inference_ && mode.reuse ? nnp_convolution_transform_strategy_reuse
                                         : nnp_convolution_transform_strategy_compute;
    if (!inference_ && mode.reuse) {
      error_ = "precompute/reuse exists only in nnp_convolution_inference (batch 1)";
      return false;
    }
    if (operation_ != NnjitOperation::forward) grad_output_ = random_buffer(t_.batch * l.output_floats(), kSeedGradOutput);
    if (operation_ == NnjitOperation::input_gradient) gradient_ = allocate<float>(t_.batch * l.input_floats());
    if (operation_ == NnjitOperation::kernel_gradient) gradient_ = allocate<float>(l.kernel_floats());

    // The algorithm nnjit will run, for the label.
    nnp_convolution_algorithm chosen = nnp_convolution_algorithm_auto;
    nnp_status status = nnp_ext_convolution_algorithm(
        ext_operation(), algorithm_, strategy_,
        t_.batch, l.input_channels, l.output_channels, input_size_, padding_, kernel_size_, subsampling_, &chosen);
    if (status != nnp_status_success) {
      error_ = status_text("nnp_ext_convolution_algorithm", status);
      return false;
    }
    const char* name = nnp_ext_algorithm_name(chosen);
    label_ = std::string("nnjit:") + (name ? name : "?") + " isa=" + nnp_ext_isa_name();

    if (strategy_ == nnp_convolution_transform_strategy_reuse) {
      // Precompute: query the transformed kernel's size, transform once into our buffer.
      size_t bytes = 0;
      status = call(nnp_convolution_transform_strategy_precompute, t_.kernel.get(), nullptr, &bytes);
      if (status != nnp_status_success) {
        error_ = status_text("precompute size query", status);
        return false;
      }
      transformed_ = allocate<unsigned char>(bytes);
      transformed_bytes_ = bytes;
      status = call(nnp_convolution_transform_strategy_precompute, t_.kernel.get(), transformed_.get(), &bytes);
      if (status != nnp_status_success) {
        error_ = status_text("precompute", status);
        return false;
      }
      kernel_ = reinterpret_cast<const float*>(transformed_.get());
    } else {
      kernel_ = t_.kernel.get();
    }
    // Workspace of the timed call: size queried once, allocated aligned, reused.
    size_t bytes = 0;
    status = call(strategy_, kernel_, nullptr, &bytes);
    if (status != nnp_status_success) {
      error_ = status_text("workspace size query", status);
      return false;
    }
    workspace_ = allocate<unsigned char>(bytes);
    std::fill_n(workspace_.get(), bytes, 0);
    workspace_bytes_ = bytes;
    return true;
  }

  bool run() override {
    size_t bytes = workspace_bytes_;
    const nnp_status status = call(strategy_, kernel_, workspace_.get(), &bytes, profile_);
    if (status != nnp_status_success) {
      error_ = status_text(function_name(), status);
      return false;
    }
    return true;
  }

 private:
  static nnp_convolution_algorithm algorithm_enum(NnjitAlgorithm algorithm) {
    switch (algorithm) {
      case NnjitAlgorithm::automatic: return nnp_convolution_algorithm_auto;
      case NnjitAlgorithm::implicit_gemm: return nnp_convolution_algorithm_implicit_gemm;
      case NnjitAlgorithm::wt8x8: return nnp_convolution_algorithm_wt8x8;
      case NnjitAlgorithm::ft8x8: return nnp_convolution_algorithm_ft8x8;
      case NnjitAlgorithm::ft16x16: return nnp_convolution_algorithm_ft16x16;
    }
    return nnp_convolution_algorithm_auto;
  }

  nnp_ext_convolution_operation ext_operation() const {
    switch (operation_) {
      case NnjitOperation::input_gradient: return nnp_ext_convolution_input_gradient;
      case NnjitOperation::kernel_gradient: return nnp_ext_convolution_kernel_gradient;
      case NnjitOperation::forward: break;
    }
    return inference_ ? nnp_ext_convolution_inference : nnp_ext_convolution_output;
  }

  const char* function_name() const {
    switch (operation_) {
      case NnjitOperation::input_gradient: return "nnp_convolution_input_gradient";
      case NnjitOperation::kernel_gradient: return "nnp_convolution_kernel_gradient";
      case NnjitOperation::forward: break;
    }
    return inference_ ? "nnp_convolution_inference" : "nnp_convolution_output";
  }

  nnp_status call(nnp_convolution_transform_strategy strategy, const float* kernel, void* workspace,
                  size_t* workspace_size, nnp_profile* profile = nullptr) {
    const ConvLayer& l = t_.layer;
    if (operation_ == NnjitOperation::input_gradient)
      return nnp_convolution_input_gradient(algorithm_, t_.batch, l.input_channels, l.output_channels, input_size_,
                                            padding_, kernel_size_, grad_output_.get(), kernel, gradient_.get(),
                                            workspace, workspace_size, nnp_activation_identity, nullptr, pool_.get(),
                                            profile);
    if (operation_ == NnjitOperation::kernel_gradient)
      return nnp_convolution_kernel_gradient(algorithm_, t_.batch, l.input_channels, l.output_channels, input_size_,
                                             padding_, kernel_size_, t_.input.get(), grad_output_.get(),
                                             gradient_.get(), workspace, workspace_size, nnp_activation_identity,
                                             nullptr, pool_.get(), profile);
    if (inference_) {
      return nnp_convolution_inference(algorithm_, strategy, l.input_channels, l.output_channels, input_size_,
                                       padding_, kernel_size_, subsampling_, t_.input.get(), kernel,
                                       t_.bias.get(), t_.output.get(), workspace, workspace_size,
                                       nnp_activation_identity, nullptr, pool_.get(), profile);
    }
    return nnp_convolution_output(algorithm_, t_.batch, l.input_channels, l.output_channels, input_size_,
                                  padding_, kernel_size_, t_.input.get(), kernel, t_.bias.get(),
                                  t_.output.get(), workspace, workspace_size, nnp_activation_identity,
                                  nullptr, pool_.get(), profile);
  }

  ConvTensors& t_;
  ThreadPool pool_;
  nnp_size input_size_{}, kernel_size_{}, subsampling_{};
  nnp_padding padding_{};
  nnp_convolution_algorithm algorithm_ = nnp_convolution_algorithm_auto;
  nnp_convolution_transform_strategy strategy_ = nnp_convolution_transform_strategy_compute;
  NnjitOperation operation_ = NnjitOperation::forward;
  nnp_profile* profile_ = nullptr;
  bool inference_ = true;
  Buffer<float> grad_output_, gradient_;  // the gradient operations' input and result
  const float* kernel_ = nullptr;
  Buffer<unsigned char> transformed_, workspace_;
  size_t transformed_bytes_ = 0, workspace_bytes_ = 0;
};

class NnjitFc final : public Runner {
 public:
  NnjitFc(FcTensors& t, ThreadPool pool) : t_(t), pool_(std::move(pool)) {
    label_ = std::string("nnjit isa=") + nnp_ext_isa_name();
  }
  bool run() override {
    const FcLayer& l = t_.layer;
    const nnp_status status =
        t_.batch == 1 ? nnp_fully_connected_inference(l.input_channels, l.output_channels, t_.input.get(),
                                                      t_.kernel.get(), t_.output.get(), pool_.get())
                      : nnp_fully_connected_output(t_.batch, l.input_channels, l.output_channels,
                                                   t_.input.get(), t_.kernel.get(), t_.output.get(),
                                                   pool_.get(), nullptr);
    if (status != nnp_status_success) {
      error_ = status_text(t_.batch == 1 ? "nnp_fully_connected_inference" : "nnp_fully_connected_output", status);
      return false;
    }
    return true;
  }

 private:
  FcTensors& t_;
  ThreadPool pool_;
};

class NnjitPool final : public Runner {
 public:
  NnjitPool(PoolTensors& t, ThreadPool pool) : t_(t), pool_(std::move(pool)) {
    label_ = std::string("nnjit isa=") + nnp_ext_isa_name();
  }
  bool run() override {
    const PoolLayer& l = t_.layer;
    const nnp_status status = nnp_max_pooling_output(
        t_.batch, l.channels, nnp_size{l.width, l.height}, nnp_padding{0, 0, 0, 0}, nnp_size{l.pool, l.pool},
        nnp_size{l.stride, l.stride}, t_.input.get(), t_.output.get(), pool_.get());
    if (status != nnp_status_success) {
      error_ = status_text("nnp_max_pooling_output", status);
      return false;
    }
    return true;
  }

 private:
  PoolTensors& t_;
  ThreadPool pool_;
};

// ---- OpenBLAS ---------------------------------------------------------------------------

#ifdef NNJIT_BENCH_HAVE_OPENBLAS
// (wait_for_idle_comparison_threads after a multi-threaded case.)
class OpenBlasThreads {
 public:
  explicit OpenBlasThreads(size_t threads) : threads_(threads) { openblas_set_num_threads(int(threads)); }
  ~OpenBlasThreads() {
    if (threads_ > 1) wait_for_idle_comparison_threads();
    openblas_set_num_threads(1);
  }

 private:
  size_t threads_;
};

std::string openblas_label() {
  const char* core = openblas_get_corename();
  return std::string("openblas:") + (core ? core : "?");
}

// im2col into a buffer allocated once, one SGEMM per image, then the bias: the
// path of Caffe and MXNet without NNPACK. im2col runs on the calling thread, as in
// those frameworks; only the SGEMM is multi-threaded.
class Im2colOpenBlasConv final : public Runner {
 public:
  Im2colOpenBlasConv(ConvTensors& t, size_t threads) : t_(t), threads_(threads) {
    const ConvLayer& l = t.layer;
    shape_ = {l.input_channels, l.height, l.width, l.kernel_height, l.kernel_width, l.padding, l.stride,
              l.output_height(), l.output_width()};
    m_ = l.output_channels;
    n_ = l.output_height() * l.output_width();
    k_ = l.input_channels * l.kernel_height * l.kernel_width;
    if (!im2col_is_identity(shape_)) {
      columns_ = filled_buffer(k_ * n_, 0.0f);
      label_ = openblas_label() + " im2col";
    } else {
      label_ = openblas_label() + " 1x1:no-im2col";
    }
  }
  bool run() override {
    const ConvLayer& l = t_.layer;
    const size_t image_in = l.input_floats(), image_out = l.output_floats();
    for (size_t b = 0; b < t_.batch; ++b) {
      const float* image = t_.input.get() + b * image_in;
      float* out = t_.output.get() + b * image_out;
      const float* patches = image;
      if (columns_) {
        im2col(shape_, image, columns_.get());
        patches = columns_.get();
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m_), int(n_), int(k_), 1.0f, t_.kernel.get(),
                  int(k_), patches, int(n_), 0.0f, out, int(n_));
      for (size_t o = 0; o < m_; ++o) {
        const float bias = t_.bias[o];
        float* row = out + o * n_;
        for (size_t j = 0; j < n_; ++j) row[j] += bias;
      }
    }
    return true;
  }

 private:
  ConvTensors& t_;
  OpenBlasThreads threads_;
  Im2colShape shape_{};
  size_t m_ = 0, n_ = 0, k_ = 0;
  Buffer<float> columns_;
};

// output[b][o] = sum_i input[b][i] * W[o][i]: SGEMV at batch 1, else C = X * W^T.
class OpenBlasFc final : public Runner {
 public:
  OpenBlasFc(FcTensors& t, size_t threads) : t_(t), threads_(threads) {
    label_ = openblas_label() + (t.batch == 1 ? " sgemv" : " sgemm");
  }
  bool run() override {
    const int in = int(t_.layer.input_channels), out = int(t_.layer.output_channels);
    if (t_.batch == 1) {
      cblas_sgemv(CblasRowMajor, CblasNoTrans, out, in, 1.0f, t_.kernel.get(), in, t_.input.get(), 1, 0.0f,
                  t_.output.get(), 1);
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(t_.batch), out, in, 1.0f, t_.input.get(), in,
                  t_.kernel.get(), in, 0.0f, t_.output.get(), out);
    }
    return true;
  }

 private:
  FcTensors& t_;
  OpenBlasThreads threads_;
};
#endif  // NNJIT_BENCH_HAVE_OPENBLAS

// ---- oneDNN --------------------------------------------------------------------------------

#ifdef NNJIT_BENCH_HAVE_DNNL
dnnl::engine& dnnl_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

// A reorder primitive created once; executing it is what each call pays.
struct Reorder {
  dnnl::reorder primitive;
  dnnl::memory from, to;
  void execute(dnnl::stream& s) { primitive.execute(s, from, to); }
};

// Memory in `wanted` layout: the user's memory itself if the layouts agree, else a
// new buffer (and, when `reorder` is non-null, the reorder from or to the user's).
dnnl::memory in_layout(const dnnl::memory& user, const dnnl::memory::desc& wanted, bool into_wanted,
                       std::unique_ptr<Reorder>* reorder) {
  if (user.get_desc() == wanted) return user;
  dnnl::memory m(wanted, dnnl_engine());
  if (reorder != nullptr) {
    *reorder = into_wanted ? std::make_unique<Reorder>(Reorder{dnnl::reorder(user, m), user, m})
                           : std::make_unique<Reorder>(Reorder{dnnl::reorder(m, user), m, user});
  }
  return m;
}

class OneDnnConv final : public Runner {
 public:
  OneDnnConv(ConvTensors& t, OneDnnConvMode mode, size_t threads) {
    omp_set_num_threads(int(threads));  // before creation: implementations size their work split then
    const ConvLayer& l = t.layer;
    const dnnl::memory::dim n = dnnl::memory::dim(t.batch), ic = dnnl::memory::dim(l.input_channels),
                            oc = dnnl::memory::dim(l.output_channels), ih = dnnl::memory::dim(l.height),
                            iw = dnnl::memory::dim(l.width), kh = dnnl::memory::dim(l.kernel_height),
                            kw = dnnl::memory::dim(l.kernel_width), oh = dnnl::memory::dim(l.output_height()),
                            ow = dnnl::memory::dim(l.output_width()), s = dnnl::memory::dim(l.stride),
                            p = dnnl::memory::dim(l.padding);
    const dnnl::memory::dims src_dims{n, ic, ih, iw}, wei_dims{oc, ic, kh, kw}, bias_dims{oc},
        dst_dims{n, oc, oh, ow};
    dnnl::engine& engine = dnnl_engine();
    stream_ = dnnl::stream(engine);
    const dnnl::algorithm algorithm =
        mode == OneDnnConvMode::winograd ? dnnl::algorithm::convolution_winograd : dnnl::algorithm::convolution_direct;
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, algorithm, dnnl::memory::desc(src_dims, dt::f32, tag::any),
        dnnl::memory::desc(wei_dims, dt::f32, tag::any), dnnl::memory::desc(bias_dims, dt::f32, tag::any),
        dnnl::memory::desc(dst_dims, dt::f32, tag::any), {s, s}, {p, p}, {p, p});
    const dnnl::convolution_forward::primitive_desc pd(desc, engine);  // throws if unsupported
    label_ = std::string("onednn:") + pd.impl_info_str();

    const dnnl::memory user_src({src_dims, dt::f32, tag::nchw}, engine, t.input.get());
    const dnnl::memory user_wei({wei_dims, dt::f32, tag::oihw}, engine, t.kernel.get());
    const dnnl::memory user_bias({bias_dims, dt::f32, tag::x}, engine, t.bias.get());
    const dnnl::memory user_dst({dst_dims, dt::f32, tag::nchw}, engine, t.output.get());

    // Weights and bias: reordered once, outside the timed calls, as a framework caches them.
    std::unique_ptr<Reorder> once;
    const dnnl::memory wei = in_layout(user_wei, pd.weights_desc(), true, &once);
    if (once) once->execute(stream_);
    once.reset();
    const dnnl::memory bias = in_layout(user_bias, pd.bias_desc(), true, &once);
    if (once) once->execute(stream_);
    once.reset();

    const bool blocked = mode == OneDnnConvMode::direct_blocked;
    const dnnl::memory src = in_layout(user_src, pd.src_desc(), true, blocked ? &once : &src_reorder_);
    if (once) once->execute(stream_);  // blocked: the input arrives already in oneDNN's layout
    const dnnl::memory dst = in_layout(user_dst, pd.dst_desc(), false, blocked ? nullptr : &dst_reorder_);
    stream_.wait();
    if (blocked && dst != user_dst) label_ += " dst:blocked";
    if (!blocked && (src_reorder_ || dst_reorder_)) label_ += " +nchw_reorders";

    conv_ = dnnl::convolution_forward(pd);
    args_ = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst}};
  }

  bool run() override {
    try {
      if (src_reorder_) src_reorder_->execute(stream_);
      conv_.execute(stream_, args_);
      if (dst_reorder_) dst_reorder_->execute(stream_);
      stream_.wait();
    } catch (const std::exception& e) {
      error_ = std::string("oneDNN: ") + e.what();
      return false;
    }
    return true;
  }

 private:
  dnnl::stream stream_;
  dnnl::convolution_forward conv_;
  std::unordered_map<int, dnnl::memory> args_;
  std::unique_ptr<Reorder> src_reorder_, dst_reorder_;
};

// Inner product, forward inference, no bias; src and dst plain nc, weights in the
// layout oneDNN picks (reordered once, outside the timed calls).
class OneDnnFc final : public Runner {
 public:
  OneDnnFc(FcTensors& t, size_t threads) {
    omp_set_num_threads(int(threads));
    const dnnl::memory::dim n = dnnl::memory::dim(t.batch), ic = dnnl::memory::dim(t.layer.input_channels),
                            oc = dnnl::memory::dim(t.layer.output_channels);
    dnnl::engine& engine = dnnl_engine();
    stream_ = dnnl::stream(engine);
    const dnnl::memory::desc src_md({n, ic}, dt::f32, tag::nc), dst_md({n, oc}, dt::f32, tag::nc);
    const dnnl::inner_product_forward::desc desc(dnnl::prop_kind::forward_inference, src_md,
                                                 dnnl::memory::desc({oc, ic}, dt::f32, tag::any), dst_md);
    const dnnl::inner_product_forward::primitive_desc pd(desc, engine);
    label_ = std::string("onednn:") + pd.impl_info_str();
    const dnnl::memory user_wei({{oc, ic}, dt::f32, tag::oi}, engine, t.kernel.get());
    std::unique_ptr<Reorder> once;
    const dnnl::memory wei = in_layout(user_wei, pd.weights_desc(), true, &once);
    if (once) once->execute(stream_);
    stream_.wait();
    ip_ = dnnl::inner_product_forward(pd);
    args_ = {{DNNL_ARG_SRC, dnnl::memory(pd.src_desc(), engine, t.input.get())},
             {DNNL_ARG_WEIGHTS, wei},
             {DNNL_ARG_DST, dnnl::memory(pd.dst_desc(), engine, t.output.get())}};
  }

  bool run() override {
    try {
      ip_.execute(stream_, args_);
      stream_.wait();
    } catch (const std::exception& e) {
      error_ = std::string("oneDNN: ") + e.what();
      return false;
    }
    return true;
  }

 private:
  dnnl::stream stream_;
  dnnl::inner_product_forward ip_;
  std::unordered_map<int, dnnl::memory> args_;
};

const char* dnnl_isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::all: return "all";
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
  }
  return "?";
}
#endif  // NNJIT_BENCH_HAVE_DNNL

}  // namespace

void wait_for_idle_comparison_threads() {
#ifdef NNJIT_BENCH_HAVE_OPENBLAS
  // 2^28 cycles of a time-stamp counter of at least 1.8 GHz.
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
#endif
}

// ---- factories ---------------------------------------------------------------------------------

std::unique_ptr<Runner> make_nnjit_conv(ConvTensors& t, NnjitConvMode mode, size_t threads, std::string& error) {
  ThreadPool pool = make_pool(threads, error);
  if (!pool) return nullptr;
  auto runner = std::make_unique<NnjitConv>(t, std::move(pool));
  if (!runner->prepare(mode)) {
    error = runner->error();
    return nullptr;
  }
  return runner;
}

std::unique_ptr<Runner> make_nnjit_fc(FcTensors& t, size_t threads, std::string& error) {
  ThreadPool pool = make_pool(threads, error);
  if (!pool) return nullptr;
  return std::make_unique<NnjitFc>(t, std::move(pool));
}

std::unique_ptr<Runner> make_nnjit_pool(PoolTensors& t, size_t threads, std::string& error) {
  ThreadPool pool = make_pool(threads, error);
  if (!pool) return nullptr;
  return std::make_unique<NnjitPool>(t, std::move(pool));
}

bool have_openblas() {
#ifdef NNJIT_BENCH_HAVE_OPENBLAS
  return true;
#else
  return false;
#endif
}

bool have_onednn() {
#ifdef NNJIT_BENCH_HAVE_DNNL
  return true;
#else
  return false;
#endif
}

std::unique_ptr<Runner> make_im2col_openblas_conv(ConvTensors& t, size_t threads, std::string& error) {
#ifdef NNJIT_BENCH_HAVE_OPENBLAS
  (void)error;
  return std::make_unique<Im2colOpenBlasConv>(t, threads);
#else
  (void)t, (void)threads;
  error = "built without OpenBLAS";
  return nullptr;
#endif
}

std::unique_ptr<Runner> make_openblas_fc(FcTensors& t, size_t threads, std::string& error) {
#ifdef NNJIT_BENCH_HAVE_OPENBLAS
  (void)error;
  return std::make_unique<OpenBlasFc>(t, threads);
#else
  (void)t, (void)threads;
  error = "built without OpenBLAS";
  return nullptr;
#endif
}

std::unique_ptr<Runner> make_onednn_conv(ConvTensors& t, OneDnnConvMode mode, size_t threads, std::string& error) {
#ifdef NNJIT_BENCH_HAVE_DNNL
  try {
    return std::make_unique<OneDnnConv>(t, mode, threads);
  } catch (const std::exception& e) {
    error = std::string("oneDNN refused: ") + e.what();
    return nullptr;
  }
#else
  (void)t, (void)mode, (void)threads;
  error = "built without oneDNN";
  return nullptr;
#endif
}

std::unique_ptr<Runner> make_onednn_fc(FcTensors& t, size_t threads, std::string& error) {
#ifdef NNJIT_BENCH_HAVE_DNNL
  try {
    return std::make_unique<OneDnnFc>(t, threads);
  } catch (const std::exception& e) {
    error = std::string("oneDNN refused: ") + e.what();
    return nullptr;
  }
#else
  (void)t, (void)threads;
  error = "built without oneDNN";
  return nullptr;
#endif
}

std::vector<std::pair<std::string, std::string>> library_context() {
  std::vector<std::pair<std::string, std::string>> context;
  context.emplace_back("nnjit_isa", nnp_ext_isa_name());
  if (const char* cap = std::getenv("NNJIT_ISA")) context.emplace_back("NNJIT_ISA", cap);
#ifdef NNJIT_BENCH_HAVE_OPENBLAS
  const char* core = openblas_get_corename();
  const char* config = openblas_get_config();
  context.emplace_back("openblas", std::string(config ? config : "?") + " core=" + (core ? core : "?"));
  if (const char* v = std::getenv("OPENBLAS_CORETYPE")) context.emplace_back("OPENBLAS_CORETYPE", v);
#else
  context.emplace_back("openblas", "not built in");
#endif
#ifdef NNJIT_BENCH_HAVE_DNNL
  const dnnl_version_t* v = dnnl::version();
  context.emplace_back("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                                     std::to_string(v->patch) + " isa=" + dnnl_isa_name(dnnl::get_effective_cpu_isa()));
  if (const char* cap = std::getenv("ONEDNN_MAX_CPU_ISA")) context.emplace_back("ONEDNN_MAX_CPU_ISA", cap);
  if (const char* cap = std::getenv("DNNL_MAX_CPU_ISA")) context.emplace_back("DNNL_MAX_CPU_ISA", cap);
#else
  context.emplace_back("onednn", "not built in");
#endif
  return context;
}

}  // namespace nnjit_bench
