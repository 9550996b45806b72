// A minimal SVG line chart for nnjit-bench --plot: one panel per network, images/sec
// against batch size (log2 axis), one line per path.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace nnjit_tools {

struct PlotSeries {
  std::string label;                             // legend text
  std::string color;                             // CSS colour
  std::vector<std::pair<size_t, double>> points;  // (batch size, images/sec)
};

struct PlotPanel {
  std::string title;
  std::vector<PlotSeries> series;
};

// The whole document as text.
std::string svg_document(const std::vector<PlotPanel>& panels, const std::string& caption);

}  // namespace nnjit_tools
