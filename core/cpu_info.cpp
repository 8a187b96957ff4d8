#include "core/cpu_info.h"

#include <cstdlib>
#include <cstring>

#include <fstream>
#include <string>
#include <thread>

namespace tinyopt::cpu {

namespace {

std::string read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Parses sysfs sizes such as "32K", "1024K", "32768K" or "2M".
size_t parse_size(const std::string& text) {
  if (text.empty()) return 0;
  size_t value = 0, i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') value = value * 10 + size_t(text[i++] - '0');
  if (i < text.size() && (text[i] == 'K' || text[i] == 'k')) value *= 1024;
  if (i < text.size() && (text[i] == 'M' || text[i] == 'm')) value *= 1024 * 1024;
  return value;
}

void read_caches(CpuInfo& info) {
  const std::string base = "/sys/devices/system/cpu/cpu0/cache/index";
  for (int index = 0; index < 8; ++index) {
    const std::string dir = base + std::to_string(index) + "/";
    const std::string level = read_line(dir + "level");
    if (level.empty()) break;
    const std::string type = read_line(dir + "type");
    const size_t size = parse_size(read_line(dir + "size"));
    if (size == 0) continue;
    if (level == "1" && type == "Data") info.l1d_bytes = size;
    if (level == "2") info.l2_bytes = size;
    if (level == "3") info.l3_bytes = size;
  }
}

std::string read_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown x86-64";
}

CpuInfo detect() {
  CpuInfo info;
  __builtin_cpu_init();
  info.avx2 = __builtin_cpu_supports("avx2");
  info.fma = __builtin_cpu_supports("fma");
  info.avx512f = __builtin_cpu_supports("avx512f");
  info.avx512bw = __builtin_cpu_supports("avx512bw");
  info.avx512vl = __builtin_cpu_supports("avx512vl");
  info.avx512_vnni = __builtin_cpu_supports("avx512vnni");
  info.avx512_bf16 = __builtin_cpu_supports("avx512bf16");
#if defined(__GNUC__) && __GNUC__ >= 11
  info.avx_vnni = __builtin_cpu_supports("avxvnni");
#endif
  read_caches(info);
  info.model_name = read_model_name();
  const unsigned n = std::thread::hardware_concurrency();
  info.logical_cpus = n == 0 ? 1 : static_cast<int>(n);
  return info;
}

}  // namespace

std::string CpuInfo::isa_summary() const {
  std::string s;
  auto add = [&](bool has, const char* name) {
    if (!has) return;
    if (!s.empty()) s.push_back(' ');
    s.append(name);
  };
  add(avx512f, "avx512f");
  add(avx512bw, "avx512bw");
  add(avx512vl, "avx512vl");
  add(avx512_vnni, "avx512_vnni");
  add(avx512_bf16, "avx512_bf16");
  add(avx_vnni, "avx_vnni");
  add(avx2, "avx2");
  add(fma, "fma");
  return s.empty() ? "sse2 only" : s;
}

const CpuInfo& cpu_info() {
  static const CpuInfo info = detect();
  return info;
}

SimdIsa simd_isa() {
  static const SimdIsa isa = [] {
    const CpuInfo& info = cpu_info();
    SimdIsa best = SimdIsa::base;
    if (info.avx2 && info.fma) best = SimdIsa::avx2;
    if (best == SimdIsa::avx2 && info.avx512f && info.avx512vl && info.avx512bw) best = SimdIsa::avx512;
    if (const char* env = std::getenv("TINYOPT_SIMD")) {
      if (std::strcmp(env, "base") == 0) best = SimdIsa::base;
      if (std::strcmp(env, "avx2") == 0 && best == SimdIsa::avx512) best = SimdIsa::avx2;
    }
    return best;
  }();
  return isa;
}

const char* simd_isa_name(SimdIsa isa) {
  switch (isa) {
    case SimdIsa::avx512: return "avx512";
    case SimdIsa::avx2: return "avx2";
    case SimdIsa::base: break;
  }
  return "base";
}

}  // namespace tinyopt::cpu
