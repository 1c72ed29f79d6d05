// Rendezvous (highest-random-weight) hashing: every replica ranks the live replicas for
// a key the same way, without talking to the others; when one joins or leaves, only
// the keys it ranked first move (about 1/N of them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ivrapi::cluster::detail {

struct Candidate {
    std::string id;
    double weight = 1;  // the replica's published capacity; <= 0 ranks last
};

// A 64-bit hash of (key, id): stable across processes, builds and platforms.
std::uint64_t pair_hash(std::string_view key, std::string_view id);

// Weighted score of `id` for `key` (higher wins): weight / -ln(u), u uniform in (0, 1)
// from pair_hash, so a replica wins a share of keys proportional to its weight.
double rendezvous_score(std::string_view key, std::string_view id, double weight);

// The candidates' ids, best first (ties by id). When every weight is <= 0 they all
// count as 1: someone still owns the key.
std::vector<std::string> rank(std::string_view key, const std::vector<Candidate>& candidates);

}  // namespace ivrapi::cluster::detail
