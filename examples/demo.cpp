// pstable_demo: the report's evaluation on Fashion-MNIST. The 10,000 test images search the
// 60,000 training images (pixels scaled to [0, 1], k = 10) by exact search under Euclidean
// distance and cosine similarity; a returned image is relevant when it has the query's label.
//
// Usage: pstable_demo [--threads N] [--data DIR]   (N = 0, the default: all cores)
#include <pstable/pstable.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr Eigen::Index kK = 10;
constexpr int kNumClasses = 10;
constexpr std::array<const char*, kNumClasses> kClassNames = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

struct Dataset {
  pstable::RowMatrix<float> train, test;
  std::vector<int> train_labels, test_labels;
};

// Precision@k by label (the report's "mAP"): for each query the fraction of its k results that
// share its label, averaged overall and per class of the query. Kept local to the demo.
struct Precision {
  double overall = 0;
  std::array<double, kNumClasses> by_class{};
};

template <class T>
Precision precision_at_k(const pstable::Neighbors<T>& result, const Dataset& data) {
  Precision p;
  std::array<int, kNumClasses> count{};
  for (Eigen::Index q = 0; q < result.num_queries(); ++q) {
    const int label = data.test_labels[static_cast<std::size_t>(q)];
    int relevant = 0;
    for (Eigen::Index j = 0; j < result.k(); ++j) {
      relevant += data.train_labels[static_cast<std::size_t>(result.ids()(q, j))] == label;
    }
    const double precision = static_cast<double>(relevant) / static_cast<double>(result.k());
    p.overall += precision;
    p.by_class[static_cast<std::size_t>(label)] += precision;
    ++count[static_cast<std::size_t>(label)];
  }
  p.overall /= static_cast<double>(result.num_queries());
  for (int c = 0; c < kNumClasses; ++c) {
    if (count[static_cast<std::size_t>(c)] > 0) p.by_class[static_cast<std::size_t>(c)] /= count[static_cast<std::size_t>(c)];
  }
  return p;
}

template <class Metric>
void evaluate(const Dataset& data, int threads) {
  const auto index = pstable::ExactIndex<float, Metric>::borrow(
      data.train.data(), data.train.rows(), data.train.cols());
  const auto start = std::chrono::steady_clock::now();
  const auto result = index.search(data.test, kK, threads);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Precision p = precision_at_k(result, data);
  const bool similarity = Metric::is_similarity;

  std::printf("\n== exact search, %s (k = %ld)\n", Metric::name, static_cast<long>(kK));
  std::printf("  mean precision@%ld (mAP) %.4f\n", static_cast<long>(kK), p.overall);
  std::printf("  %-24s %.4f\n", similarity ? "mean similarity returned" : "mean distance returned",
              static_cast<double>(result.distances().template cast<double>().mean()));
  std::printf("  items visited per query %.0f (of %ld)\n", result.mean_visited(),
              static_cast<long>(index.size()));
  std::printf("  queries per second      %.0f (%ld queries in %.2f s)\n",
              static_cast<double>(data.test.rows()) / seconds, static_cast<long>(data.test.rows()),
              seconds);
  std::printf("  threads                 %d\n", pstable::detail::resolve_threads(threads));
  std::printf("  precision@%ld by class:\n", static_cast<long>(kK));
  for (int c = 0; c < kNumClasses; ++c) {
    std::printf("    %-12s %.4f\n", kClassNames[static_cast<std::size_t>(c)],
                p.by_class[static_cast<std::size_t>(c)]);
  }
}

int usage(const char* program) {
  std::fprintf(stderr, "usage: %s [--threads N (0 = all cores, default)] [--data DIR]\n", program);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 0;
  std::string dir = "/usr/share/datasets/fashion-mnist";
  if (const char* env = std::getenv("PSTABLE_FASHION_MNIST")) dir = env;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
      if (threads < 0) return usage(argv[0]);
    } else if (std::strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
      dir = argv[++i];
    } else {
      return usage(argv[0]);
    }
  }

  try {
    Dataset data;
    data.train = pstable::read_idx_images<float>(dir + "/train-images-idx3-ubyte.gz");
    data.test = pstable::read_idx_images<float>(dir + "/t10k-images-idx3-ubyte.gz");
    data.train_labels = pstable::read_idx_labels(dir + "/train-labels-idx1-ubyte.gz");
    data.test_labels = pstable::read_idx_labels(dir + "/t10k-labels-idx1-ubyte.gz");
    if (data.train_labels.size() != static_cast<std::size_t>(data.train.rows()) ||
        data.test_labels.size() != static_cast<std::size_t>(data.test.rows())) {
      std::fprintf(stderr, "pstable_demo: image and label files of %s disagree in count\n",
                   dir.c_str());
      return 1;
    }
    std::printf("Fashion-MNIST: %ld training images (the database), %ld test images (the queries),"
                " %ld pixels in [0, 1]\nkernels: %s; Eigen: %s\n",
                static_cast<long>(data.train.rows()), static_cast<long>(data.test.rows()),
                static_cast<long>(data.train.cols()), pstable::simd::kernels<float>().arch,
                Eigen::SimdInstructionSetsInUse());
    evaluate<pstable::Euclidean>(data, threads);
    evaluate<pstable::Cosine>(data, threads);
  } catch (const pstable::Error& e) {
    std::fprintf(stderr, "pstable_demo: %s\n", e.what());
    return 1;
  }
  return 0;
}
