// Plain-text tables of an Olympics run and of the leaderboard, for the terminal.
#pragma once

#include <string>
#include <vector>

#include "olympics/olympics_run.h"

namespace tinyopt::olympics {

// One event: every contender's measurements and, for the submitted recipes,
// division, quality and score with its parts.
std::string event_table(const EventOutcome& event);
// Each technique's contribution to the cumulative speedup.
std::string ablation_table(const EventOutcome& event);
// The rankings of one event.
std::string leaderboard_table(const std::string& event_key, const std::vector<LeaderboardEntry>& entries);

std::string format_seconds(double s);  // "12.3 us", "4.56 ms", "1.23 s"

}  // namespace tinyopt::olympics
