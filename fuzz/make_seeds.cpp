// Writes the seed corpora of the fuzz targets: small valid files of every kind the targets read,
// one folder per target under argv[1] (fuzz/corpus). Run again after a format change:
//   build/fuzz/fuzz/fuzz_seeds fuzz/corpus
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "pstable/index/e2lsh.hpp"
#include "pstable/index/exact.hpp"
#include "pstable/io/index_file.hpp"
#include "pstable/io/npy.hpp"

using namespace pstable;
using Bytes = std::vector<unsigned char>;
namespace fs = std::filesystem;

namespace {

fs::path root;

void put(const std::string& target, const std::string& name, const Bytes& b, bool gzip = false) {
  fs::create_directories(root / target);
  const auto path = (root / target / name).string();
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb9");
    gzwrite(f, b.data(), static_cast<unsigned>(b.size()));
    gzclose(f);
  } else {
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
}

Bytes read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

template <class U>
void le(Bytes& b, U v) {
  for (std::size_t i = 0; i < sizeof(U); ++i) b.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

Bytes npy(const std::string& descr, const std::string& shape, const Bytes& data, int major = 1) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const std::size_t pre = major == 1 ? 10 : 12;
  dict.append((64 - (pre + dict.size() + 1) % 64) % 64, ' ');
  dict.push_back('\n');
  Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<unsigned char>(major), 0};
  if (major == 1)
    le<std::uint16_t>(b, static_cast<std::uint16_t>(dict.size()));
  else
    le<std::uint32_t>(b, static_cast<std::uint32_t>(dict.size()));
  b.insert(b.end(), dict.begin(), dict.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

Bytes idx(const std::vector<std::uint32_t>& dims, int n_values) {
  Bytes b = {0, 0, 8, static_cast<unsigned char>(dims.size())};
  for (auto d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(d >> s));
  for (int i = 0; i < n_values; ++i) b.push_back(static_cast<unsigned char>(37 * i));
  return b;
}

RowMatrix<float> points(Eigen::Index n, Eigen::Index d) {
  RowMatrix<float> m(n, d);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = float((i * 7919) % 23) / 7.0f - 1.5f;
  return m;
}

template <class Index>
void index_seed(const std::string& kind, const std::string& name, const Index& index) {
  const auto tmp = (root / ("tmp-" + name)).string();
  save_index(index, tmp);
  const Bytes b = read(tmp);
  fs::remove(tmp);
  put("fuzz_load_" + kind, name, b);
  put("fuzz_load_" + kind + "_fixed", name, b);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  root = argv[1];

  // .npy: every dtype the readers take, 1-D and 2-D, format versions 1.0 and 2.0.
  Bytes f4, f8, f2, i4, i8, u1;
  for (int i = 0; i < 6; ++i) {
    float f = float(i) - 2.5f;
    std::uint32_t bits;
    std::memcpy(&bits, &f, 4);
    le(f4, bits);
    double g = double(i) * 0.25;
    std::uint64_t gbits;
    std::memcpy(&gbits, &g, 8);
    le(f8, gbits);
    le<std::uint16_t>(f2, static_cast<std::uint16_t>(0x3c00 + i * 0x100));
    le<std::int32_t>(i4, i);
    le<std::int64_t>(i8, 5 - i);
    u1.push_back(static_cast<unsigned char>(40 * i));
  }
  put("fuzz_npy", "f4_2x3.npy", npy("<f4", "(2, 3)", f4));
  put("fuzz_npy", "f8_3x2.npy", npy("<f8", "(3, 2)", f8));
  put("fuzz_npy", "f2_6.npy", npy("<f2", "(6,)", f2));
  put("fuzz_npy", "u1_2x3_v2.npy", npy("|u1", "(2, 3)", u1, 2));
  put("fuzz_npy", "i4_6.npy", npy("<i4", "(6,)", i4));
  put("fuzz_npy", "i8_6x1.npy", npy("<i8", "(6, 1)", i8));
  put("fuzz_npy", "f4_0x3.npy", npy("<f4", "(0, 3)", {}));

  // .fvecs / .ivecs / .bvecs: two vectors of 3 values each.
  Bytes fv, iv, bv;
  for (int r = 0; r < 2; ++r) {
    le<std::int32_t>(fv, 3);
    le<std::int32_t>(iv, 3);
    le<std::int32_t>(bv, 3);
    for (int j = 0; j < 3; ++j) {
      float f = float(r * 3 + j) / 3.0f;
      std::uint32_t bits;
      std::memcpy(&bits, &f, 4);
      le(fv, bits);
      le<std::int32_t>(iv, r * 3 + j);
      bv.push_back(static_cast<unsigned char>(50 * r + j));
    }
  }
  put("fuzz_vecs", "two.fvecs", fv);
  put("fuzz_vecs", "two.ivecs", iv);
  put("fuzz_vecs", "two.bvecs", bv);

  // IDX: images (3 of 2 x 3) and labels, plain and gzip (fuzz_idx_gzip compresses itself).
  put("fuzz_idx", "images.idx", idx({3, 2, 3}, 18));
  put("fuzz_idx", "labels.idx", idx({4}, 4));
  put("fuzz_idx", "images.idx.gz", idx({3, 2, 3}, 18), true);
  put("fuzz_idx", "labels.idx.gz", idx({4}, 4), true);
  put("fuzz_idx_gzip", "images.idx", idx({3, 2, 3}, 18));
  put("fuzz_idx_gzip", "labels.idx", idx({4}, 4));

  // Index files: each scalar type and metric, empty and compacted ones.
  {
    ExactIndex<float, Euclidean> a(4);
    a.add(points(5, 4));
    index_seed("exact", "f32_euclidean.pst", a);
    ExactIndex<double, Cosine> b(3);
    b.add(points(4, 3).cast<double>());
    index_seed("exact", "f64_cosine.pst", b);
    ExactIndex<float, InnerProduct> c(2);
    c.add(points(3, 2));
    index_seed("exact", "f32_ip.pst", c);
    index_seed("exact", "f32_empty.pst", ExactIndex<float, Euclidean>(3));
    a.remove(1);
    index_seed("exact", "f32_euclidean_removed.pst", a);
    a.compact();
    index_seed("exact", "f32_euclidean_compacted.pst", a);
    // Formats 1-3 wrote exact indexes as ROWS alone, and formats 4-5 packed the parameters
    // without names: fuzz/corpus keeps such seeds as *_v2.pst and *_v5.pst files (written by
    // earlier builds), which this program does not rewrite.
  }
  {
    E2LSHParams p;
    p.num_tables = 2;
    p.num_hashes = 3;
    p.bucket_width = 2.0;
    p.num_probes = 2;
    p.seed = 3;
    E2LSHIndex<float, Euclidean> a(4, p);
    a.add(points(12, 4));
    index_seed("e2lsh", "f32_euclidean.pst", a);
    a.remove(3);
    a.compact();
    index_seed("e2lsh", "f32_euclidean_compacted.pst", a);
    E2LSHIndex<double, Cosine> b(3, p);
    b.add(points(6, 3).cast<double>());
    b.remove(1);
    index_seed("e2lsh", "f64_cosine_removed.pst", b);
    index_seed("e2lsh", "f32_empty.pst", E2LSHIndex<float, Euclidean>(3, p));
  }
  return 0;
}
