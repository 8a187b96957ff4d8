#include "profiler/measurement_conditions.h"

#include <fmt/format.h>
#include <dirent.h>
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

// Sum of the scheduler's run_delay (ns spent runnable on a runqueue, not
// running) over every thread of this process.
bool read_runqueue_wait(double& wait_s) {
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return false;
  unsigned long long total_ns = 0;
  bool any = false;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    char path[320];  // "/proc/self/task/" + a name of up to 255 bytes + "/schedstat"
    std::snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", entry->d_name);
    FILE* f = std::fopen(path, "r");
    if (f == nullptr) continue;  // the thread ended meanwhile
    unsigned long long on_cpu = 0, waiting = 0;
    if (std::fscanf(f, "%llu %llu", &on_cpu, &waiting) == 2) {
      total_ns += waiting;
      any = true;
    }
    std::fclose(f);
  }
  ::closedir(dir);
  wait_s = double(total_ns) * 1e-9;
  return any;
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
  s.runqueue_known = read_runqueue_wait(s.runqueue_wait_s);
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

MeasurementConditions judge_conditions(const LoadSnapshot& begin, const LoadSnapshot& end, int threads) {
  MeasurementConditions c;
  c.threads = std::max(1, threads);
  c.cores = online_cores();
  c.seconds = end.wall_s - begin.wall_s;
  if (c.seconds <= 0) return c;
  c.involuntary_switches_per_s = double(end.involuntary_switches - begin.involuntary_switches) / c.seconds;
  const bool runqueue_known = begin.runqueue_known && end.runqueue_known;
  if (runqueue_known)
    c.wait_fraction = std::max(0.0, end.runqueue_wait_s - begin.runqueue_wait_s) / (c.seconds * c.threads);
  if (!begin.machine_known || !end.machine_known) {  // no /proc/stat: judge by the runqueue alone, if known
    if (!runqueue_known) return c;
    c.verdict = c.wait_fraction > kMaxWaitFraction ? Verdict::contended : Verdict::quiet;
    if (c.contended())
      c.reason = fmt::format("our threads waited for a CPU {:.0f}% of the time", 100 * c.wait_fraction);
    return c;
  }
  const double process_cpu = end.process_cpu_s - begin.process_cpu_s;
  c.others_cores = std::max(0.0, (end.machine_busy_s - begin.machine_busy_s - process_cpu) / c.seconds);
  c.steal_fraction = (end.machine_steal_s - begin.machine_steal_s) / (c.seconds * c.cores);
  // /proc/stat counts whole clock ticks: over a short window the estimate of
  // the others' share is that coarse, so only what exceeds it counts.
  const double tick_uncertainty = 2.0 * c.cores * clock_tick_seconds() / c.seconds;
  const double free_cores = c.cores - c.others_cores;
  std::string why;
  auto add = [&](const std::string& r) { why += (why.empty() ? "" : "; ") + r; };
  if (c.threads > free_cores + kFreeCoreSlack + tick_uncertainty)
    add(fmt::format("other processes kept {:.2f} of {} cores busy, leaving {:.2f} for {} thread(s)", c.others_cores,
                    c.cores, std::max(0.0, free_cores), c.threads));
  if (c.wait_fraction > kMaxWaitFraction)
    add(fmt::format("our threads waited for a CPU {:.0f}% of the time", 100 * c.wait_fraction));
  if (c.steal_fraction > kMaxStealFraction)
    add(fmt::format("the hypervisor took {:.0f}% of the CPU time", 100 * c.steal_fraction));
  c.verdict = why.empty() ? Verdict::quiet : Verdict::contended;
  c.reason = why;
  return c;
}

MeasurementConditions worse(const MeasurementConditions& a, const MeasurementConditions& b) {
  auto rank = [](Verdict v) { return v == Verdict::contended ? 2 : v == Verdict::quiet ? 0 : 1; };
  if (rank(a.verdict) != rank(b.verdict)) return rank(a.verdict) > rank(b.verdict) ? a : b;
  return a.others_cores + a.steal_fraction * a.cores >= b.others_cores + b.steal_fraction * b.cores ? a : b;
}

std::string MeasurementConditions::describe() const {
  if (verdict == Verdict::contended) return "contended: " + reason;
  if (verdict == Verdict::unknown) return "unknown (the machine's load could not be read)";
  return fmt::format("quiet (others used {:.2f} of {} cores; our threads waited for a CPU {:.1f}% of the time)",
                     others_cores, cores, 100 * wait_fraction);
}

nlohmann::json MeasurementConditions::to_json() const {
  return {{"verdict", verdict_name(verdict)},
          {"reason", reason.empty() ? nlohmann::json() : nlohmann::json(reason)},
          {"seconds", seconds},
          {"threads", threads},
          {"cores", cores},
          {"others_cores", others_cores},
          {"steal_fraction", steal_fraction},
          {"wait_fraction", wait_fraction},
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
  c.wait_fraction = j.value("wait_fraction", 0.0);
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
