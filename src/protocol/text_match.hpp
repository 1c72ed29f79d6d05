// Comparisons with a string literal whose length is known at compile time, so GCC
// inlines the memcmp (std::string_view's == calls it): the decoders' prefix and key tests.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

namespace ivrapi::protocol {

// `text` is the literal.
template <std::size_t N>
bool is(std::string_view text, const char (&literal)[N]) noexcept {
    return text.size() == N - 1 && std::memcmp(text.data(), literal, N - 1) == 0;
}

// `text` begins with the literal.
template <std::size_t N>
bool starts_with(std::string_view text, const char (&literal)[N]) noexcept {
    return text.size() >= N - 1 && std::memcmp(text.data(), literal, N - 1) == 0;
}

}  // namespace ivrapi::protocol
