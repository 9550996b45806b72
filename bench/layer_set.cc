// Reads bench/layers.tsv, the layer set every performance figure is measured on.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common.h"

namespace nnjit_bench {
namespace {

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream in(line);
  std::string field;
  while (in >> field) fields.push_back(field);  // tabs (or spaces) separate fields
  return fields;
}

bool parse_size(const std::string& text, size_t& value) {
  if (text.empty() || text[0] == '-') return false;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (errno != 0 || end == nullptr || *end != '\0') return false;
  value = static_cast<size_t>(v);
  return true;
}

bool parse_sizes(const std::vector<std::string>& fields, size_t first, size_t count, size_t* out) {
  if (fields.size() != first + count) return false;
  for (size_t i = 0; i < count; ++i)
    if (!parse_size(fields[first + i], out[i])) return false;
  return true;
}

}  // namespace

bool load_layers(const char* path, LayerSet& layers, std::string& error) {
  std::ifstream file(path);
  if (!file) {
    error = std::string("cannot open ") + path;
    return false;
  }
  std::string line;
  size_t line_number = 0;
  while (std::getline(file, line)) {
    ++line_number;
    const std::vector<std::string> f = split_fields(line);
    if (f.empty() || f[0][0] == '#') continue;
    const auto fail = [&](const char* what) {
      error = std::string(path) + ":" + std::to_string(line_number) + ": " + what;
      return false;
    };
    if (f.size() < 2) return fail("expected: name kind fields...");
    const std::string& kind = f[1];
    if (kind == "conv") {
      size_t v[8];
      if (!parse_sizes(f, 2, 8, v))
        return fail("conv row needs: in_ch out_ch H W kh kw pad stride");
      ConvLayer c{f[0], v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
      if (c.input_channels == 0 || c.output_channels == 0 || c.kernel_height == 0 || c.kernel_width == 0 ||
          c.stride == 0 || c.height + 2 * c.padding < c.kernel_height ||
          c.width + 2 * c.padding < c.kernel_width)
        return fail("conv row has an empty or impossible shape");
      layers.conv.push_back(c);
    } else if (kind == "fc") {
      size_t v[2];
      if (!parse_sizes(f, 2, 2, v) || v[0] == 0 || v[1] == 0) return fail("fc row needs: in out");
      layers.fc.push_back({f[0], v[0], v[1]});
    } else if (kind == "pool") {
      size_t v[5];
      if (!parse_sizes(f, 2, 5, v) || v[3] == 0 || v[4] == 0) return fail("pool row needs: ch H W pool stride");
      layers.pool.push_back({f[0], v[0], v[1], v[2], v[3], v[4]});
    } else {
      return fail("unknown kind (conv, fc, pool)");
    }
  }
  return true;
}

}  // namespace nnjit_bench
