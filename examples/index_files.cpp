// Saves an exact index, loads it back and checks that it answers the same; reports the time of
// each step beside a plain std::ofstream / std::ifstream dump of the same bytes (no checksum,
// no fsync, no checks), and of write_npy / read_npy.
//
//   index_files [rows=60000] [dim=784] [dir=/tmp]
#include <pstable/pstable.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace {

template <class F>
double seconds(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const Eigen::Index rows = argc > 1 ? std::stol(argv[1]) : 60000;
  const Eigen::Index dim = argc > 2 ? std::stol(argv[2]) : 784;
  const std::string dir = argc > 3 ? argv[3] : "/tmp";
  const std::string base = dir + "/pstable-example-" + std::to_string(::getpid());

  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  pstable::RowMatrix<float> data(rows, dim);
  for (Eigen::Index i = 0; i < data.size(); ++i) data.data()[i] = normal(rng);
  pstable::ExactIndex<float, pstable::Euclidean> index(dim);
  index.add(data);
  const double mb = static_cast<double>(data.size() * sizeof(float)) / 1e6;

  const double save = seconds([&] { pstable::save_index(index, base + ".pst"); });
  pstable::ExactIndex<float, pstable::Euclidean> loaded(dim);
  const double load = seconds([&] {
    loaded = pstable::load_index<pstable::ExactIndex<float, pstable::Euclidean>>(base + ".pst");
  });
  const auto info = pstable::read_index_file_info(base + ".pst");

  const double raw_write = seconds([&] {
    std::ofstream out(base + ".raw", std::ios::binary);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size() * sizeof(float)));
  });
  pstable::RowMatrix<float> raw(rows, dim);
  const double raw_read = seconds([&] {
    std::ifstream in(base + ".raw", std::ios::binary);
    in.read(reinterpret_cast<char*>(raw.data()),
            static_cast<std::streamsize>(raw.size() * sizeof(float)));
  });
  const double npy_write = seconds([&] { pstable::write_npy<float>(base + ".npy", data); });
  pstable::RowMatrix<float> npy;
  const double npy_read = seconds([&] { npy = pstable::read_npy<float>(base + ".npy"); });

  const pstable::RowMatrix<float> queries = data.topRows(std::min<Eigen::Index>(rows, 32));
  const bool same = index.search(queries, 5).ids() == loaded.search(queries, 5).ids() &&
                    raw == data && npy == data;
  for (const char* ext : {".pst", ".raw", ".npy"}) std::filesystem::remove(base + ext);

  std::printf("%s, %ld x %ld (%.0f MB), file %llu bytes\n", info.description().c_str(), (long)rows,
              (long)dim, mb, static_cast<unsigned long long>(info.file_bytes));
  std::printf("save  %.3f s (%.0f MB/s)   load %.3f s (%.0f MB/s)\n", save, mb / save, load,
              mb / load);
  std::printf("peer: ofstream write %.3f s   ifstream read %.3f s (no checksum, no fsync)\n",
              raw_write, raw_read);
  std::printf("npy:  write_npy %.3f s   read_npy %.3f s\n", npy_write, npy_read);
  std::printf("same search results and data: %s\n", same ? "yes" : "NO");
  return same ? 0 : 1;
}
