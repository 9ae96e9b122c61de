#include "catch_compat.hpp"

#include <cstdint>
#include <numeric>
#include <vector>

#include "pstable/detail/huge_page_allocator.hpp"

using namespace pstable;

TEST_CASE("HugePageAllocator holds small and large arrays like std::allocator", "[memory]") {
  using Allocator = detail::HugePageAllocator<std::uint32_t>;
  const std::size_t large = Allocator::kMinBytes / sizeof(std::uint32_t) + 12345;
  for (std::size_t n : {std::size_t{1}, std::size_t{1000}, large}) {
    CAPTURE(n);
    std::vector<std::uint32_t, Allocator> v(n);
    std::iota(v.begin(), v.end(), 7u);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (n == large) CHECK(reinterpret_cast<std::uintptr_t>(v.data()) % Allocator::kHugePage == 0);
#endif
    v.reserve(3 * n);  // moves into a new block
    auto copy = v;     // and a second one
    v.push_back(1);
    bool same = copy.size() == n;
    for (std::size_t i = 0; i < n; ++i) same = same && v[i] == 7 + i && copy[i] == 7 + i;
    CHECK(same);
    CHECK(v.back() == 1);
  }
}
