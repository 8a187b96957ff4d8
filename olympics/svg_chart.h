// Small inline SVG charts for the HTML report: no scripts, no network, so
// the page renders anywhere (and in headless Chromium for the test).
//
// The page is static, so nothing can measure text when it is drawn: every
// label is placed from an estimate of its width (text_width(), generous on
// purpose) and laid out so that no two pieces of text meet. Legends flow in
// rows by that width, category names and titles wrap, bar values stand
// rotated above their bars, and a scatter label that finds no free place
// beside its point moves to a key under the chart.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tinyopt::olympics {

// Formats a value for ticks, bar labels and tooltips ("2.19 ms", "104.0x").
using ValueFormat = std::function<std::string(double)>;

struct BarSeries {
  std::string name;            // legend entry
  std::string color;           // CSS colour
  std::vector<double> values;  // one per category; <= 0 or NaN = no bar
};

// Grouped vertical bars; `log_scale` for ratios and latencies spanning decades.
std::string svg_bar_chart(const std::string& title, const std::string& y_label,
                          const std::vector<std::string>& categories, const std::vector<BarSeries>& series,
                          bool log_scale, const ValueFormat& format);

struct ScatterPoint {
  double x = 0, y = 0;
  std::string label;
  std::string color;
};

// Points with labels; x (bytes) on a log scale, since model sizes span decades.
std::string svg_scatter(const std::string& title, const std::string& x_label, const std::string& y_label,
                        const std::vector<ScatterPoint>& points);

// An upper estimate of the width in px of UTF-8 `text` at `font_px`, from
// per-character widths of DejaVu Sans (the widest common default sans-serif;
// Liberation Sans, Arial and Helvetica are narrower).
double text_width(std::string_view text, double font_px, bool bold = false);
// `text` broken into lines no wider than `max_px`: after spaces, '/' and ','
// and before '+' where possible, anywhere when one word alone is too wide.
std::vector<std::string> wrap_text(const std::string& text, double font_px, double max_px, bool bold = false);

// Escapes &, <, >, " and ' for HTML and SVG text.
std::string html_escape(const std::string& text);

}  // namespace tinyopt::olympics
