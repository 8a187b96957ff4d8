// The Olympics report: one self-contained HTML page (inline CSS and SVG, no
// scripts, no network) with each event's table, the ablation, the charts
// (speedup per technique per event, quality vs model size, latency
// percentiles) and the machine. Written atomically (io/atomic_file.h).
#pragma once

#include <string>

#include "olympics/olympics_run.h"
#include "olympics/report_data.h"

namespace tinyopt::olympics {

std::string render_html_report(const OlympicsOutcome& outcome);
std::string render_html_report(const ReportData& data);
void write_html_report(const OlympicsOutcome& outcome, const std::string& path);

}  // namespace tinyopt::olympics
