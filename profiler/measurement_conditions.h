// Whether a measurement ran undisturbed, measured alongside it.
//
// On a shared machine (a laptop running a browser and a build, a lab server)
// another process can hold a core while we time something. OpenMP threads then
// wait at every barrier for a descheduled teammate, and a timing can come out
// 100x slow in every run alike, so its spread looks fine. What the kernel
// counts tells: while the region ran, how much CPU time did other processes
// take (/proc/stat's machine-wide busy time minus our own, getrusage), how
// long did our threads wait, runnable, for a CPU (the scheduler's per-thread
// run_delay, /proc/self/task/*/schedstat: exact, even over a few milliseconds),
// and how much did the hypervisor steal. From those, one verdict per result:
// quiet, or contended with the figures that say why. How often our threads were
// descheduled while runnable (involuntary context switches) is reported
// beside it, not judged: kernel threads preempt a few dozen times a second on
// an idle machine too.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace tinyopt {

// What the machine and this process had done up to one moment.
struct LoadSnapshot {
  double wall_s = 0;
  double process_cpu_s = 0;          // user + system time of every thread of this process
  int64_t involuntary_switches = 0;  // times this process's threads were descheduled while runnable
  double runqueue_wait_s = 0;        // time this process's threads were runnable but waited for a CPU
  bool runqueue_known = false;       // /proc/self/task/*/schedstat was readable
  double machine_busy_s = 0;         // /proc/stat, all CPUs: user, nice, system, irq, softirq, steal
  double machine_steal_s = 0;        // time the hypervisor gave this machine's CPUs to someone else
  bool machine_known = false;        // /proc/stat was readable
};
LoadSnapshot take_load_snapshot();

enum class Verdict { quiet, contended, unknown };
const char* verdict_name(Verdict v);

// The conditions of one measured region (or the sum of several slices of it).
struct MeasurementConditions {
  Verdict verdict = Verdict::unknown;  // unknown: nothing measured, or /proc/stat unreadable
  double seconds = 0;                  // wall time covered
  int threads = 0;                     // threads the measured work ran on
  int cores = 0;                       // CPUs online
  double others_cores = 0;             // CPU time of other processes / wall time: cores they kept busy
  double steal_fraction = 0;           // stolen / all CPU time of the machine
  double wait_fraction = 0;            // runqueue wait / (wall time x threads): our threads kept off a CPU
  double involuntary_switches_per_s = 0;
  std::string reason;                  // contended: what was seen, with figures

  bool contended() const { return verdict == Verdict::contended; }
  // "quiet" or "contended: other processes kept 0.95 of 2 cores busy ...".
  std::string describe() const;
  nlohmann::json to_json() const;
};
MeasurementConditions conditions_from_json(const nlohmann::json& j);

// The verdict for the work of `threads` threads measured between two
// snapshots. Judge a whole measurement, not its slices: /proc/stat counts in
// clock ticks (10 ms), so only a window of many ticks says how busy the others were.
MeasurementConditions judge_conditions(const LoadSnapshot& begin, const LoadSnapshot& end, int threads);

// The worse of two verdicts, with both reasons (a result measured in several
// regions is contended when any of them was).
MeasurementConditions worse(const MeasurementConditions& a, const MeasurementConditions& b);

// How many cores other processes keep busy, watched for `seconds` (this
// process idle meanwhile); -1 when /proc/stat cannot be read.
double cores_busy_elsewhere(double seconds);
// The threads that fit the cores others leave free (what the verdict would
// call quiet): at least 1, at most the online CPUs.
int threads_for_free_cores(double others_cores);

// The thresholds of the verdict, stated so that docs and messages can quote them.
inline constexpr double kFreeCoreSlack = 0.25;     // threads may exceed the free cores by this much
inline constexpr double kMaxStealFraction = 0.05;  // of the machine's CPU time
inline constexpr double kMaxWaitFraction = 0.05;   // of our threads' time, waiting for a CPU

}  // namespace tinyopt
