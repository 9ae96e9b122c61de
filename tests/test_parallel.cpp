// detail::parallel_for when the system refuses threads (issue 13, item 1): it used to destroy
// joinable std::threads and die in std::terminate. Now the caller runs the slices left over.
// The pool itself (reuse, nesting, thread counts) is tested in test_thread_pool.cpp.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catch_compat.hpp"

#include <atomic>
#include <cstdio>
#include <fstream>
#include <limits>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "pstable/detail/parallel.hpp"
#include "pstable/index/e2lsh.hpp"
#include "pstable/index/exact.hpp"
#include "file_util.hpp"
#include "sanitizers.hpp"
#include "pstable/io/index_file.hpp"
#include "test_data.hpp"

using namespace pstable;
using testing::gaussian;

namespace {

// Sets the test seam for one scope.
struct SpawnLimit {
  explicit SpawnLimit(int workers) { detail::spawn_limit_for_testing = workers; }
  ~SpawnLimit() { detail::spawn_limit_for_testing = -1; }
};

// Every index of [0, n) visited exactly once, and by which threads.
struct Coverage {
  std::mutex mutex;
  std::vector<int> hits;
  std::set<std::thread::id> threads;
  explicit Coverage(std::ptrdiff_t n) : hits(static_cast<std::size_t>(n), 0) {}
  void visit(std::ptrdiff_t begin, std::ptrdiff_t end) {
    std::lock_guard<std::mutex> lock(mutex);
    threads.insert(std::this_thread::get_id());
    for (auto i = begin; i < end; ++i) ++hits[static_cast<std::size_t>(i)];
  }
  bool each_once() const {
    for (int h : hits) {
      if (h != 1) return false;
    }
    return true;
  }
};

}  // namespace

TEST_CASE("parallel_for covers every index when no worker can be created", "[parallel]") {
  for (int limit : {0, 1, 3}) {
    SpawnLimit seam(limit);
    detail::ThreadPool pool;  // a fresh pool, which the seam keeps at `limit` workers
    for (int threads : {2, 8, 1000}) {
      Coverage c(1000);
      detail::parallel_for(pool, 1000, threads, 7, [&](auto b, auto e, int) { c.visit(b, e); });
      CAPTURE(limit, threads);
      CHECK(c.each_once());
      // The caller plus at most `limit` workers ran.
      CHECK(c.threads.size() <= static_cast<std::size_t>(limit) + 1);
      CHECK(c.threads.count(std::this_thread::get_id()) == 1);
    }
  }
}

TEST_CASE("parallel_for rethrows a slice's exception after the fallback", "[parallel]") {
  SpawnLimit seam(1);
  detail::ThreadPool pool;
  std::atomic<int> slices{0};
  CHECK_THROWS_AS(detail::parallel_for(pool, 100, 4, 1,
                                       [&](auto, auto, int t) {
                                         ++slices;
                                         if (t == 3) throw std::runtime_error("slice 3");
                                       }),
                  std::runtime_error);
  CHECK(slices == 4);  // every slice ran, none was skipped by the failure of another
}

TEST_CASE("num_threads is capped at kMaxThreads", "[parallel]") {
  CHECK(detail::resolve_threads(1) == 1);
  CHECK(detail::resolve_threads(kMaxThreads + 1) == kMaxThreads);
  CHECK(detail::resolve_threads(std::numeric_limits<int>::max()) == kMaxThreads);
  CHECK(detail::resolve_threads(0) >= 1);
  CHECK(detail::resolve_threads(0) <= kMaxThreads);
  std::set<int> slices;
  std::mutex m;
  detail::parallel_for(100000, std::numeric_limits<int>::max(), 1, [&](auto, auto, int t) {
    std::lock_guard<std::mutex> lock(m);
    slices.insert(t);
  });
  CHECK(slices.size() == static_cast<std::size_t>(kMaxThreads));
}

TEST_CASE("searches with refused threads give the one-thread answer", "[parallel]") {
  // The searches use the global pool, which earlier tests may have grown: the seam then only
  // stops it from growing to 64 threads. The test below refuses threads for real in a child.
  const RowMatrix<float> data = gaussian<float>(3000, 16, 21);
  const RowMatrix<float> one = gaussian<float>(5, 16, 22);
  const RowMatrix<float> many = gaussian<float>(100, 16, 23);
  ExactIndex<float, Euclidean> exact(16);
  exact.add(data);
  E2LSHIndex<float, Euclidean> lsh(16, E2LSHParams{4, 4, 4.0, 2, 3});
  lsh.add(data);
  const auto e1 = exact.search(one, 5, 1), e2 = exact.search(many, 5, 1);
  const auto l2 = lsh.search(many, 5, 1);
  SpawnLimit seam(1);
  CHECK(exact.search(one, 5, 64).ids() == e1.ids());
  CHECK(exact.search(many, 5, 64).ids() == e2.ids());
  CHECK(lsh.search(many, 5, 64).ids() == l2.ids());
}

TEST_CASE("a search asking for more threads than the address space allows survives",
          "[parallel][rlimit]") {
  // The real failure, not the seam: a child process whose address space cannot hold the stacks
  // of 256 threads (8 MiB each) searches with num_threads = 1000. Before the fix it died in
  // std::terminate (SIGABRT). Sanitizers reserve terabytes of shadow memory: skipped there.
  if (testing::kAddressSanitizer || testing::kThreadSanitizer) return;
  const RowMatrix<float> data = gaussian<float>(2000, 8, 31);
  const RowMatrix<float> queries = gaussian<float>(600, 8, 32);
  ExactIndex<float, Euclidean> index(8);
  index.add(data);
  const auto expected = index.search(queries, 3, 1);
  std::fflush(nullptr);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    long vm_kib = 0;
    std::ifstream status("/proc/self/status");
    for (std::string key; status >> key;) {
      if (key == "VmSize:") {
        status >> vm_kib;
        break;
      }
    }
    // Room for the search's buffers and a few thread stacks, not for 256 of them.
    const rlim_t limit = static_cast<rlim_t>(vm_kib) * 1024 + (64u << 20);
    const rlimit r{limit, limit};
    if (vm_kib == 0 || ::setrlimit(RLIMIT_AS, &r) != 0) ::_exit(3);
    int code = 0;
    try {
      code = index.search(queries, 3, 1000).ids() == expected.ids() ? 0 : 1;
    } catch (...) {
      code = 2;
    }
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  INFO("child status " << status);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("concurrent searches, saves and loads agree", "[parallel][threads]") {
  // For the ThreadSanitizer run (scripts/test.sh): const searches with their own workers, saves
  // of the same index and loads of the saved files, all at once.
  const RowMatrix<float> data = gaussian<float>(1500, 8, 61);
  const RowMatrix<float> queries = gaussian<float>(40, 8, 62);
  ExactIndex<float, Cosine> exact(8);
  exact.add(data);
  E2LSHIndex<float, Euclidean> lsh(8, E2LSHParams{6, 4, 2.0, 2, 7});
  lsh.add(data);
  lsh.remove(5);
  const auto e = exact.search(queries, 5, 1);
  const auto l = lsh.search(queries, 5, 1);
  testing::TempDir dir;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        if (exact.search(queries, 5, 2).ids() != e.ids()) ++failures;
        if (lsh.search(queries, 5, 2).ids() != l.ids()) ++failures;
        const std::string p1 = dir.file("exact" + std::to_string(t)),
                          p2 = dir.file("lsh" + std::to_string(t));
        save_index(exact, p1);
        save_index(lsh, p2);
        if (load_index<ExactIndex<float, Cosine>>(p1).search(queries, 5).ids() != e.ids())
          ++failures;
        if (load_index<E2LSHIndex<float, Euclidean>>(p2).search(queries, 5).ids() != l.ids())
          ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
}
