// nnjit-bench: whole networks on the library, fast path against the framework fallback.
//
// With no arguments it runs AlexNet and VGG-16 forward passes for batch sizes 1, 2, 4, 8,
// 16 and 32 on all cores and prints images/sec with the fast path (layers the framework
// rule sends to the library), with the fallback (im2col + GEMM and plain loops, as a
// framework's own implementation), and the speedup. See --help for the options; the
// networks and the rule live in network.h, the old per-layer mode in layer_set.h.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nnjit.h>
#include <nnpack.h>
#include <pthreadpool.h>

#include "bandwidth.h"
#include "layer_set.h"
#include "network.h"
#include "svg_plot.h"

namespace {

using nnjit_tools::LayerRecord;
using nnjit_tools::Network;
using nnjit_tools::Path;

const char kUsage[] =
    "usage: nnjit-bench [options]\n"
    "Runs AlexNet and VGG-16 forward passes (random weights, NCHW fp32) through the library's fast\n"
    "path, where the framework rule allows it, and through the framework fallback (im2col + GEMM,\n"
    "plain loops), and prints images/sec per batch size and the speedup.\n"
    "  --network NAME    alexnet, vgg16 or vgga; repeatable (default: alexnet and vgg16)\n"
    "  --batch LIST      comma-separated batch sizes (default: 1,2,4,8,16,32)\n"
    "  --threads N       threads (default: NNJIT_NUM_THREADS, else MXNET_CPU_NNPACK_NTHREADS,\n"
    "                    else one per logical processor)\n"
    "  --algorithm NAME  auto, wt8x8, ft8x8, ft16x16 or implicit_gemm for fast-path convolutions\n"
    "                    (layers it cannot serve use auto)\n"
    "  --layers          per-layer breakdown: time, GFLOPS, algorithm, share of the total\n"
    "  --csv             CSV on stdout: network,batch,threads,path,images_per_sec\n"
    "  --plot FILE.svg   write images/sec against batch size for both paths as SVG\n"
    "  --repeat N        timed runs of each path per configuration, alternating, after one\n"
    "                    warm-up run each (default: as many as fit in about 4 seconds, 1 to 10)\n"
    "  --layer-set       instead, time every layer of bench/layers.tsv once; accepts --threads,\n"
    "                    --batch, --algorithm (any algorithm), --file LAYERS.tsv, --only SUBSTRING\n"
    "  --bandwidth       instead, time ReLU, softmax and 2x2/2 max pooling on 256 MiB arrays\n"
    "                    against memcpy and an in-place loop (accepts --threads)\n"
    "  --help            this text\n";

constexpr double kBudgetSeconds = 2.0;
constexpr size_t kMaxRepeat = 10;

struct Options {
  bool layer_set = false;
  bool bandwidth = false;
  std::vector<std::string> networks;
  std::vector<size_t> batches;
  size_t threads = 0;  // 0: from the environment, else all cores
  bool threads_given = false;
  nnp_convolution_algorithm algorithm = nnp_convolution_algorithm_auto;
  bool algorithm_given = false;
  bool layers = false;
  bool csv = false;
  std::string plot;
  size_t repeat = 0;  // 0: by time budget
  std::string file, only;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "nnjit-bench: %s\n(run nnjit-bench --help for the options)\n", message.c_str());
  std::exit(2);
}

size_t parse_count(const std::string& text, const std::string& what, size_t maximum) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text[0] == '-' || text[0] == '+' || *end != '\0' || errno != 0 || value == 0 ||
      value > maximum)
    usage_error("bad value for " + what + ": '" + text + "' (a whole number from 1 to " + std::to_string(maximum) +
                ")");
  return static_cast<size_t>(value);
}

std::vector<size_t> parse_batches(const std::string& text) {
  std::vector<size_t> batches;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    batches.push_back(parse_count(text.substr(start, comma - start), "--batch", 4096));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return batches;
}

nnp_convolution_algorithm parse_algorithm(const std::string& text, bool any) {
  for (int a = nnp_convolution_algorithm_auto; a <= nnp_convolution_algorithm_wt8x8_fp16; ++a) {
    const auto algorithm = static_cast<nnp_convolution_algorithm>(a);
    const bool network_choice = algorithm == nnp_convolution_algorithm_auto || algorithm == nnp_convolution_algorithm_wt8x8 ||
                                algorithm == nnp_convolution_algorithm_ft8x8 ||
                                algorithm == nnp_convolution_algorithm_ft16x16 ||
                                algorithm == nnp_convolution_algorithm_implicit_gemm;
    if (text == nnp_ext_algorithm_name(algorithm) && (any || network_choice)) return algorithm;
  }
  usage_error("unknown algorithm '" + text + "' (" +
              (any ? "auto, ft8x8, ft16x16, wt8x8, implicit_gemm, direct or wt8x8_fp16"
                   : "auto, wt8x8, ft8x8, ft16x16 or implicit_gemm") +
              ")");
}

Options parse_options(int argc, char** argv) {
  Options o;
  std::string algorithm_text;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error("missing value for " + arg);
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (arg == "--network") {
      const std::string name = value();
      const auto& names = nnjit_tools::network_names();
      if (std::find(names.begin(), names.end(), name) == names.end())
        usage_error("unknown network '" + name + "' (alexnet, vgg16 or vgga)");
      if (std::find(o.networks.begin(), o.networks.end(), name) == o.networks.end()) o.networks.push_back(name);
    } else if (arg == "--batch") {
      o.batches = parse_batches(value());
    } else if (arg == "--threads") {
      o.threads = parse_count(value(), "--threads", 4096);
      o.threads_given = true;
    } else if (arg == "--algorithm") {
      algorithm_text = value();
      o.algorithm_given = true;
    } else if (arg == "--layers") {
      o.layers = true;
    } else if (arg == "--csv") {
      o.csv = true;
    } else if (arg == "--plot") {
      o.plot = value();
      if (o.plot.empty()) usage_error("--plot needs a file name");
    } else if (arg == "--repeat") {
      o.repeat = parse_count(value(), "--repeat", 1000);
    } else if (arg == "--layer-set") {
      o.layer_set = true;
    } else if (arg == "--bandwidth") {
      o.bandwidth = true;
    } else if (arg == "--file") {
      o.file = value();
    } else if (arg == "--only") {
      o.only = value();
    } else {
      usage_error("unknown option '" + arg + "'");
    }
  }
  if (o.algorithm_given) o.algorithm = parse_algorithm(algorithm_text, o.layer_set);
  if (o.bandwidth) {
    if (o.layer_set || !o.networks.empty() || !o.batches.empty() || o.algorithm_given || o.layers || o.csv ||
        !o.plot.empty() || o.repeat != 0 || !o.file.empty() || !o.only.empty())
      usage_error("--bandwidth takes only --threads");
  } else if (o.layer_set) {
    if (!o.networks.empty() || o.layers || o.csv || !o.plot.empty() || o.repeat != 0)
      usage_error("--layer-set takes only --threads, --batch, --algorithm, --file and --only");
  } else {
    if (!o.file.empty() || !o.only.empty()) usage_error("--file and --only need --layer-set");
    if (o.csv && o.layers) usage_error("--csv and --layers cannot be combined (the CSV has one row per path)");
  }
  if (!o.threads_given) {
    std::string error;
    o.threads = nnjit_tools::threads_from_environment(&error);
    if (!error.empty()) usage_error(error);
  }
  if (o.networks.empty()) o.networks = {"alexnet", "vgg16"};
  if (o.batches.empty()) o.batches = o.layer_set ? std::vector<size_t>{1} : std::vector<size_t>{1, 2, 4, 8, 16, 32};
  return o;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One "\r"-rewritten status line on stderr, only when stderr is a terminal.
class Progress {
 public:
  Progress() : enabled_(isatty(STDERR_FILENO) == 1) {}
  void show(const std::string& text) {
    if (!enabled_) return;
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    std::fflush(stderr);
  }
  void clear() {
    if (enabled_) std::fputs("\r\033[K", stderr), std::fflush(stderr);
  }

 private:
  bool enabled_;
};

struct Measurement {
  double seconds = 0.0;              // median forward pass
  std::vector<LayerRecord> layers;   // per layer: the median time over the runs
  size_t runs = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Measurement of one configuration on both paths. The runs alternate (fast, fallback, fast,
// ...) after one warm-up run of each, so that load from elsewhere on the machine affects
// both paths alike and the speedup stays meaningful on a shared machine.
struct PairMeasurement {
  Measurement fast, fallback;
};

Measurement summarize(const std::vector<double>& totals, const std::vector<std::vector<LayerRecord>>& records) {
  Measurement m;
  m.seconds = median(totals);
  m.runs = totals.size();
  m.layers = records[0];
  for (size_t l = 0; l < m.layers.size(); ++l) {
    std::vector<double> times;
    for (const auto& run_records : records) times.push_back(run_records[l].seconds);
    m.layers[l].seconds = median(times);
  }
  return m;
}

PairMeasurement measure(Network& network, const std::vector<float>& input, size_t batch,
                        const nnjit_tools::RunOptions& run, size_t repeat, Progress& progress) {
  const std::string label = network.name() + " batch " + std::to_string(batch);
  const Path paths[2] = {Path::fast, Path::fallback};
  double warm_up = 0.0;
  for (Path path : paths) {  // JIT, workspace and first-touch costs
    progress.show(label + ": warm-up, " + nnjit_tools::path_name(path));
    const auto start = std::chrono::steady_clock::now();
    network.forward(input.data(), batch, path, run, nullptr);
    warm_up += seconds_since(start);
  }
  const size_t runs = repeat != 0 ? repeat
                                  : std::clamp<size_t>(static_cast<size_t>(2 * kBudgetSeconds / warm_up), 1, kMaxRepeat);
  std::vector<double> totals[2];
  std::vector<std::vector<LayerRecord>> records[2];
  for (size_t r = 0; r < runs; ++r) {
    for (size_t p = 0; p < 2; ++p) {
      progress.show(label + ": run " + std::to_string(r + 1) + "/" + std::to_string(runs) + ", " +
                    nnjit_tools::path_name(paths[p]));
      records[p].emplace_back();
      const auto start = std::chrono::steady_clock::now();
      network.forward(input.data(), batch, paths[p], run, &records[p].back());
      totals[p].push_back(seconds_since(start));
    }
  }
  return {summarize(totals[0], records[0]), summarize(totals[1], records[1])};
}

std::string gflops(const LayerRecord& r) {
  if (r.flops == 0.0 || r.seconds == 0.0) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", r.flops / r.seconds * 1e-9);
  return text;
}

void print_breakdown(const Measurement& fast, const Measurement& fallback) {
  double fast_total = 0, fallback_total = 0;
  for (const LayerRecord& r : fast.layers) fast_total += r.seconds;
  for (const LayerRecord& r : fallback.layers) fallback_total += r.seconds;
  std::printf("  %-9s %-7s %-8s %-18s %9s %7s %6s | %-12s %9s %7s %6s | %7s\n", "layer", "kind", "route",
              "algorithm", "fast ms", "GFLOPS", "share", "fallback", "ms", "GFLOPS", "share", "speedup");
  for (size_t i = 0; i < fast.layers.size(); ++i) {
    const LayerRecord& f = fast.layers[i];
    const LayerRecord& b = fallback.layers[i];
    std::printf("  %-9s %-7s %-8s %-18s %9.2f %7s %5.1f%% | %-12s %9.2f %7s %5.1f%% | %6.2fx\n", f.name.c_str(),
                nnjit_tools::layer_kind_name(f.kind), f.fast ? "fast" : "fallback", f.implementation.c_str(),
                f.seconds * 1e3, gflops(f).c_str(), 100.0 * f.seconds / fast_total, b.implementation.c_str(),
                b.seconds * 1e3, gflops(b).c_str(), 100.0 * b.seconds / fallback_total, b.seconds / f.seconds);
  }
  std::printf("  %-9s %-7s %-8s %-18s %9.2f %7s %6s | %-12s %9.2f %7s %6s | %6.2fx\n", "total", "", "", "",
              fast_total * 1e3, "", "", "", fallback_total * 1e3, "", "", fallback_total / fast_total);
}

struct Row {
  std::string network;
  size_t batch;
  double fast, fallback;  // images/sec
};

void print_table_header() {
  std::printf("%-8s %6s %14s %16s %9s\n", "network", "batch", "fast img/s", "fallback img/s", "speedup");
}
void print_table_row(const Row& r) {
  std::printf("%-8s %6zu %14.2f %16.2f %8.2fx\n", r.network.c_str(), r.batch, r.fast, r.fallback, r.fast / r.fallback);
}

int run_networks(const Options& o) {
  if (!o.plot.empty()) {
    std::ofstream probe(o.plot);
    if (!probe) usage_error("cannot write " + o.plot);
  }
  if (nnp_initialize() != nnp_status_success) {
    std::fprintf(stderr, "nnjit-bench: nnp_initialize failed\n");
    return 1;
  }
  pthreadpool_t pool = pthreadpool_create(o.threads);
  const size_t threads = pthreadpool_get_threads_count(pool);
  nnjit_tools::RunOptions run;
  run.threadpool = pool;
  run.algorithm = o.algorithm;
  Progress progress;

  if (o.csv) {
    std::printf("network,batch,threads,path,images_per_sec\n");
  } else {
    std::printf("nnjit-bench: forward passes, isa %s, %zu threads, algorithm %s\n", nnp_ext_isa_name(), threads,
                nnp_ext_algorithm_name(o.algorithm));
    std::printf("fast: layers the framework rule allows run on the library; fallback: im2col + GEMM, plain loops\n");
    if (!o.layers) print_table_header();
  }
  std::fflush(stdout);

  std::vector<Row> rows;
  std::vector<nnjit_tools::PlotPanel> panels;
  int status = 0;
  try {
    for (const std::string& name : o.networks) {
      std::string error;
      progress.show(name + ": building the network");
      std::unique_ptr<Network> network = Network::create(name, nnjit_tools::NetworkOptions{}, &error);
      if (!network) throw std::runtime_error(error);
      nnjit_tools::PlotPanel panel{name + ": images/sec against batch size (" + std::to_string(threads) + " threads)",
                                   {{"fast path", "#1f77b4", {}}, {"fallback", "#ff7f0e", {}}}};
      for (size_t batch : o.batches) {
        const std::vector<float> input = network->random_input(batch);
        const PairMeasurement pair = measure(*network, input, batch, run, o.repeat, progress);
        const Measurement& fast = pair.fast;
        const Measurement& fallback = pair.fallback;
        progress.clear();
        const Row row{name, batch, batch / fast.seconds, batch / fallback.seconds};
        rows.push_back(row);
        panel.series[0].points.push_back({batch, row.fast});
        panel.series[1].points.push_back({batch, row.fallback});
        if (o.csv) {
          std::printf("%s,%zu,%zu,fast,%.3f\n", name.c_str(), batch, threads, row.fast);
          std::printf("%s,%zu,%zu,fallback,%.3f\n", name.c_str(), batch, threads, row.fallback);
        } else if (o.layers) {
          std::printf("\n%s, batch %zu: fast %.2f img/s, fallback %.2f img/s, speedup %.2fx (median of %zu runs each)\n",
                      name.c_str(), batch, row.fast, row.fallback, row.fast / row.fallback, fast.runs);
          print_breakdown(fast, fallback);
        } else {
          print_table_row(row);
        }
        std::fflush(stdout);
      }
      panels.push_back(panel);
    }
  } catch (const std::exception& e) {
    progress.clear();
    std::fprintf(stderr, "nnjit-bench: %s\n", e.what());
    status = 1;
  }
  if (status == 0 && o.layers) {
    std::printf("\n");
    print_table_header();
    for (const Row& r : rows) print_table_row(r);
  }
  if (status == 0 && !o.plot.empty()) {
    std::ofstream file(o.plot);
    file << nnjit_tools::svg_document(panels, std::string("nnjit-bench, isa ") + nnp_ext_isa_name() + ", " +
                                                  std::to_string(threads) + " threads, algorithm " +
                                                  nnp_ext_algorithm_name(o.algorithm));
    if (!file) {
      std::fprintf(stderr, "nnjit-bench: cannot write %s\n", o.plot.c_str());
      status = 1;
    }
  }
  pthreadpool_destroy(pool);
  nnp_deinitialize();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  if (options.bandwidth) return nnjit_tools::run_bandwidth(options.threads, 256);
  if (options.layer_set) {
    nnjit_tools::LayerSetOptions set;
    set.threads = options.threads;
    set.batches = options.batches;
    set.algorithm = options.algorithm;
    set.layers_file = options.file;
    set.only = options.only;
    std::string error;
    const int status = nnjit_tools::run_layer_set(set, &error);
    if (!error.empty()) usage_error(error);
    return status;
  }
  return run_networks(options);
}
