// nnjit-bench's command line: option errors exit with 2 and a clear message, --csv prints its
// header and one row per path, --plot writes an SVG, --layer-set still works. The binary is
// the one built with this test (NNJIT_BENCH_PATH); the NNJIT_BENCH environment variable
// overrides it.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Result {
  int status = -1;
  std::string output;  // stdout (and stderr when merged)
};

// Runs nnjit-bench with `arguments` (and an environment prefix); `merge` also captures stderr.
Result bench(const std::string& arguments, bool merge = true, const std::string& environment = "") {
  const char* path = std::getenv("NNJIT_BENCH");
  if (path == nullptr) path = NNJIT_BENCH_PATH;
  Result r;
  const std::string command =
      environment + " '" + path + "' " + arguments + (merge ? " 2>&1" : " 2>/dev/null");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) r.output.append(buffer, n);
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

struct BadOption {
  const char* arguments;
  const char* message;  // part of what must be said
};

TEST(NnjitBenchCli, BadOptionsExitWithTwoAndSayWhy) {
  const BadOption cases[] = {
      {"--bogus", "unknown option '--bogus'"},
      {"--network resnet50", "unknown network 'resnet50'"},
      {"--network", "missing value for --network"},
      {"--batch 0", "bad value for --batch: '0'"},
      {"--batch 1,,2", "bad value for --batch: ''"},
      {"--batch 2,x", "bad value for --batch: 'x'"},
      {"--batch -1", "bad value for --batch"},
      {"--threads 0", "bad value for --threads"},
      {"--threads many", "bad value for --threads: 'many'"},
      {"--algorithm winograd", "unknown algorithm 'winograd'"},
      {"--algorithm direct", "unknown algorithm 'direct'"},  // not a network choice
      {"--repeat 0", "bad value for --repeat"},
      {"--csv --layers", "cannot be combined"},
      {"--only conv", "need --layer-set"},
      {"--layer-set --csv", "--layer-set takes only"},
      {"--plot /nonexistent-directory/x.svg --batch 1", "cannot write"},
  };
  for (const BadOption& c : cases) {
    const Result r = bench(c.arguments);
    EXPECT_EQ(r.status, 2) << c.arguments << "\n" << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.arguments << "\n" << r.output;
  }
  const Result env = bench("--batch 1", true, "NNJIT_NUM_THREADS=lots");
  EXPECT_EQ(env.status, 2) << env.output;
  EXPECT_NE(env.output.find("NNJIT_NUM_THREADS='lots'"), std::string::npos) << env.output;
}

TEST(NnjitBenchCli, HelpExitsWithZero) {
  const Result r = bench("--help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.output.find("usage: nnjit-bench"), std::string::npos);
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(NnjitBenchCli, CsvHasTheHeaderAndOneRowPerPath) {
  const Result r = bench("--network alexnet --batch 1 --threads 2 --repeat 1 --csv", false);
  ASSERT_EQ(r.status, 0) << r.output;
  const std::vector<std::string> rows = lines(r.output);
  ASSERT_EQ(rows.size(), 3u) << r.output;
  EXPECT_EQ(rows[0], "network,batch,threads,path,images_per_sec");
  for (size_t i = 1; i < 3; ++i) {
    const std::string prefix = std::string("alexnet,1,2,") + (i == 1 ? "fast," : "fallback,");
    ASSERT_EQ(rows[i].rfind(prefix, 0), 0u) << rows[i];
    EXPECT_GT(std::atof(rows[i].c_str() + prefix.size()), 0.0) << rows[i];
  }
}

TEST(NnjitBenchCli, PlotWritesAnSvg) {
  const std::string path = ::testing::TempDir() + "nnjit_bench_plot.svg";
  std::remove(path.c_str());
  const Result r = bench("--network alexnet --batch 1,2 --threads 2 --repeat 1 --plot '" + path + "'");
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream file(path);
  std::stringstream svg;
  svg << file.rdbuf();
  EXPECT_EQ(svg.str().rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.str().find("<svg"), std::string::npos);
  EXPECT_NE(svg.str().find("<polyline"), std::string::npos);
  EXPECT_NE(svg.str().find("fallback"), std::string::npos);
  EXPECT_NE(svg.str().find("</svg>"), std::string::npos);
}

TEST(NnjitBenchCli, LayerSetModeStillWorks) {
  const Result r = bench("--layer-set --only alexnet.conv3 --threads 2", false);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("alexnet.conv3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("GFLOPS"), std::string::npos) << r.output;
}

}  // namespace
