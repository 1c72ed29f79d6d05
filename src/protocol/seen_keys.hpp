// The keys of one object as they are read, for the repeat check (a repeated key is an
// error of the general path's, so a fast path that meets one declines). Holds 16: one
// more and insert() fails too, and the caller declines.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace ivrapi::protocol {

class SeenKeys {
public:
    // False when `k` was seen or there is no room left.
    bool insert(std::string_view k) {
        for (std::size_t i = 0; i < n_; ++i) {
            if (keys_[i] == k) return false;
        }
        if (n_ == keys_.size()) return false;
        keys_[n_++] = k;
        return true;
    }

private:
    std::array<std::string_view, 16> keys_{};
    std::size_t n_ = 0;
};

}  // namespace ivrapi::protocol
