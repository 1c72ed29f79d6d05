// The hash that splits offers into static shards (ServeOptions::shard_index/count); the
// cluster's fallback uses the same one so both policies pick the same shard.
#pragma once
#include <cstdint>
#include <string_view>

namespace ivrapi::detail {

// FNV-1a: stable across processes and builds, so shards agree on who claims what.
inline std::uint32_t shard_hash(std::string_view s) {
    std::uint32_t h = 2166136261u;
    for (unsigned char c : s) {
        h ^= c;
        h *= 16777619u;
    }
    return h;
}

}  // namespace ivrapi::detail
