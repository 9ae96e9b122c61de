#pragma once

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#if defined(__linux__)
#include <sched.h>
#endif

namespace pstable::detail {

/// CPUs a CFS quota of `quota` microseconds per `period` allows, rounded up (a quota of 1.5 CPUs
/// is 2 threads); nullopt when there is no limit (quota <= 0, as cgroup v1's -1).
inline std::optional<int> cpus_from_quota(long long quota, long long period) {
  if (quota <= 0 || period <= 0) return std::nullopt;
  const long long cpus = quota / period + (quota % period != 0 ? 1 : 0);
  return static_cast<int>(std::min<long long>(cpus, INT_MAX));
}

/// A whole decimal integer (surrounding whitespace allowed), or nullopt.
inline std::optional<long long> parse_integer(const std::string& text) {
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(begin, &end, 10);
  if (end == begin || errno == ERANGE) return std::nullopt;
  for (; *end != '\0'; ++end) {
    if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') return std::nullopt;
  }
  return value;
}

/// The CPU limit of a cgroup v2 `cpu.max` file's content ("max 100000" or "<quota> <period>").
inline std::optional<int> parse_cpu_max(const std::string& text) {
  std::istringstream in(text);
  std::string quota, period;
  if (!(in >> quota >> period) || quota == "max") return std::nullopt;
  const auto q = parse_integer(quota), p = parse_integer(period);
  if (!q || !p) return std::nullopt;
  return cpus_from_quota(*q, *p);
}

/// The whole content of a small file, or nullopt when it cannot be read.
inline std::optional<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The CPU limit of the cgroups this process belongs to: the smallest quota of its cgroup and
/// every ancestor, for cgroup v2 (`cpu.max`) and v1 (`cpu.cfs_quota_us` / `cpu.cfs_period_us`
/// under `cpu` or `cpu,cpuacct`); nullopt when none sets one. `root` is the cgroup mount and
/// `self` the process's membership file (parameters for tests). Missing files are skipped, so a
/// container that mounts only its own cgroup at `root` is read at the top of the walk.
inline std::optional<int> cgroup_cpu_limit(const std::string& root = "/sys/fs/cgroup",
                                           const std::string& self = "/proc/self/cgroup") {
  const auto membership = read_small_file(self);
  if (!membership) return std::nullopt;
  std::optional<int> limit;
  const auto tighten = [&](std::optional<int> cpus) {
    if (cpus && (!limit || *cpus < *limit)) limit = cpus;
  };
  // Calls visit(dir) for `path` under `base` and each of its ancestors, up to `base` itself.
  const auto walk_up = [](const std::string& base, std::string path, auto&& visit) {
    while (true) {
      visit(base + path);
      if (path.empty() || path == "/") return;
      const auto slash = path.find_last_of('/');
      path = slash == std::string::npos ? std::string() : path.substr(0, slash);
    }
  };
  std::istringstream lines(*membership);
  for (std::string line; std::getline(lines, line);) {
    // "hierarchy-id:controllers:path"; v2 is "0::path".
    const auto first = line.find(':');
    const auto second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (controllers.empty()) {
      walk_up(root, path, [&](const std::string& dir) {
        if (const auto text = read_small_file(dir + "/cpu.max")) tighten(parse_cpu_max(*text));
      });
      continue;
    }
    if (("," + controllers + ",").find(",cpu,") == std::string::npos) continue;
    for (const char* mount : {"/cpu", "/cpu,cpuacct", "/cpuacct,cpu"}) {
      walk_up(root + mount, path, [&](const std::string& dir) {
        const auto quota = read_small_file(dir + "/cpu.cfs_quota_us");
        const auto period = read_small_file(dir + "/cpu.cfs_period_us");
        if (!quota || !period) return;
        const auto q = parse_integer(*quota), p = parse_integer(*period);
        if (q && p) tighten(cpus_from_quota(*q, *p));
      });
    }
  }
  return limit;
}

/// CPUs in the calling thread's affinity mask (sched_getaffinity, so `taskset -c 1` gives 1);
/// std::thread::hardware_concurrency() where there is no such call.
inline int affinity_cpus() {
#if defined(__linux__) && defined(CPU_ALLOC)
  for (std::size_t cpus = 1024; cpus <= (std::size_t{1} << 20); cpus *= 2) {
    cpu_set_t* set = CPU_ALLOC(cpus);
    if (set == nullptr) break;
    const std::size_t bytes = CPU_ALLOC_SIZE(cpus);
    CPU_ZERO_S(bytes, set);
    const int rc = ::sched_getaffinity(0, bytes, set);
    const int count = rc == 0 ? CPU_COUNT_S(bytes, set) : 0;
    CPU_FREE(set);
    if (rc == 0 && count > 0) return count;
    if (rc != 0 && errno != EINVAL) break;  // EINVAL: the kernel's mask is larger, retry
  }
#endif
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(std::min<unsigned>(hw, INT_MAX));
}

/// The CPUs this process may run on: its affinity mask, lowered to its cgroup CPU quota
/// (rounded up) on Linux. At least 1.
inline int allowed_cpus() {
  int cpus = affinity_cpus();
#if defined(__linux__)
  if (const auto limit = cgroup_cpu_limit()) cpus = std::min(cpus, *limit);
#endif
  return std::max(cpus, 1);
}

/// The value of PSTABLE_NUM_THREADS as a thread count: a decimal integer >= 0, surrounding
/// whitespace allowed (huge values are returned as INT_MAX); nullopt for anything else (unset,
/// empty, negative, "4x", "1.5"), which callers ignore.
inline std::optional<int> parse_num_threads(const char* text) {
  if (text == nullptr) return std::nullopt;
  const std::string s(text);
  const auto digits = s.find_first_not_of(" \t\n\r");
  if (digits == std::string::npos || s[digits] < '0' || s[digits] > '9') return std::nullopt;
  if (const auto value = parse_integer(s)) {
    return static_cast<int>(std::min<long long>(*value, INT_MAX));
  }
  // Only digits but out of long long's range: a huge request.
  const auto last = s.find_last_not_of(" \t\n\r");
  if (s.find_first_not_of("0123456789", digits) > last) return INT_MAX;
  return std::nullopt;
}

}  // namespace pstable::detail
