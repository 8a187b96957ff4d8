// The layout check of the Olympics HTML report, shared by the report's unit
// test and the CLI test: a copy of the report gets tests/scripts/report_layout.js
// appended, headless Chromium lays it out at a given window width and runs
// it, and the problems it found (overlapping text, text past the window's
// right edge, chart text cut off, blocks wider than the window) come back as
// readable lines that name the text involved.
#pragma once

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/test_io_util.h"

namespace tinyopt::test {

inline std::string chromium_path() {
  for (const char* c : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (std::filesystem::exists(c)) return c;
  return "";
}

// Headless, offline and with a fresh profile, so nothing but the file loads.
inline std::string chromium_command(const std::string& browser, const ScratchDir& dir) {
  return "timeout 120 " + browser +
         " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run"
         " --disable-background-networking --disable-component-update --disable-sync --user-data-dir=" +
         dir.file("profile") + " ";
}

struct LayoutCheck {
  std::string error;                  // the check itself could not run
  int texts = 0;                      // text boxes measured
  std::vector<std::string> problems;  // empty: nothing overlaps, everything fits
};

// --dump-dom writes text content HTML-escaped.
inline std::string unescape_html_text(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    bool matched = false;
    for (const auto& [entity, c] : {std::pair{"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}, {"&nbsp;", "\xc2\xa0"}})
      if (s.compare(i, std::strlen(entity), entity) == 0) {
        out += c;
        i += std::strlen(entity);
        matched = true;
        break;
      }
    if (!matched) out += s[i++];
  }
  return out;
}

inline LayoutCheck check_report_layout(const std::string& browser, const std::string& report, int width) {
  LayoutCheck check;
  ScratchDir dir;
  std::string html = read_bytes(report);
  const size_t end = html.rfind("</body>");
  if (end == std::string::npos) return {"no </body> in " + report, 0, {}};
  const std::string script = read_bytes(std::string(TINYOPT_SOURCE_DIR) + "/tests/scripts/report_layout.js");
  html.insert(end, "<script>\n" + script + "</script>\n");
  const std::string page = dir.file("page.html"), dom = dir.file("dom.html");
  write_bytes(page, html);
  const std::string cmd = chromium_command(browser, dir) + "--window-size=" + std::to_string(width) +
                          ",2000 --dump-dom file://" + page + " >" + dom + " 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) return {"chromium failed: " + cmd, 0, {}};
  const std::string rendered = read_bytes(dom);
  const std::string open = "<pre id=\"layout-check\">";
  const size_t at = rendered.rfind(open), stop = rendered.find("</pre>", at);  // the body's last element
  if (at == std::string::npos || stop == std::string::npos) return {"the script left no result in the page", 0, {}};
  const auto j = nlohmann::json::parse(unescape_html_text(rendered.substr(at + open.size(), stop - at - open.size())));
  check.texts = j["texts"].get<int>();
  const std::string at_width = " at " + std::to_string(width) + "px: ";
  for (const auto& pair : j["overlaps"])
    check.problems.push_back("overlap" + at_width + "'" + pair[0].get<std::string>() + "' x '" +
                             pair[1].get<std::string>() + "'");
  for (const auto& t : j["offpage"])
    check.problems.push_back("past the right edge" + at_width + "'" + t.get<std::string>() + "'");
  for (const auto& t : j["clipped"])
    check.problems.push_back("cut off by its chart" + at_width + "'" + t.get<std::string>() + "'");
  for (const auto& t : j["wide"]) check.problems.push_back("wider than the window" + at_width + t.get<std::string>());
  if (j["scroll_width"].get<int>() > j["width"].get<int>())
    check.problems.push_back("the page scrolls sideways" + at_width + "content " +
                             std::to_string(j["scroll_width"].get<int>()) + "px wide");
  return check;
}

inline std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += "\n  " + l;
  return out;
}

}  // namespace tinyopt::test
