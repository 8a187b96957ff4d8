// Plain-text tables of an Olympics run and of the leaderboard, for the terminal.
#pragma once

#include <string>
#include <vector>

#include "olympics/olympics_run.h"
#include "profiler/timer.h"  // format_seconds

namespace tinyopt::olympics {

// One event: every contender's measurements and, for the submitted recipes,
// division, quality and score with its parts.
std::string event_table(const EventOutcome& event);
// Each technique's contribution to the cumulative speedup.
std::string ablation_table(const EventOutcome& event);
// The rankings of one event.
std::string leaderboard_table(const std::string& event_key, const std::vector<LeaderboardEntry>& entries);
// "88.87%" (accuracy) or "1.1234 nats/char" (loss); "-" when not measured.
std::string quality_text(const std::string& metric, double value);

}  // namespace tinyopt::olympics
