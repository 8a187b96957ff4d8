// Small inline SVG charts for the HTML report: no scripts, no network, so
// the page renders anywhere (and in headless Chromium for the test).
#pragma once

#include <string>
#include <vector>

namespace tinyopt::olympics {

struct BarSeries {
  std::string name;            // legend entry
  std::string color;           // CSS colour
  std::vector<double> values;  // one per category; <= 0 or NaN = no bar
};

// Grouped vertical bars; `log_scale` for ratios and latencies spanning decades.
std::string svg_bar_chart(const std::string& title, const std::string& y_label,
                          const std::vector<std::string>& categories, const std::vector<BarSeries>& series,
                          bool log_scale, const std::string& value_format = "{:.3g}");

struct ScatterPoint {
  double x = 0, y = 0;
  std::string label;
  std::string color;
};

// Points with labels; x on a log scale (model bytes span decades).
std::string svg_scatter(const std::string& title, const std::string& x_label, const std::string& y_label,
                        const std::vector<ScatterPoint>& points);

// Escapes &, <, >, " and ' for HTML and SVG text.
std::string html_escape(const std::string& text);

}  // namespace tinyopt::olympics
