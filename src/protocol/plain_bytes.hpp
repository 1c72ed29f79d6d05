// The bytes a JSON string holds as they are, found 16 at a time (then 8, then one by one): the decoder's plain
// stage (plain_scanner.hpp) reads strings up to the first other byte, and the encoder
// (json_bridge.hpp) copies a string that has none in one piece.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ivrapi::protocol {

// The first byte in [p, end) that a JSON string cannot hold unescaped — '"', '\\', a
// control byte (< 0x20) — or, unless `high_bytes_ok`, a byte >= 0x80 (UTF-8 to check);
// `end` when there is none.
inline const char* find_special_byte(const char* p, const char* end, bool high_bytes_ok) noexcept {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i below_space = _mm_set1_epi8(0x1f);
    const __m128i space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        // Unsigned c <= 0x1f: min(c, 0x1f) == c. Signed c < 0x20 is that or c >= 0x80.
        const __m128i low =
            high_bytes_ok ? _mm_cmpeq_epi8(_mm_min_epu8(bytes, below_space), bytes) : _mm_cmplt_epi8(bytes, space);
        const __m128i special =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash)), low);
        const int mask = _mm_movemask_epi8(special);
        if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
        p += 16;
    }
#endif
    // Then 8 at a time in a word (most strings the encoder writes are shorter than 16):
    // a byte equal to '"' or '\\', or below 0x20, or (unless allowed) from 0x80, sets the
    // word's test; as a yes/no it is exact, and the loop below finds which byte it was.
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
    while (end - p >= 8) {
        std::uint64_t x = 0;
        std::memcpy(&x, p, 8);
        const std::uint64_t quote = x ^ (kOnes * '"'), backslash = x ^ (kOnes * '\\');
        std::uint64_t hit = ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) | ((x - kOnes * 0x20) & ~x);
        if (!high_bytes_ok) hit |= x;
        if ((hit & kHighs) != 0) break;
        p += 8;
    }
    for (; p != end; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        if (c == '"' || c == '\\' || c < 0x20 || (c >= 0x80 && !high_bytes_ok)) return p;
    }
    return end;
}

}  // namespace ivrapi::protocol
