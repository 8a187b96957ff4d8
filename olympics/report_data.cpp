#include "olympics/report_data.h"

namespace tinyopt::olympics {

ReportData report_data(const OlympicsOutcome& out) {
  ReportData d{out.team, out.machine, out.db_path, out.seconds, out.peak_rss_bytes, {}, out.leaderboard};
  for (const EventOutcome& eo : out.events) {
    ReportEvent e{eo.event, eo.quality_note, {}, {}, eo.ablation};
    for (size_t i = 0; i < eo.contenders.size(); ++i)
      e.contenders.push_back({eo.contenders[i]->label, bool(eo.submitted[i]), eo.results[i],
                              compute_speedup(eo.results[0], eo.results[i])});
    for (const auto& sub : eo.submissions)
      e.submissions.push_back({sub->contender().label, sub->validation(), sub->compute_score(),
                               sub->result().model_bytes, sub->contender().prepared.skipped});
    d.events.push_back(std::move(e));
  }
  return d;
}

}  // namespace tinyopt::olympics
