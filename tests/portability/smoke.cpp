// A small program on the whole public API (pstable.hpp): it builds an exact and an E2LSH index,
// saves both with pstable::save_index, loads them with pstable::load_index and checks that the
// loaded ones answer like the originals. scripts/check_cross.sh compiles it for Windows
// (mingw-w64, compile and link only: the atomic file replace and the rest of the Windows branch).
// Exit code 0 when every check holds.
#include <pstable/pstable.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
  using Exact = pstable::ExactIndex<float, pstable::Euclidean>;
  using Lsh = pstable::E2LSHIndex<float, pstable::Euclidean>;
  std::mt19937 rng(7);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  pstable::RowMatrix<float> points(200, 16);
  for (Eigen::Index i = 0; i < points.size(); ++i) points.data()[i] = gauss(rng);
  const pstable::RowMatrix<float> queries = points.topRows(5);

  Exact exact(16);
  exact.add(points);
  pstable::E2LSHParams params;
  params.num_tables = 4;
  params.num_hashes = 4;
  Lsh lsh(16, params);
  lsh.add(points);

  const auto dir = std::filesystem::temp_directory_path();
  const auto stamp = std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  const auto exact_path = (dir / ("pstable-smoke-exact-" + stamp + ".pst")).string();
  const auto lsh_path = (dir / ("pstable-smoke-e2lsh-" + stamp + ".pst")).string();
  pstable::save_index(exact, exact_path);
  pstable::save_index(exact, exact_path);  // replaces an existing file
  pstable::save_index(lsh, lsh_path);
  const auto exact_loaded = pstable::load_index<Exact>(exact_path);
  const auto lsh_loaded = pstable::load_index<Lsh>(lsh_path);

  const auto a = exact.search(queries, 3);
  const auto b = exact_loaded.search(queries, 3);
  check(a.ids() == b.ids(), "the loaded exact index answers like the saved one");
  check(a.ids()(0, 0) == 0, "a stored point is its own nearest neighbour");
  check(lsh.search(queries, 3).ids() == lsh_loaded.search(queries, 3).ids(),
        "the loaded E2LSH index answers like the saved one");
  try {
    pstable::load_index<Exact>(lsh_path);
    check(false, "loading an E2LSH file as an exact index throws");
  } catch (const pstable::FormatError&) {
  }
  std::error_code ec;
  std::filesystem::remove(exact_path, ec);
  std::filesystem::remove(lsh_path, ec);
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    check(
        entry.path().filename().string().rfind("pstable-smoke-exact-" + stamp + ".pst.tmp", 0) != 0,
        "no temporary file is left behind");
  }
  std::printf("pstable %s smoke test (%s kernels): %s\n", pstable::version(),
              pstable::simd::kernels<float>().arch, failures == 0 ? "ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}
