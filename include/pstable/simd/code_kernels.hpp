#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define PSTABLE_X86_CODE_KERNELS 1
#endif

namespace pstable::simd {

/// Kernels over compact codes (scalar-quantised rows): the integer dot product of a row's codes
/// with an int16 query, sum_j code_j * query[j], exact in int32 as long as the number of codes
/// times the largest code times max|query| is below 2^31 (callers bound the query accordingly).
/// Being exact integer arithmetic, every variant returns the same value, bit for bit, on every CPU.
///
/// - `dot_u8_i16`: one uint8 code per value, code_j = codes[j].
/// - `dot_u4_i16`: two 4-bit codes per byte, in blocks of 64 bytes holding 128 values: byte b of
///   block B holds value 128 B + b in its low nibble and value 128 B + 64 + b in its high nibble
///   (so each half of a block widens to consecutive values). `n` counts bytes, a multiple of 64;
///   the query has 2 n entries.
///
/// Unlike the float kernels (dispatch.hpp), these are picked at run time even in header-only use:
/// each x86 variant is compiled for its instruction set with a function target attribute and
/// chosen by what the CPU reports (AVX-512 VNNI, AVX-512 BW, AVX2, SSE4.1); other CPUs and
/// compilers use the portable loop. `PSTABLE_CODE_KERNELS=scalar|sse4.1|avx2|avx512bw|avx512vnni`
/// caps the choice (for tests and comparisons); a variant the CPU lacks is never chosen.
struct CodeKernels {
  std::int32_t (*dot_u8_i16)(const std::uint8_t* codes, const std::int16_t* query,
                             std::size_t n) noexcept;
  std::int32_t (*dot_u4_i16)(const std::uint8_t* codes, const std::int16_t* query,
                             std::size_t n) noexcept;
  const char* arch;  ///< "avx512vnni", "avx512bw", "avx2", "sse4.1" or "scalar"
};

namespace scalar {

/// The reference: one int64 accumulator.
inline std::int32_t dot_u8_i16(const std::uint8_t* codes, const std::int16_t* query,
                               std::size_t n) noexcept {
  std::int64_t sum = 0;
  for (std::size_t j = 0; j < n; ++j) sum += std::int64_t{codes[j]} * query[j];
  return static_cast<std::int32_t>(sum);
}

/// The reference for packed 4-bit codes (see CodeKernels for the layout).
inline std::int32_t dot_u4_i16(const std::uint8_t* codes, const std::int16_t* query,
                               std::size_t n) noexcept {
  std::int64_t sum = 0;
  for (std::size_t b = 0; b < n; ++b) {
    const std::size_t value = b / 64 * 128 + b % 64;
    sum += std::int64_t{codes[b] & 15} * query[value];
    sum += std::int64_t{codes[b] >> 4} * query[value + 64];
  }
  return static_cast<std::int32_t>(sum);
}

}  // namespace scalar

namespace detail {

#if defined(PSTABLE_X86_CODE_KERNELS)

// The sum of an accumulator's int32 lanes (two for AVX-512). Helpers, not lambdas: a lambda does
// not inherit its function's target.
__attribute__((target("sse4.1"))) inline std::int32_t sum_lanes_sse41(__m128i s) noexcept {
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

__attribute__((target("avx2"))) inline std::int32_t sum_lanes_avx2(__m256i a, __m256i b) noexcept {
  const __m256i acc = _mm256_add_epi32(a, b);
  return sum_lanes_sse41(
      _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1)));
}

// Through memory: g++ 12's reduce/extract/cast intrinsics warn -Wuninitialized (their
// _mm256_undefined_si256 operand).
__attribute__((target("avx512f"))) inline std::int32_t sum_lanes_avx512(__m512i a,
                                                                        __m512i b) noexcept {
  alignas(64) std::int32_t lanes[16];
  _mm512_store_si512(lanes, _mm512_add_epi32(a, b));
  std::int32_t sum = 0;
  for (const std::int32_t lane : lanes) sum += lane;
  return sum;
}

// Multiply-add of int16 pairs into int32 lanes: vpmaddwd + vpaddd, or with VNNI one vpdpwssd.
#define PSTABLE_MADD_BW(acc, a, b) _mm512_add_epi32((acc), _mm512_madd_epi16((a), (b)))
#define PSTABLE_MADD_VNNI(acc, a, b) _mm512_dpwssd_epi32((acc), (a), (b))

__attribute__((target("sse4.1"))) inline std::int32_t dot_u8_i16_sse41(const std::uint8_t* codes,
                                                                       const std::int16_t* query,
                                                                       std::size_t n) noexcept {
  __m128i acc = _mm_setzero_si128();
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m128i c =
        _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes + j)));
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(query + j));
    acc = _mm_add_epi32(acc, _mm_madd_epi16(c, q));
  }
  std::int32_t sum = sum_lanes_sse41(acc);
  for (; j < n; ++j) sum += std::int32_t{codes[j]} * query[j];
  return sum;
}

__attribute__((target("avx2"))) inline std::int32_t dot_u8_i16_avx2(const std::uint8_t* codes,
                                                                    const std::int16_t* query,
                                                                    std::size_t n) noexcept {
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  std::size_t j = 0;
  for (; j + 32 <= n; j += 32) {
    const __m256i c0 =
        _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + j)));
    const __m256i c1 =
        _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + j + 16)));
    acc0 = _mm256_add_epi32(
        acc0,
        _mm256_madd_epi16(c0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(query + j))));
    acc1 = _mm256_add_epi32(
        acc1, _mm256_madd_epi16(
                  c1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(query + j + 16))));
  }
  std::int32_t sum = sum_lanes_avx2(acc0, acc1);
  for (; j < n; ++j) sum += std::int32_t{codes[j]} * query[j];
  return sum;
}

// AVX-512: 32 codes widened to int16 per step; with VNNI the multiply-add-accumulate is one
// instruction (vpdpwssd), without it vpmaddwd + vpaddd.
#define PSTABLE_DOT_U8_I16_AVX512(NAME, TARGET, MADD)                                            \
  __attribute__((target(TARGET))) inline std::int32_t NAME(                                      \
      const std::uint8_t* codes, const std::int16_t* query, std::size_t n) noexcept {            \
    __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();                        \
    std::size_t j = 0;                                                                           \
    for (; j + 64 <= n; j += 64) {                                                               \
      const __m512i c0 =                                                                         \
          _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + j))); \
      const __m512i c1 = _mm512_cvtepu8_epi16(                                                   \
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + j + 32)));                 \
      acc0 = MADD(acc0, c0, _mm512_loadu_si512(query + j));                                      \
      acc1 = MADD(acc1, c1, _mm512_loadu_si512(query + j + 32));                                 \
    }                                                                                            \
    for (; j + 32 <= n; j += 32) {                                                               \
      const __m512i c =                                                                          \
          _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + j))); \
      acc0 = MADD(acc0, c, _mm512_loadu_si512(query + j));                                       \
    }                                                                                            \
    std::int32_t sum = sum_lanes_avx512(acc0, acc1);                                             \
    for (; j < n; ++j) sum += std::int32_t{codes[j]} * query[j];                                 \
    return sum;                                                                                  \
  }

PSTABLE_DOT_U8_I16_AVX512(dot_u8_i16_avx512bw, "avx512f,avx512bw", PSTABLE_MADD_BW)
PSTABLE_DOT_U8_I16_AVX512(dot_u8_i16_avx512vnni, "avx512f,avx512bw,avx512vnni", PSTABLE_MADD_VNNI)
#undef PSTABLE_DOT_U8_I16_AVX512

// Packed 4-bit codes: each byte's nibbles are split with a shift and a mask, then widened to int16
// and multiplied like 8-bit codes. (Helpers, not lambdas: a lambda does not inherit the target.)
__attribute__((target("sse4.1"))) inline __m128i madd_u8x16_sse41(__m128i acc, __m128i c8,
                                                                  const std::int16_t* at) noexcept {
  const __m128i c0 = _mm_cvtepu8_epi16(c8);
  const __m128i c1 = _mm_cvtepu8_epi16(_mm_srli_si128(c8, 8));
  acc =
      _mm_add_epi32(acc, _mm_madd_epi16(c0, _mm_loadu_si128(reinterpret_cast<const __m128i*>(at))));
  return _mm_add_epi32(
      acc, _mm_madd_epi16(c1, _mm_loadu_si128(reinterpret_cast<const __m128i*>(at + 8))));
}

__attribute__((target("sse4.1"))) inline std::int32_t dot_u4_i16_sse41(const std::uint8_t* codes,
                                                                       const std::int16_t* query,
                                                                       std::size_t n) noexcept {
  const __m128i mask = _mm_set1_epi8(15);
  __m128i acc = _mm_setzero_si128();
  for (std::size_t b = 0; b < n; b += 16) {
    const std::int16_t* q = query + b / 64 * 128 + b % 64;
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + b));
    acc = madd_u8x16_sse41(acc, _mm_and_si128(v, mask), q);
    acc = madd_u8x16_sse41(acc, _mm_and_si128(_mm_srli_epi16(v, 4), mask), q + 64);
  }
  return sum_lanes_sse41(acc);
}

__attribute__((target("avx2"))) inline void madd_u8x32_avx2(__m256i& acc, __m256i c8,
                                                            const std::int16_t* at) noexcept {
  const __m256i c0 = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(c8));
  const __m256i c1 = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(c8, 1));
  acc = _mm256_add_epi32(
      acc, _mm256_madd_epi16(c0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at))));
  acc = _mm256_add_epi32(
      acc, _mm256_madd_epi16(c1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at + 16))));
}

__attribute__((target("avx2"))) inline std::int32_t dot_u4_i16_avx2(const std::uint8_t* codes,
                                                                    const std::int16_t* query,
                                                                    std::size_t n) noexcept {
  const __m256i mask = _mm256_set1_epi8(15);
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  for (std::size_t b = 0; b < n; b += 32) {
    const std::int16_t* q = query + b / 64 * 128 + b % 64;
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + b));
    madd_u8x32_avx2(acc0, _mm256_and_si256(v, mask), q);
    madd_u8x32_avx2(acc1, _mm256_and_si256(_mm256_srli_epi16(v, 4), mask), q + 64);
  }
  return sum_lanes_avx2(acc0, acc1);
}

// AVX-512: one 64-byte block (128 values) per step, loaded as two 32-byte halves (no 512-bit
// extracts, which g++ 12 warns about), four 32-value multiply-adds.
#define PSTABLE_DOT_U4_I16_AVX512(NAME, TARGET, MADD)                                             \
  __attribute__((target(TARGET))) inline std::int32_t NAME(                                       \
      const std::uint8_t* codes, const std::int16_t* query, std::size_t n) noexcept {             \
    const __m256i mask = _mm256_set1_epi8(15);                                                    \
    __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();                         \
    for (std::size_t b = 0; b < n; b += 64) {                                                     \
      const std::int16_t* q = query + 2 * b;                                                      \
      const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + b));         \
      const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + b + 32));    \
      acc0 = MADD(acc0, _mm512_cvtepu8_epi16(_mm256_and_si256(v0, mask)), _mm512_loadu_si512(q)); \
      acc1 = MADD(acc1, _mm512_cvtepu8_epi16(_mm256_and_si256(v1, mask)),                         \
                  _mm512_loadu_si512(q + 32));                                                    \
      acc0 = MADD(acc0, _mm512_cvtepu8_epi16(_mm256_and_si256(_mm256_srli_epi16(v0, 4), mask)),   \
                  _mm512_loadu_si512(q + 64));                                                    \
      acc1 = MADD(acc1, _mm512_cvtepu8_epi16(_mm256_and_si256(_mm256_srli_epi16(v1, 4), mask)),   \
                  _mm512_loadu_si512(q + 96));                                                    \
    }                                                                                             \
    return sum_lanes_avx512(acc0, acc1);                                                          \
  }

PSTABLE_DOT_U4_I16_AVX512(dot_u4_i16_avx512bw, "avx512f,avx512bw", PSTABLE_MADD_BW)
PSTABLE_DOT_U4_I16_AVX512(dot_u4_i16_avx512vnni, "avx512f,avx512bw,avx512vnni", PSTABLE_MADD_VNNI)
#undef PSTABLE_MADD_BW
#undef PSTABLE_MADD_VNNI
#undef PSTABLE_DOT_U4_I16_AVX512

#endif  // PSTABLE_X86_CODE_KERNELS

/// Calls f(CodeKernels) for every variant this CPU can run, best first (the last is the scalar
/// loop), until f returns true. Allocates nothing.
template <class F>
void for_each_supported_code_kernels(F&& f) {
#if defined(PSTABLE_X86_CODE_KERNELS)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") &&
      f(CodeKernels{&dot_u8_i16_avx512vnni, &dot_u4_i16_avx512vnni, "avx512vnni"}))
    return;
  if (__builtin_cpu_supports("avx512bw") &&
      f(CodeKernels{&dot_u8_i16_avx512bw, &dot_u4_i16_avx512bw, "avx512bw"}))
    return;
  if (__builtin_cpu_supports("avx2") && f(CodeKernels{&dot_u8_i16_avx2, &dot_u4_i16_avx2, "avx2"}))
    return;
  if (__builtin_cpu_supports("sse4.1") &&
      f(CodeKernels{&dot_u8_i16_sse41, &dot_u4_i16_sse41, "sse4.1"}))
    return;
#endif
  f(CodeKernels{&scalar::dot_u8_i16, &scalar::dot_u4_i16, "scalar"});
}

/// Every variant this CPU can run, best first (for the tests).
inline std::vector<CodeKernels> supported_code_kernels() {
  std::vector<CodeKernels> out;
  for_each_supported_code_kernels([&](const CodeKernels& k) {
    out.push_back(k);
    return false;
  });
  return out;
}

// The best variant, or with PSTABLE_CODE_KERNELS set to a variant's name the best at or below
// it ("avx2": AVX2, SSE4.1 or scalar); an unknown name is ignored.
inline CodeKernels pick_code_kernels() noexcept {
  static const char* const order[] = {"avx512vnni", "avx512bw", "avx2", "sse4.1", "scalar"};
  const auto rank_of = [](const char* name) {
    std::size_t r = 0;
    while (r < 5 && std::strcmp(order[r], name) != 0) ++r;
    return r;
  };
  const char* cap = std::getenv("PSTABLE_CODE_KERNELS");
  const std::size_t limit = (cap != nullptr && *cap != '\0') ? rank_of(cap) : 5;
  CodeKernels best{};
  for_each_supported_code_kernels([&](const CodeKernels& k) {
    if (best.arch == nullptr) best = k;  // the CPU's best: kept when the cap is unknown
    if (limit < 5 && rank_of(k.arch) >= limit) {
      best = k;
      return true;
    }
    return limit >= 5;
  });
  return best;
}

}  // namespace detail

/// The best code kernels of this CPU (see CodeKernels), chosen at the first call.
inline const CodeKernels& code_kernels() noexcept {
  static const CodeKernels set = detail::pick_code_kernels();
  return set;
}

}  // namespace pstable::simd
