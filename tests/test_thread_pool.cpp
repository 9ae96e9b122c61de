// The thread pool behind batch calls (issue 14, item 6): workers reused across calls, exceptions
// and nested calls, the default thread count (affinity mask, cgroup quota, PSTABLE_NUM_THREADS,
// set_num_threads).

#include "catch_compat.hpp"

#include <atomic>
#include <climits>
#include <cstdio>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "file_util.hpp"
#include "sanitizers.hpp"
#include "pstable/core/threads.hpp"
#include "pstable/detail/parallel.hpp"

using namespace pstable;

namespace {

// A number per thread, never reused (std::thread::id values are recycled after a join).
int thread_serial() {
  static std::atomic<int> next{0};
  thread_local const int serial = next++;
  return serial;
}

// Makes slice 0 (the caller's) wait until slice 1 started: slice 1 then ran on a worker, with
// no timing involved.
struct SliceOneStarted {
  std::mutex mutex;
  std::condition_variable cv;
  bool started = false;
  void signal() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      started = true;
    }
    cv.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait(lock, [&] { return started; });
  }
  // False when slice 1 did not start within `seconds` (a test fails rather than hangs).
  bool wait_for(int seconds) {
    std::unique_lock<std::mutex> lock(mutex);
    return cv.wait_for(lock, std::chrono::seconds(seconds), [&] { return started; });
  }
};

// Restores the global default at the end of a scope.
struct DefaultThreads {
  int saved = detail::thread_default().requested.load();
  ~DefaultThreads() { detail::thread_default().requested.store(saved); }
};

// Sets an environment variable for one scope.
struct EnvVar {
  std::string name;
  std::optional<std::string> saved;
  EnvVar(const char* n, const char* value) : name(n) {
    if (const char* old = std::getenv(n)) saved = old;
    ::setenv(n, value, 1);
  }
  ~EnvVar() {
    if (saved) {
      ::setenv(name.c_str(), saved->c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }
};

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("the pool's workers serve every call: no thread is created per call", "[pool]") {
  detail::ThreadPool pool;
  std::set<int> worker_serials;
  const int caller = thread_serial();
  for (int call = 0; call < 20; ++call) {
    SliceOneStarted one;
    std::atomic<int> slice_one_serial{-1};
    detail::parallel_for(pool, 8, 4, 1, [&](auto, auto, int slice) {
      if (slice == 0) one.wait();
      if (slice == 1) {
        slice_one_serial = thread_serial();
        one.signal();
      }
    });
    CHECK(slice_one_serial != caller);
    worker_serials.insert(slice_one_serial);
    CHECK(pool.size() == 3);  // created by the first call, reused by the others
  }
  // Twenty calls, at most the pool's three workers: a thread per call would give twenty.
  CHECK(worker_serials.size() <= 3);
}

TEST_CASE("the global pool is one pool and grows only to the largest call", "[pool]") {
  detail::ThreadPool& pool = detail::ThreadPool::global();
  detail::parallel_for(100, 3, 1, [](auto, auto, int) {});
  const int size = pool.size();
  CHECK(size >= 2);
  for (int call = 0; call < 10; ++call) detail::parallel_for(100, 3, 1, [](auto, auto, int) {});
  CHECK(&detail::ThreadPool::global() == &pool);
  CHECK(pool.size() == size);
}

TEST_CASE("an exception thrown on a worker reaches the caller, and the pool goes on", "[pool]") {
  detail::ThreadPool pool;
  SliceOneStarted one;
  std::atomic<int> slices{0};
  CHECK_THROWS_AS(detail::parallel_for(pool, 4, 4, 1,
                                       [&](auto, auto, int slice) {
                                         ++slices;
                                         if (slice == 0) one.wait();
                                         if (slice == 1) {
                                           one.signal();
                                           throw std::out_of_range("slice 1");
                                         }
                                       }),
                  std::out_of_range);
  CHECK(slices == 4);
  std::atomic<int> after{0};
  detail::parallel_for(pool, 4, 4, 1, [&](auto b, auto e, int) { after += int(e - b); });
  CHECK(after == 4);
}

TEST_CASE("nested parallel_for calls complete and run inline on workers", "[pool]") {
  std::mutex mutex;
  std::vector<std::vector<int>> hits(8, std::vector<int>(100, 0));
  bool inline_on_workers = true;
  detail::parallel_for(8, 4, 1, [&](auto begin, auto end, int) {
    for (auto outer = begin; outer < end; ++outer) {
      const int here = thread_serial();
      const bool on_worker = detail::ThreadPool::on_worker();
      detail::parallel_for(100, 4, 1, [&](auto b, auto e, int) {
        // A third level, for good measure.
        detail::parallel_for(2, 2, 1, [](auto, auto, int) {});
        std::lock_guard<std::mutex> lock(mutex);
        if (on_worker && thread_serial() != here) inline_on_workers = false;
        for (auto i = b; i < e; ++i)
          ++hits[static_cast<std::size_t>(outer)][static_cast<std::size_t>(i)];
      });
    }
  });
  CHECK(inline_on_workers);
  for (const auto& row : hits) {
    for (int h : row) CHECK(h == 1);
  }
}

TEST_CASE("concurrent callers share one pool", "[pool][threads]") {
  detail::ThreadPool pool;
  std::atomic<int> failures{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int round = 0; round < 25; ++round) {
        std::vector<std::atomic<int>> hits(500);
        detail::parallel_for(pool, 500, 3, 7, [&](auto b, auto e, int) {
          for (auto i = b; i < e; ++i) ++hits[static_cast<std::size_t>(i)];
        });
        for (const auto& h : hits) {
          if (h != 1) ++failures;
        }
      }
    });
  }
  for (auto& c : callers) c.join();
  CHECK(failures == 0);
  CHECK(pool.size() == 2);
}

TEST_CASE("set_num_threads sets the default of num_threads = 0", "[pool]") {
  DefaultThreads restore;
  set_num_threads(3);
  CHECK(get_num_threads() == 3);
  std::atomic<int> slices{0};
  detail::parallel_for(100, 0, 1, [&](auto, auto, int) { ++slices; });
  CHECK(slices == 3);
  set_num_threads(kMaxThreads + 1);
  CHECK(get_num_threads() == kMaxThreads);
  CHECK_THROWS_AS(set_num_threads(-1), InvalidArgument);
  CHECK(get_num_threads() == kMaxThreads);  // unchanged by the rejected call
  set_num_threads(0);
  CHECK(get_num_threads() == detail::thread_default().allowed);
  CHECK(get_num_threads() >= 1);
  CHECK(detail::resolve_threads(0) == get_num_threads());
}

TEST_CASE("PSTABLE_NUM_THREADS: a decimal integer >= 0, anything else is ignored", "[pool]") {
  CHECK(detail::parse_num_threads("4") == 4);
  CHECK(detail::parse_num_threads(" 8\n") == 8);
  CHECK(detail::parse_num_threads("0") == 0);
  CHECK(detail::parse_num_threads("99999999999999999999999") == INT_MAX);
  for (const char* bad : {"", " ", "-1", "+2", "4x", "1.5", "four", "0x10", "2 3"}) {
    CAPTURE(bad);
    CHECK_FALSE(detail::parse_num_threads(bad).has_value());
  }
  CHECK_FALSE(detail::parse_num_threads(nullptr).has_value());
  // The default as a process reads it at first use.
  {
    EnvVar env("PSTABLE_NUM_THREADS", "3");
    CHECK(detail::ThreadDefault().requested == 3);
  }
  {
    EnvVar env("PSTABLE_NUM_THREADS", "100000");
    CHECK(detail::ThreadDefault().requested == kMaxThreads);
  }
  {
    EnvVar env("PSTABLE_NUM_THREADS", "lots");
    CHECK(detail::ThreadDefault().requested == 0);  // ignored: all allowed CPUs
  }
}

TEST_CASE("cgroup CPU quotas count as CPUs, rounded up, the tightest ancestor winning", "[pool]") {
  CHECK(detail::cpus_from_quota(150000, 100000) == 2);
  CHECK(detail::cpus_from_quota(100000, 100000) == 1);
  CHECK(detail::cpus_from_quota(1, 100000) == 1);
  CHECK_FALSE(detail::cpus_from_quota(-1, 100000).has_value());
  CHECK(detail::parse_cpu_max("250000 100000\n") == 3);
  CHECK_FALSE(detail::parse_cpu_max("max 100000\n").has_value());
  CHECK_FALSE(detail::parse_cpu_max("garbage").has_value());

  testing::TempDir dir;
  const auto root = dir.path() / "cgroup";
  const std::string self = dir.file("self");
  SECTION("v2") {
    write_file(self, "0::/a/b\n");
    CHECK_FALSE(detail::cgroup_cpu_limit(root.string(), self).has_value());  // no files
    write_file(root / "a/b/cpu.max", "max 100000\n");
    CHECK_FALSE(detail::cgroup_cpu_limit(root.string(), self).has_value());
    write_file(root / "a/b/cpu.max", "350000 100000\n");
    CHECK(detail::cgroup_cpu_limit(root.string(), self) == 4);
    write_file(root / "a/cpu.max", "200000 100000\n");  // the parent is tighter
    CHECK(detail::cgroup_cpu_limit(root.string(), self) == 2);
  }
  SECTION("v1") {
    write_file(self, "5:memory:/x\n4:cpu,cpuacct:/x\n");
    write_file(root / "cpu,cpuacct/x/cpu.cfs_quota_us", "-1\n");
    write_file(root / "cpu,cpuacct/x/cpu.cfs_period_us", "100000\n");
    CHECK_FALSE(detail::cgroup_cpu_limit(root.string(), self).has_value());
    write_file(root / "cpu,cpuacct/x/cpu.cfs_quota_us", "250000\n");
    CHECK(detail::cgroup_cpu_limit(root.string(), self) == 3);
  }
  SECTION("a container that mounts only its own cgroup") {
    write_file(self, "0::/docker/abc\n");
    write_file(root / "cpu.max", "100000 100000\n");
    CHECK(detail::cgroup_cpu_limit(root.string(), self) == 1);
  }
  CHECK_FALSE(detail::cgroup_cpu_limit(root.string(), dir.file("missing")).has_value());
}

#if defined(__linux__)
TEST_CASE("the allowed CPUs follow the affinity mask", "[pool]") {
  // In a thread of its own: sched_setaffinity(0, ...) changes the calling thread only.
  cpu_set_t all;
  CPU_ZERO(&all);
  REQUIRE(::sched_getaffinity(0, sizeof all, &all) == 0);
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &all)) cpus.push_back(c);
  }
  REQUIRE(!cpus.empty());
  CHECK(detail::affinity_cpus() == static_cast<int>(cpus.size()));
  const auto limit = detail::cgroup_cpu_limit();
  int one = 0, two = 0, two_allowed = 0;
  std::thread restricted([&] {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpus[0], &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) return;
    one = detail::allowed_cpus();
    if (cpus.size() < 2) return;
    CPU_SET(cpus[1], &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) return;
    two = detail::affinity_cpus();
    two_allowed = detail::allowed_cpus();
  });
  restricted.join();
  CHECK(one == 1);
  if (cpus.size() >= 2) {
    CHECK(two == 2);
    CHECK(two_allowed == (limit ? std::min(2, *limit) : 2));
  }
}

TEST_CASE("a forked child gets a pool of its own", "[pool]") {
  // The parent's workers do not exist in a child of fork(): the child must not queue work for
  // them. ThreadSanitizer does not support threads after a fork of a threaded process, and
  // AddressSanitizer's allocator can deadlock in such a child (POSIX allows only
  // async-signal-safe calls there; glibc's malloc makes the rest work): the Release build runs it.
  if (testing::kThreadSanitizer || testing::kAddressSanitizer) return;
  detail::ThreadPool* parent = &detail::ThreadPool::global();
  detail::parallel_for(100, 2, 1, [](auto, auto, int) {});
  std::fflush(nullptr);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    int code = &detail::ThreadPool::global() == parent ? 1 : 0;
    SliceOneStarted one;  // slice 1 must be taken by a worker of the child's own pool
    detail::parallel_for(4, 2, 1, [&](auto, auto, int slice) {
      if (slice == 0 && !one.wait_for(60)) ::_exit(2);
      if (slice == 1) one.signal();
    });
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
#endif
