#pragma once

#include <cstddef>
#include <vector>

#include <Eigen/Core>

#include "pstable/detail/thread_scratch.hpp"

// Eigen 3.4's internal GEMM entry point is used directly (below); other Eigen versions take the
// product expression, which is correct but allocates its packing buffers on every product.
#if EIGEN_VERSION_AT_LEAST(3, 4, 0) && !EIGEN_VERSION_AT_LEAST(3, 4, 90)
#define PSTABLE_GEMM_KEEPS_BUFFERS 1
#else
#define PSTABLE_GEMM_KEEPS_BUFFERS 0
#endif

namespace pstable::detail {

/// `out = lhs * rhs` through Eigen's GEMM, with the packing buffers kept across calls.
///
/// Eigen's product expression allocates its packing buffers (hundreds of KB for a block of the
/// exact scan) on every product and frees them after. That is cheap while glibc recycles the
/// memory, but a process started with MALLOC_TRIM_THRESHOLD_ set (Dask's nanny sets it for every
/// worker) has a fixed mmap threshold: each buffer is then a fresh mapping whose pages fault in
/// again, and the exact scan ran 4x slower. A workspace belongs to one thread (a search scratch)
/// and keeps the largest buffers it was asked for.
///
/// The blocking sizes are Eigen's own for each shape, and so is the small-product fallback, so the
/// products are bit for bit those of `out.noalias() = lhs * rhs`.
template <class T>
class GemmWorkspace {
 public:
  /// out (rows x cols, row-major, resized by the caller) = lhs (rows x depth) * rhs (depth x
  /// cols). lhs and rhs are expressions with direct access (matrices, maps, blocks, transposes).
  template <class Lhs, class Rhs, class Out>
  void multiply(const Lhs& lhs, const Rhs& rhs, Out& out) {
    static_assert(Out::IsRowMajor, "GemmWorkspace writes row-major results");
    static_assert(Lhs::InnerStrideAtCompileTime == 1 && Rhs::InnerStrideAtCompileTime == 1 &&
                      Out::InnerStrideAtCompileTime == 1,
                  "GemmWorkspace needs contiguous rows or columns");
    const Eigen::Index m = out.rows();
    const Eigen::Index n = out.cols();
    const Eigen::Index depth = lhs.cols();
#if PSTABLE_GEMM_KEEPS_BUFFERS
    // Eigen's own dispatch (GeneralProduct.h): small products are coefficient-based and a
    // single row or column is a matrix-vector product; neither allocates packing buffers.
    const bool gemm =
        m > 1 && n > 1 && depth > 0 && m + n + depth >= EIGEN_GEMM_TO_COEFFBASED_THRESHOLD;
    if (gemm) {
      namespace ei = Eigen::internal;
      constexpr int kLhsOrder = Lhs::IsRowMajor ? Eigen::RowMajor : Eigen::ColMajor;
      constexpr int kRhsOrder = Rhs::IsRowMajor ? Eigen::RowMajor : Eigen::ColMajor;
      Blocking blocking(m, n, depth, a_, b_);
      out.setZero();
      ei::general_matrix_matrix_product<Eigen::Index, T, kLhsOrder, false, T, kRhsOrder, false,
                                        Eigen::RowMajor, 1>::run(m, n, depth, lhs.data(),
                                                                 lhs.outerStride(), rhs.data(),
                                                                 rhs.outerStride(), out.data(), 1,
                                                                 out.outerStride(), T(1), blocking);
      return;
    }
#endif
    out.noalias() = lhs * rhs;
  }

  /// Bytes held by the packing buffers.
  std::size_t memory_bytes() const noexcept { return (a_.capacity() + b_.capacity()) * sizeof(T); }

 private:
  using Buffer = std::vector<T, Eigen::aligned_allocator<T>>;

#if PSTABLE_GEMM_KEEPS_BUFFERS
  // Eigen's gemm_blocking_space for a row-major result with run-time sizes, whose buffers are
  // the workspace's instead of allocated per product.
  class Blocking : public Eigen::internal::level3_blocking<T, T> {
   public:
    Blocking(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth, Buffer& a, Buffer& b) {
      // A row-major product is run as the column-major product of the transposes.
      this->m_mc = cols;
      this->m_nc = rows;
      this->m_kc = depth;
      Eigen::internal::computeProductBlockingSizes<T, T, 1>(this->m_kc, this->m_mc, this->m_nc,
                                                            Eigen::Index{1});
      grow_exact(a, static_cast<std::size_t>(this->m_mc * this->m_kc));
      grow_exact(b, static_cast<std::size_t>(this->m_kc * this->m_nc));
      this->m_blockA = a.data();
      this->m_blockB = b.data();
    }
  };
#endif

  Buffer a_;
  Buffer b_;
};

}  // namespace pstable::detail
