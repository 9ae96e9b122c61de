#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace pstable::detail {

/// An allocator for large arrays (the stored rows, key scratch) that asks Linux for transparent
/// huge pages: a block of at least kMinBytes is mapped on its own, 2 MiB aligned, with
/// madvise(MADV_HUGEPAGE), so that filling it takes one page fault per 2 MiB instead of one per
/// 4 KiB and random row reads miss the TLB less. Smaller blocks, and every block on other
/// systems, come from operator new. The advice is a hint: where transparent huge pages are off
/// the memory is ordinary pages. At most 2 MiB - 1 bytes past the end are mapped unused.
template <class T>
class HugePageAllocator {
 public:
  using value_type = T;
  static constexpr std::size_t kHugePage = std::size_t{1} << 21;
  static constexpr std::size_t kMinBytes = 4 * kHugePage;

  HugePageAllocator() noexcept = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT: rebinding converts

  T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T) - kHugePage) throw std::bad_alloc();
    const std::size_t bytes = n * sizeof(T);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= kMinBytes) {
      // Map one huge page more, then unmap the unaligned head and the tail beyond the rounding.
      const std::size_t length = rounded(bytes);
      void* p = ::mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      const auto start = reinterpret_cast<std::uintptr_t>(p);
      const std::uintptr_t aligned = (start + kHugePage - 1) & ~(std::uintptr_t{kHugePage} - 1);
      if (aligned > start) ::munmap(p, aligned - start);
      ::munmap(reinterpret_cast<void*>(aligned + length), start + kHugePage - aligned);
      ::madvise(reinterpret_cast<void*>(aligned), length, MADV_HUGEPAGE);
      return reinterpret_cast<T*>(aligned);
    }
#endif
    return static_cast<T*>(::operator new(bytes));
  }

  void deallocate(T* p, [[maybe_unused]] std::size_t n) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (n * sizeof(T) >= kMinBytes) {
      ::munmap(p, rounded(n * sizeof(T)));
      return;
    }
#endif
    ::operator delete(p);
  }

  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const HugePageAllocator<U>&) const noexcept {
    return false;
  }

 private:
  static std::size_t rounded(std::size_t bytes) noexcept {
    return (bytes + kHugePage - 1) & ~(kHugePage - 1);
  }
};

}  // namespace pstable::detail
