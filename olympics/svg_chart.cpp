#include "olympics/svg_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

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

double text_width(std::string_view text, double font_px, bool bold) {
  // Advance widths in em, each class rounded up to its widest member in DejaVu Sans.
  auto in = [](unsigned char c, const char* set) { return c != 0 && std::strchr(set, c) != nullptr; };
  double em = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) == 0x80) continue;  // UTF-8 continuation byte: counted with its first byte
    if (c >= 0x80) em += 0.8;          // µ, ×, accented letters
    else if (in(c, "mwMW@%")) em += 1.0;
    else if (in(c, "+=<>~#&")) em += 0.86;
    else if (c >= 'A' && c <= 'Z') em += 0.8;
    else if (in(c, " .,:;'|!()[]/\\`-ijlftr")) em += 0.42;
    else em += 0.66;  // lower case, digits and the rest
  }
  return em * font_px * (bold ? 1.12 : 1.0);  // bold DejaVu is up to 10% wider
}

namespace {

std::string trim_right(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

size_t utf8_length(unsigned char lead) { return lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4; }

}  // namespace

std::vector<std::string> wrap_text(const std::string& text, double font_px, double max_px, bool bold) {
  std::vector<std::string> pieces;  // each may end a line
  std::string piece;
  for (char c : text) {
    if (c == '+' && !piece.empty()) pieces.push_back(std::exchange(piece, ""));
    piece += c;
    if (c == ' ' || c == '/' || c == ',') pieces.push_back(std::exchange(piece, ""));
  }
  if (!piece.empty()) pieces.push_back(piece);
  const auto fits = [&](const std::string& s) { return text_width(trim_right(s), font_px, bold) <= max_px; };
  std::vector<std::string> lines;
  std::string line;
  for (const std::string& p : pieces) {
    if (fits(line + p)) {
      line += p;
      continue;
    }
    if (!trim_right(line).empty()) lines.push_back(trim_right(line));
    line.clear();
    // Character by character: a piece that fits a line alone stays whole.
    for (size_t i = 0; i < p.size();) {
      const std::string ch = p.substr(i, utf8_length(static_cast<unsigned char>(p[i])));
      if (!line.empty() && !fits(line + ch)) lines.push_back(trim_right(std::exchange(line, "")));
      line += ch;
      i += ch.size();
    }
  }
  if (!trim_right(line).empty() || lines.empty()) lines.push_back(trim_right(line));
  return lines;
}

namespace {

// Font sizes in px; every <text> carries its own (font()).
constexpr double kTitlePx = 14, kSmallPx = 11, kAxisPx = 12;
constexpr double kWidth = 760, kPad = 10, kMinPlotHeight = 210;

// Room for one line of text: DejaVu Sans' glyph box is 1.17 em tall, plus air.
double line_height(double px) { return std::ceil(px * 1.35); }
// The baseline that centres a glyph box (ascent 0.93 em, descent 0.24 em) on `y`.
double centred(double y, double px) { return y + 0.35 * px; }

bool usable(double v) { return std::isfinite(v) && v > 0; }

struct Box {
  double x, y, w, h;
  bool meets(const Box& o) const { return x < o.x + o.w && o.x < x + w && y < o.y + o.h && o.y < y + h; }
  bool inside(const Box& o) const { return x >= o.x && y >= o.y && x + w <= o.x + o.w && y + h <= o.y + o.h; }
};

// Maps a value to [0, 1] of the plot height.
struct Axis {
  double lo, hi;
  bool log;
  double at(double v) const {
    if (log) return (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    return (v - lo) / (hi - lo);
  }
  // Decades (log) or quarters; thinned so tick labels stay at least two lines apart.
  std::vector<double> ticks(double length_px) const {
    std::vector<double> all;
    if (log) {
      for (double t = lo; t <= hi * 1.0001; t *= 10) all.push_back(t);
    } else {
      for (int i = 0; i <= 4; ++i) all.push_back(lo + (hi - lo) * i / 4);
    }
    const size_t most = std::max<size_t>(2, size_t(length_px / (2 * line_height(kSmallPx))));
    const size_t step = (all.size() + most - 2) / (most - 1);
    std::vector<double> out;
    for (size_t i = 0; i < all.size(); i += std::max<size_t>(1, step)) out.push_back(all[i]);
    return out;
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

// The plot area; everything else is laid out around it.
struct Frame {
  double left, top, width, height;
  double right() const { return left + width; }
  double bottom() const { return top + height; }
  double y_of(const Axis& a, double v) const { return bottom() - height * std::clamp(a.at(v), 0.0, 1.0); }
};

// The class of a piece of text and the font its layout assumed, as attributes,
// so a chart looks the same on any page.
std::string font(const char* cls) {
  const std::string_view c = cls;
  if (c == "title") return fmt::format("class=\"title\" font-size=\"{}\" font-weight=\"bold\"", kTitlePx);
  return fmt::format("class=\"{}\" font-size=\"{}\"", cls, c == "axis" || c == "category" ? kAxisPx : kSmallPx);
}

std::string text(double x, double y, const char* cls, const std::string& s, const char* anchor = "start") {
  return fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" {} text-anchor=\"{}\">{}</text>\n", x, y, font(cls), anchor,
                     html_escape(s));
}

// The title, wrapped to the chart's width; returns the y below it.
double draw_title(std::string& out, const std::string& title) {
  double y = kPad;
  for (const std::string& line : wrap_text(title, kTitlePx, kWidth - 2 * kPad, true)) {
    out += text(kPad, centred(y + line_height(kTitlePx) / 2, kTitlePx), "title", line);
    y += line_height(kTitlePx);
  }
  return y + 8;
}

// The plot's height: at least enough for the rotated y-axis label.
double plot_height(const std::string& y_label) { return std::max(kMinPlotHeight, text_width(y_label, kAxisPx) + 12); }

// Where the plot starts so the widest tick label and the rotated axis label fit on its left.
double plot_left(const std::vector<std::string>& tick_labels) {
  double widest = 0;
  for (const std::string& t : tick_labels) widest = std::max(widest, text_width(t, kSmallPx));
  return kPad + line_height(kAxisPx) + 8 + widest + 6;
}

std::string draw_y_axis(const Frame& f, const Axis& axis, const std::vector<double>& ticks,
                        const std::vector<std::string>& labels, const std::string& title) {
  std::string out;
  for (size_t i = 0; i < ticks.size(); ++i) {
    const double y = f.y_of(axis, ticks[i]);
    out += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" class=\"grid\"/>", f.left,
                       f.right(), y, y);
    out += text(f.left - 6, centred(y, kSmallPx), "tick", labels[i], "end");
  }
  const double cx = kPad + line_height(kAxisPx) / 2, cy = f.top + f.height / 2;
  // Rotated about the centre of its glyph box, which stays where it was.
  out += fmt::format("<text x=\"{0:.1f}\" y=\"{1:.1f}\" {2} text-anchor=\"middle\" "
                     "transform=\"rotate(-90 {0:.1f} {3:.1f})\">{4}</text>\n",
                     cx, centred(cy, kAxisPx), font("axis"), cy, html_escape(title));
  return out;
}

struct LegendEntry {
  std::string color, text;
  bool round = false;  // a dot (scatter points) instead of a square (bars)
};

// Entries flow left to right in rows as wide as the chart, each as wide as
// its text; an entry wider than a row wraps onto several lines. Returns the
// y below the legend.
double draw_legend(std::string& out, const std::vector<LegendEntry>& entries, double top) {
  const double row_w = kWidth - 2 * kPad, swatch = 10, gap = 18, lh = line_height(kSmallPx);
  double x = kPad, y = top, row_h = 0;
  for (const LegendEntry& e : entries) {
    const std::vector<std::string> lines = wrap_text(e.text, kSmallPx, row_w - swatch - 4);
    double w = 0;
    for (const std::string& l : lines) w = std::max(w, text_width(l, kSmallPx));
    w += swatch + 4;
    if (x > kPad && x + w > kPad + row_w) x = kPad, y += row_h, row_h = 0;
    const double mid = y + lh / 2;
    out += e.round ? fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"{}\"/>", x + 5, mid, e.color)
                   : fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"10\" height=\"10\" fill=\"{}\"/>", x,
                                 mid - 5, e.color);
    for (size_t i = 0; i < lines.size(); ++i)
      out += text(x + swatch + 4, centred(mid + lh * double(i), kSmallPx), "legend", lines[i]);
    x += w + gap;
    row_h = std::max(row_h, lh * double(lines.size()));
  }
  return y + row_h;
}

std::string svg_document(double height, const std::string& title, const std::string& body) {
  return fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"{0}\" height=\"{1:.0f}\" "
                     "viewBox=\"0 0 {0} {1:.0f}\" font-family=\"system-ui, sans-serif\" role=\"img\" "
                     "aria-label=\"{2}\">\n{3}</svg>\n",
                     kWidth, std::ceil(height), html_escape(title), body);
}

}  // namespace

std::string svg_bar_chart(const std::string& title, const std::string& y_label,
                          const std::vector<std::string>& categories, const std::vector<BarSeries>& series,
                          bool log_scale, const ValueFormat& format) {
  std::vector<double> all;
  for (const BarSeries& s : series) all.insert(all.end(), s.values.begin(), s.values.end());
  const Axis axis = make_axis(all, log_scale);
  const double plot_h = plot_height(y_label);
  const std::vector<double> ticks = axis.ticks(plot_h);
  std::vector<std::string> tick_labels;
  for (double t : ticks) tick_labels.push_back(format(t));

  std::string out;
  const double below_title = draw_title(out, title);
  const double left = plot_left(tick_labels), plot_w = kWidth - left - kPad;
  const double group_w = plot_w / double(std::max<size_t>(1, categories.size()));
  const double bar_w = group_w * 0.8 / double(std::max<size_t>(1, series.size()));
  // Values stand rotated above their bars, one text line wide: shown only
  // where a bar is that wide, with room above the plot for the longest.
  const bool values_shown = bar_w >= line_height(kSmallPx);
  double longest = 0;
  for (const BarSeries& s : series)
    for (double v : s.values)
      if (usable(v)) longest = std::max(longest, text_width(format(v), kSmallPx));
  const double headroom = std::max(line_height(kSmallPx) / 2, values_shown ? longest + 6 : 0);
  const Frame f{left, below_title + headroom, plot_w, plot_h};
  out += draw_y_axis(f, axis, ticks, tick_labels, y_label);

  double categories_h = 0;
  for (size_t c = 0; c < categories.size(); ++c) {
    const double gx = f.left + group_w * double(c);
    for (size_t s = 0; s < series.size(); ++s) {
      const double v = c < series[s].values.size() ? series[s].values[c] : 0;
      if (!usable(v)) continue;
      const double top = std::min(f.y_of(axis, v), f.bottom() - 1);
      const double x = gx + group_w * 0.1 + bar_w * double(s), cx = x + bar_w * 0.46;
      const std::string value = format(v);
      out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\" "
                         "class=\"bar\"><title>{}: {} = {}</title></rect>\n",
                         x, top, bar_w * 0.92, f.bottom() - top, series[s].color, html_escape(categories[c]),
                         html_escape(series[s].name), html_escape(value));
      if (values_shown)  // reads upwards from just above the bar, centred on it
        out += fmt::format("<text x=\"{0:.1f}\" y=\"{1:.1f}\" {2} transform=\"rotate(-90 {0:.1f} {3:.1f})\">"
                           "{4}</text>\n",
                           cx, centred(top - 4, kSmallPx), font("value"), top - 4, html_escape(value));
    }
    const std::vector<std::string> lines = wrap_text(categories[c], kAxisPx, group_w - 6);
    for (size_t i = 0; i < lines.size(); ++i)
      out += text(gx + group_w / 2, centred(f.bottom() + 4 + line_height(kAxisPx) * (double(i) + 0.5), kAxisPx),
                  "category", lines[i], "middle");
    categories_h = std::max(categories_h, line_height(kAxisPx) * double(lines.size()));
  }
  std::vector<LegendEntry> legend;
  for (const BarSeries& s : series) legend.push_back({s.color, s.name});
  const double bottom = draw_legend(out, legend, f.bottom() + 4 + categories_h + 10);
  return svg_document(bottom + kPad, title, out);
}

namespace {

// Bytes with an SI prefix, three digits: "100 kB", "1.02 MB".
std::string si_bytes(double b) {
  const char* prefixes[] = {"", "k", "M", "G", "T"};
  int p = 0;
  while (b >= 999.5 && p < 4) b /= 1000, ++p;
  return fmt::format("{:.3g} {}B", b, prefixes[p]);
}

// A box for a label beside the point at (x, y), or none: the first of eight
// places around it that stays in the plot and meets no label or point so far.
bool place_label(double x, double y, double w, double h, const Frame& f, const std::vector<Box>& taken, Box& out) {
  const double d = 9;  // clear of the point's radius (6) and its outline
  const Box candidates[] = {{x + d, y - h / 2, w, h},     {x - d - w, y - h / 2, w, h}, {x - w / 2, y - d - h, w, h},
                            {x - w / 2, y + d, w, h},     {x + d - 3, y - d - h + 3, w, h},
                            {x + d - 3, y + d - 3, w, h}, {x - d + 3 - w, y - d - h + 3, w, h},
                            {x - d + 3 - w, y + d - 3, w, h}};
  const Box plot{f.left, f.top, f.width, f.height};
  for (const Box& c : candidates) {
    if (!c.inside(plot)) continue;
    if (std::none_of(taken.begin(), taken.end(), [&](const Box& t) { return t.meets(c); })) return out = c, true;
  }
  return false;
}

}  // namespace

std::string svg_scatter(const std::string& title, const std::string& x_label, const std::string& y_label,
                        const std::vector<ScatterPoint>& points) {
  std::vector<double> xs, ys;
  for (const ScatterPoint& p : points) xs.push_back(p.x), ys.push_back(p.y);
  const Axis x_axis = make_axis(xs, true);
  Axis y_axis = make_axis(ys, false);
  double ylo = INFINITY, yhi = -INFINITY;
  for (double y : ys)
    if (std::isfinite(y)) ylo = std::min(ylo, y), yhi = std::max(yhi, y);
  if (std::isfinite(ylo)) y_axis = {std::min(ylo, 0.95), std::max(yhi, 1.0) + 0.01, false};
  const double plot_h = plot_height(y_label);
  const std::vector<double> y_ticks = y_axis.ticks(plot_h);
  std::vector<std::string> y_tick_labels;
  for (double t : y_ticks) y_tick_labels.push_back(fmt::format("{:.3g}", t));

  std::string out;
  const double below_title = draw_title(out, title);
  const double left = plot_left(y_tick_labels);
  const Frame f{left, below_title + line_height(kSmallPx) / 2, kWidth - left - kPad, plot_h};
  out += draw_y_axis(f, y_axis, y_ticks, y_tick_labels, y_label);
  // x tick labels start below the lowest y tick label (centred on the plot's
  // bottom edge) and are kept inside the chart at both ends.
  const double x_ticks_top = f.bottom() + line_height(kSmallPx) / 2 + 2;
  for (double t : x_axis.ticks(f.width / 3)) {  // a tick label is about as wide as three lines are tall
    const double x = f.left + f.width * x_axis.at(t), half = text_width(si_bytes(t), kSmallPx) / 2;
    out += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\" class=\"grid\"/>", x, f.top,
                       f.bottom());
    const double y = centred(x_ticks_top + line_height(kSmallPx) / 2, kSmallPx);
    out += text(std::clamp(x, kPad + half, kWidth - kPad - half), y, "tick", si_bytes(t), "middle");
  }
  const double x_label_mid = x_ticks_top + line_height(kSmallPx) + line_height(kAxisPx) / 2;
  out += text(f.left + f.width / 2, centred(x_label_mid, kAxisPx), "axis", x_label, "middle");

  // Points first (every one is an obstacle for every label), then the labels that find room.
  struct Drawn {
    const ScatterPoint* p;
    double x, y;
  };
  std::vector<Drawn> drawn;
  std::vector<Box> taken;
  for (const ScatterPoint& p : points) {
    if (!usable(p.x) || !std::isfinite(p.y)) continue;
    const double x = f.left + f.width * std::clamp(x_axis.at(p.x), 0.0, 1.0), y = f.y_of(y_axis, p.y);
    out += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"6\" fill=\"{}\" class=\"point\"><title>{}: {}, "
                       "{:.4f}</title></circle>\n",
                       x, y, p.color, html_escape(p.label), si_bytes(p.x), p.y);
    drawn.push_back({&p, x, y});
    taken.push_back({x - 7, y - 7, 14, 14});
  }
  std::vector<LegendEntry> key;
  for (const Drawn& d : drawn) {
    Box b{};
    if (place_label(d.x, d.y, text_width(d.p->label, kSmallPx), line_height(kSmallPx), f, taken, b)) {
      taken.push_back(b);
      out += text(b.x, centred(b.y + b.h / 2, kSmallPx), "label", d.p->label);
    } else {
      key.push_back({d.p->color, fmt::format("{} ({}, {:.4f})", d.p->label, si_bytes(d.p->x), d.p->y), true});
    }
  }
  double bottom = x_label_mid + line_height(kAxisPx) / 2;
  if (!key.empty()) {
    out += text(kPad, centred(bottom + 10 + line_height(kSmallPx) / 2, kSmallPx), "legend",
                "Not labelled above, too close to other points (size, quality ratio):");
    bottom = draw_legend(out, key, bottom + 10 + line_height(kSmallPx));
  }
  return svg_document(bottom + kPad, title, out);
}

}  // namespace tinyopt::olympics
