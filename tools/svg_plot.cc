#include "svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

namespace nnjit_tools {
namespace {

constexpr double kWidth = 720, kPanelHeight = 360;
constexpr double kLeft = 80, kRight = 170, kTop = 50, kBottom = 60;  // plot-area margins within a panel

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

// A "nice" axis maximum (1, 2 or 5 times a power of ten) at or above v, and its tick step.
void nice_axis(double v, double* maximum, double* step) {
  if (!(v > 0)) v = 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(v)));
  *maximum = 10 * magnitude;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * magnitude >= v) {
      *maximum = m * magnitude;
      break;
    }
  }
  *step = *maximum / 5;
}

std::string text(double x, double y, const std::string& content, const char* anchor = "middle", int size = 12) {
  return "<text x=\"" + number(x) + "\" y=\"" + number(y) + "\" text-anchor=\"" + anchor + "\" font-size=\"" +
         std::to_string(size) + "\">" + escape(content) + "</text>\n";
}

std::string line(double x1, double y1, double x2, double y2, const char* style) {
  return "<line x1=\"" + number(x1) + "\" y1=\"" + number(y1) + "\" x2=\"" + number(x2) + "\" y2=\"" + number(y2) +
         "\" " + style + "/>\n";
}

std::string panel(const PlotPanel& p, double top) {
  std::set<size_t> batches;
  double highest = 0;
  for (const PlotSeries& s : p.series)
    for (const auto& [batch, value] : s.points) batches.insert(batch), highest = std::max(highest, value);
  double y_max, y_step;
  nice_axis(highest * 1.05, &y_max, &y_step);
  const double x0 = kLeft, x1 = kWidth - kRight, y0 = top + kPanelHeight - kBottom, y1 = top + kTop;
  const double lo = batches.empty() ? 0 : std::log2(double(*batches.begin()));
  const double hi = batches.empty() ? 1 : std::log2(double(*batches.rbegin()));
  auto x_of = [&](size_t batch) {
    return hi == lo ? (x0 + x1) / 2 : x0 + (std::log2(double(batch)) - lo) / (hi - lo) * (x1 - x0);
  };
  auto y_of = [&](double v) { return y0 - v / y_max * (y0 - y1); };

  std::string out = text(kWidth / 2, top + 28, p.title, "middle", 16);
  for (double v = 0; v <= y_max * 1.0001; v += y_step) {
    out += line(x0, y_of(v), x1, y_of(v), "stroke=\"#dddddd\"");
    out += text(x0 - 8, y_of(v) + 4, number(v), "end");
  }
  for (size_t batch : batches) {
    out += line(x_of(batch), y0, x_of(batch), y0 + 5, "stroke=\"black\"");
    out += text(x_of(batch), y0 + 20, std::to_string(batch));
  }
  out += line(x0, y0, x1, y0, "stroke=\"black\"");
  out += line(x0, y0, x0, y1, "stroke=\"black\"");
  out += text((x0 + x1) / 2, y0 + 45, "batch size");
  out += "<text x=\"20\" y=\"" + number((y0 + y1) / 2) + "\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 20 " +
         number((y0 + y1) / 2) + ")\">images / second</text>\n";
  double legend_y = y1 + 10;
  for (const PlotSeries& s : p.series) {
    std::string points;
    for (const auto& [batch, value] : s.points) points += number(x_of(batch)) + "," + number(y_of(value)) + " ";
    out += "<polyline fill=\"none\" stroke=\"" + s.color + "\" stroke-width=\"2\" points=\"" + points + "\"/>\n";
    for (const auto& [batch, value] : s.points)
      out += "<circle cx=\"" + number(x_of(batch)) + "\" cy=\"" + number(y_of(value)) + "\" r=\"4\" fill=\"" + s.color +
             "\"><title>" + escape(s.label) + ", batch " + std::to_string(batch) + ": " + number(value) +
             " images/s</title></circle>\n";
    out += line(x1 + 20, legend_y, x1 + 45, legend_y, ("stroke=\"" + s.color + "\" stroke-width=\"2\"").c_str());
    out += text(x1 + 52, legend_y + 4, s.label, "start");
    legend_y += 20;
  }
  return out;
}

}  // namespace

std::string svg_document(const std::vector<PlotPanel>& panels, const std::string& caption) {
  const double height = kPanelHeight * std::max<size_t>(1, panels.size()) + 30;
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    number(kWidth) + "\" height=\"" + number(height) + "\" viewBox=\"0 0 " + number(kWidth) + " " +
                    number(height) + "\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  for (size_t i = 0; i < panels.size(); ++i) out += panel(panels[i], kPanelHeight * i);
  out += text(kWidth / 2, height - 10, caption, "middle", 11);
  out += "</svg>\n";
  return out;
}

}  // namespace nnjit_tools
