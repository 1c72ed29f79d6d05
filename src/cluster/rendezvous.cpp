#include "cluster/rendezvous.hpp"

#include <algorithm>
#include <cmath>

namespace ivrapi::cluster::detail {

namespace {
// FNV-1a over the bytes, then a splitmix64 finalizer: FNV alone is too weak in the
// high bits for short, similar keys such as ivrids.
std::uint64_t fnv1a(std::uint64_t h, std::string_view s) {
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}
std::uint64_t mix(std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
}  // namespace

std::uint64_t pair_hash(std::string_view key, std::string_view id) {
    std::uint64_t h = fnv1a(14695981039346656037ULL, key);
    h = fnv1a(h ^ 0xff, id);  // separator: ("ab","c") and ("a","bc") differ
    return mix(h);
}

double rendezvous_score(std::string_view key, std::string_view id, double weight) {
    if (weight <= 0) return 0;
    // 53 random bits -> u in (0, 1), never 0 or 1.
    const double u = (static_cast<double>(pair_hash(key, id) >> 11) + 0.5) / 9007199254740992.0;
    return weight / -std::log(u);
}

std::vector<std::string> rank(std::string_view key, const std::vector<Candidate>& candidates) {
    const bool any_positive =
        std::any_of(candidates.begin(), candidates.end(), [](const Candidate& c) { return c.weight > 0; });
    std::vector<std::pair<double, const std::string*>> scored;
    scored.reserve(candidates.size());
    for (const auto& c : candidates) {
        scored.emplace_back(rendezvous_score(key, c.id, any_positive ? c.weight : 1.0), &c.id);
    }
    std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
        if (a.first != b.first) return a.first > b.first;
        return *a.second < *b.second;
    });
    std::vector<std::string> out;
    out.reserve(scored.size());
    for (const auto& s : scored) out.push_back(*s.second);
    return out;
}

}  // namespace ivrapi::cluster::detail
