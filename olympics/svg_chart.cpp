#include "olympics/svg_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace tinyopt::olympics {

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

constexpr double kWidth = 760, kHeight = 320, kLeft = 70, kRight = 20, kTop = 40, kBottom = 70;

bool usable(double v) { return std::isfinite(v) && v > 0; }

// Maps a value to [0, 1] of the plot height.
struct Axis {
  double lo, hi;
  bool log;
  double at(double v) const {
    if (log) return (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    return (v - lo) / (hi - lo);
  }
};

Axis make_axis(const std::vector<double>& values, bool log) {
  double lo = INFINITY, hi = 0;
  for (double v : values)
    if (usable(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!std::isfinite(lo)) lo = 1, hi = 10;
  if (log) {
    lo = std::pow(10, std::floor(std::log10(lo)));
    hi = std::pow(10, std::ceil(std::log10(hi)));
    if (hi <= lo) hi = lo * 10;
  } else {
    lo = 0;
    hi = hi > 0 ? hi * 1.1 : 1;
  }
  return {lo, hi, log};
}

std::string header(const std::string& title) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "role=\"img\" aria-label=\"{2}\">\n<text x=\"{3}\" y=\"22\" class=\"title\">{2}</text>\n",
      kWidth, kHeight, html_escape(title), kLeft);
}

std::string y_axis(const Axis& axis, const std::string& label) {
  const double plot_h = kHeight - kTop - kBottom;
  std::string out;
  std::vector<double> ticks;
  if (axis.log) {
    for (double t = axis.lo; t <= axis.hi * 1.0001; t *= 10) ticks.push_back(t);
  } else {
    for (int i = 0; i <= 4; ++i) ticks.push_back(axis.lo + (axis.hi - axis.lo) * i / 4);
  }
  for (double t : ticks) {
    const double y = kTop + plot_h * (1 - axis.at(t));
    out += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" class=\"grid\"/>"
                       "<text x=\"{}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"end\">{:.3g}</text>\n",
                       kLeft, kWidth - kRight, y, y, kLeft - 6, y + 4, t);
  }
  out += fmt::format("<text x=\"14\" y=\"{:.1f}\" class=\"axis\" transform=\"rotate(-90 14 {:.1f})\" "
                     "text-anchor=\"middle\">{}</text>\n",
                     kTop + plot_h / 2, kTop + plot_h / 2, html_escape(label));
  return out;
}

}  // namespace

std::string svg_bar_chart(const std::string& title, const std::string& y_label,
                          const std::vector<std::string>& categories, const std::vector<BarSeries>& series,
                          bool log_scale, const std::string& value_format) {
  std::vector<double> all;
  for (const BarSeries& s : series) all.insert(all.end(), s.values.begin(), s.values.end());
  const Axis axis = make_axis(all, log_scale);
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  std::string out = header(title) + y_axis(axis, y_label);
  const double group_w = plot_w / std::max<size_t>(1, categories.size());
  const double bar_w = group_w * 0.8 / std::max<size_t>(1, series.size());
  for (size_t c = 0; c < categories.size(); ++c) {
    const double gx = kLeft + group_w * double(c);
    for (size_t s = 0; s < series.size(); ++s) {
      const double v = c < series[s].values.size() ? series[s].values[c] : 0;
      if (!usable(v)) continue;
      const double h = std::max(1.0, plot_h * std::clamp(axis.at(v), 0.0, 1.0));
      const double x = gx + group_w * 0.1 + bar_w * double(s);
      const std::string text = fmt::format(fmt::runtime(value_format), v);
      out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\" "
                         "class=\"bar\"><title>{}: {} = {}</title></rect>\n",
                         x, kTop + plot_h - h, bar_w * 0.92, h, series[s].color, html_escape(categories[c]),
                         html_escape(series[s].name), text);
      if (bar_w >= 22)
        out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"value\" text-anchor=\"middle\">{}</text>\n",
                           x + bar_w * 0.46, kTop + plot_h - h - 3, html_escape(text));
    }
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"category\" text-anchor=\"middle\">{}</text>\n",
                       gx + group_w / 2, kTop + plot_h + 16, html_escape(categories[c]));
  }
  for (size_t s = 0; s < series.size(); ++s) {
    const double lx = kLeft + 150.0 * double(s % 4), ly = kHeight - 30 + 14.0 * double(s / 4);
    out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"10\" height=\"10\" fill=\"{}\"/>"
                       "<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"legend\">{}</text>\n",
                       lx, ly - 9, series[s].color, lx + 14, ly, html_escape(series[s].name));
  }
  return out + "</svg>\n";
}

std::string svg_scatter(const std::string& title, const std::string& x_label, const std::string& y_label,
                        const std::vector<ScatterPoint>& points) {
  std::vector<double> xs, ys;
  for (const ScatterPoint& p : points) xs.push_back(p.x), ys.push_back(p.y);
  const Axis x_axis = make_axis(xs, true);
  Axis y_axis_ = make_axis(ys, false);
  double ylo = INFINITY, yhi = -INFINITY;
  for (double y : ys)
    if (std::isfinite(y)) ylo = std::min(ylo, y), yhi = std::max(yhi, y);
  if (std::isfinite(ylo)) y_axis_ = {std::min(ylo, 0.95), std::max(yhi, 1.0) + 0.01, false};
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  std::string out = header(title) + y_axis(y_axis_, y_label);
  for (double t = x_axis.lo; t <= x_axis.hi * 1.0001; t *= 10) {
    const double x = kLeft + plot_w * x_axis.at(t);
    out += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" class=\"grid\"/>"
                       "<text x=\"{0:.1f}\" y=\"{3}\" class=\"tick\" text-anchor=\"middle\">{4:.3g}</text>\n",
                       x, kTop, kTop + plot_h, kTop + plot_h + 14, t);
  }
  out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"axis\" text-anchor=\"middle\">{}</text>\n",
                     kLeft + plot_w / 2, kTop + plot_h + 32, html_escape(x_label));
  for (const ScatterPoint& p : points) {
    if (!usable(p.x) || !std::isfinite(p.y)) continue;
    const double x = kLeft + plot_w * std::clamp(x_axis.at(p.x), 0.0, 1.0);
    const double y = kTop + plot_h * (1 - std::clamp(y_axis_.at(p.y), 0.0, 1.0));
    out += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"6\" fill=\"{}\" class=\"point\"><title>{}: {:.4g} "
                       "bytes, {:.4f}</title></circle><text x=\"{:.1f}\" y=\"{:.1f}\" class=\"label\">{}</text>\n",
                       x, y, p.color, html_escape(p.label), p.x, p.y, x + 8, y - 8, html_escape(p.label));
  }
  return out + "</svg>\n";
}

}  // namespace tinyopt::olympics
