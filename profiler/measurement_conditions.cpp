#include "profiler/measurement_conditions.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "profiler/timer.h"

namespace tinyopt {

namespace {

double seconds_of(const timeval& t) { return double(t.tv_sec) + 1e-6 * double(t.tv_usec); }

double clock_tick_seconds() {
  static const double tick = 1.0 / double(std::max(1L, ::sysconf(_SC_CLK_TCK)));
  return tick;
}

int online_cores() {
  static const int cores = int(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  return cores;
}

// The machine-wide "cpu" line of /proc/stat: busy and stolen time of all CPUs.
bool read_proc_stat(double& busy_s, double& steal_s) {
  FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return false;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  const int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle, &iowait,
                            &irq, &softirq, &steal);
  std::fclose(f);
  if (n < 7) return false;
  busy_s = double(user + nice + system + irq + softirq + steal) * clock_tick_seconds();
  steal_s = double(steal) * clock_tick_seconds();
  return true;
}

}  // namespace

LoadSnapshot take_load_snapshot() {
  LoadSnapshot s;
  s.wall_s = steady_seconds();
  rusage self{};
  if (::getrusage(RUSAGE_SELF, &self) == 0) {
    s.process_cpu_s = seconds_of(self.ru_utime) + seconds_of(self.ru_stime);
    s.involuntary_switches = self.ru_nivcsw;
  }
  s.machine_known = read_proc_stat(s.machine_busy_s, s.machine_steal_s);
  return s;
}

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::quiet: return "quiet";
    case Verdict::contended: return "contended";
    case Verdict::unknown: break;
  }
  return "unknown";
}

void ConditionsMeter::add(const LoadSnapshot& begin, const LoadSnapshot& end) {
  any_ = true;
  wall_ += end.wall_s - begin.wall_s;
  process_cpu_ += end.process_cpu_s - begin.process_cpu_s;
  switches_ += end.involuntary_switches - begin.involuntary_switches;
  machine_known_ = machine_known_ && begin.machine_known && end.machine_known;
  machine_busy_ += end.machine_busy_s - begin.machine_busy_s;
  machine_steal_ += end.machine_steal_s - begin.machine_steal_s;
}

MeasurementConditions ConditionsMeter::judge(int threads) const {
  MeasurementConditions c;
  c.threads = std::max(1, threads);
  c.cores = online_cores();
  c.seconds = wall_;
  if (!any_ || wall_ <= 0) return c;
  c.involuntary_switches_per_s = double(switches_) / wall_;
  if (!machine_known_) return c;  // no /proc/stat: nothing to judge by
  c.others_cores = std::max(0.0, (machine_busy_ - process_cpu_) / wall_);
  const double machine_cpu = wall_ * c.cores;
  c.steal_fraction = machine_cpu > 0 ? machine_steal_ / machine_cpu : 0;
  // /proc/stat counts in clock ticks: over a short region the estimate of the
  // others' share is that coarse, so only what exceeds it counts.
  const double tick_uncertainty = 2.0 * c.cores * clock_tick_seconds() / wall_;
  const double free_cores = c.cores - c.others_cores;
  std::string why;
  auto add = [&](const std::string& r) { why += (why.empty() ? "" : "; ") + r; };
  if (c.threads > free_cores + kFreeCoreSlack + tick_uncertainty)
    add(fmt::format("other processes kept {:.2f} of {} cores busy, leaving {:.2f} for {} thread(s)", c.others_cores,
                    c.cores, std::max(0.0, free_cores), c.threads));
  if (c.steal_fraction > kMaxStealFraction)
    add(fmt::format("the hypervisor took {:.0f}% of the CPU time", 100 * c.steal_fraction));
  if (c.involuntary_switches_per_s > kMaxSwitchesPerThreadSecond * c.threads)
    add(fmt::format("our threads were descheduled {:.0f} times per second", c.involuntary_switches_per_s));
  c.verdict = why.empty() ? Verdict::quiet : Verdict::contended;
  c.reason = why;
  return c;
}

MeasurementConditions judge_conditions(const LoadSnapshot& begin, const LoadSnapshot& end, int threads) {
  ConditionsMeter meter;
  meter.add(begin, end);
  return meter.judge(threads);
}

MeasurementConditions worse(const MeasurementConditions& a, const MeasurementConditions& b) {
  auto rank = [](Verdict v) { return v == Verdict::contended ? 2 : v == Verdict::quiet ? 0 : 1; };
  if (a.verdict == Verdict::contended && b.verdict == Verdict::contended) {
    MeasurementConditions both = a.others_cores >= b.others_cores ? a : b;
    if (a.reason != b.reason) both.reason = a.reason + "; " + b.reason;
    return both;
  }
  return rank(a.verdict) >= rank(b.verdict) ? a : b;
}

std::string MeasurementConditions::describe() const {
  if (verdict == Verdict::contended) return "contended: " + reason;
  if (verdict == Verdict::unknown) return "unknown (the machine's load could not be read)";
  return fmt::format("quiet (others used {:.2f} of {} cores)", others_cores, cores);
}

nlohmann::json MeasurementConditions::to_json() const {
  return {{"verdict", verdict_name(verdict)},
          {"reason", reason.empty() ? nlohmann::json() : nlohmann::json(reason)},
          {"seconds", seconds},
          {"threads", threads},
          {"cores", cores},
          {"others_cores", others_cores},
          {"steal_fraction", steal_fraction},
          {"involuntary_switches_per_s", involuntary_switches_per_s}};
}

MeasurementConditions conditions_from_json(const nlohmann::json& j) {
  MeasurementConditions c;
  if (!j.is_object()) return c;
  const std::string v = j.value("verdict", std::string("unknown"));
  c.verdict = v == "quiet" ? Verdict::quiet : v == "contended" ? Verdict::contended : Verdict::unknown;
  if (j.contains("reason") && j.at("reason").is_string()) c.reason = j.at("reason").get<std::string>();
  c.seconds = j.value("seconds", 0.0);
  c.threads = j.value("threads", 0);
  c.cores = j.value("cores", 0);
  c.others_cores = j.value("others_cores", 0.0);
  c.steal_fraction = j.value("steal_fraction", 0.0);
  c.involuntary_switches_per_s = j.value("involuntary_switches_per_s", 0.0);
  return c;
}

double cores_busy_elsewhere(double seconds) {
  const LoadSnapshot begin = take_load_snapshot();
  ::usleep(static_cast<useconds_t>(seconds * 1e6));
  const LoadSnapshot end = take_load_snapshot();
  if (!begin.machine_known || !end.machine_known) return -1;
  return judge_conditions(begin, end, 1).others_cores;
}

int threads_for_free_cores(double others_cores) {
  const int cores = online_cores();
  const int fit = static_cast<int>(std::floor(cores - others_cores + kFreeCoreSlack));
  return std::clamp(fit, 1, cores);
}

}  // namespace tinyopt
