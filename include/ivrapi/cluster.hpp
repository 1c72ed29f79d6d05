// ivrapi::cluster: many replicas of one bot, coordinated through Redis (target
// ivrapi::cluster, built when hiredis is found). docs/scaling.md has the design.
//
//   ivrapi::ServeOptions opts;
//   opts.cluster = ivrapi::cluster::Redis{"redis://127.0.0.1:6379", "survey-bot"};
//   client.serve(handler, opts);
//
// Each replica holds a lease in Redis (its id and capacity, 0 when full, renewed every
// lease_ttl / 3). An offer's owner is the live replica ranked first by rendezvous
// hashing of its ivrid, weighted by those capacities: the
// owner accepts at once; the r-th ranked only if the offer is still unclaimed after
// r x `grace` (the owner may have died within its lease). Every claimed
// session is recorded in Redis; when a replica's lease expires, the survivors split its
// sessions by the same hashing, each takes its share by an atomic compare-and-set, sends
// ivrapi_reaccept and runs ServeOptions::on_takeover (default: hand the call back).
// With Redis unreachable a replica keeps its calls, claims by `fallback`, and
// re-registers everything when Redis is back. Redis I/O runs on the coordinator's own
// thread; nothing waits for Redis on the client's I/O thread.
//
// Public header: includes no hiredis header.
#pragma once

#include <ivrapi/claim_coordinator.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace ivrapi::cluster {

// How offers are claimed while Redis cannot be reached.
enum class Fallback {
    claim_all,        // every replica accepts every offer (races, but no offer is left)
    claim_own_shard,  // only offers of ServeOptions::shard_index / shard_count
};

// Options of a Redis-coordinated replica. Converts to the ServeOptions::cluster hook.
struct Redis {
    // "redis://[[user]:password@]host[:port][/db]" (port 6379 by default; user and
    // password percent-encoded; logs and errors show the password as ***).
    std::string url{};
    std::string name{};  // the bot: replicas with the same name share offers and sessions
    // This replica's id, unique in the cluster; empty: "<hostname>-<pid>-<random>".
    std::string replica_id{};
    // A replica whose lease is not renewed for this long counts as dead and its sessions
    // are taken over (renewed every lease_ttl / 3).
    std::chrono::milliseconds lease_ttl{3000};
    // The second-ranked replica accepts an offer still unclaimed after this long, the
    // third after twice as long, ... (the owner may have died within its lease).
    std::chrono::milliseconds grace{500};
    // Connect and command timeout of each Redis request.
    std::chrono::milliseconds redis_timeout{250};
    Fallback fallback = Fallback::claim_all;

    // The coordinator for ServeOptions::cluster. Throws std::invalid_argument on a bad
    // url, an empty name or a lease_ttl below 300 ms.
    operator std::shared_ptr<ClaimCoordinator>()
        const;  // NOLINT(google-explicit-constructor): the documented one-liner
};

// Counters of one coordinator.
struct RedisStats {
    bool redis_up = false;                // the last Redis request succeeded
    std::size_t live_replicas = 0;        // in the latest membership view (this one included)
    std::uint64_t takeovers = 0;          // sessions this replica took over (reaccept succeeded)
    std::uint64_t takeover_failures = 0;  // won the compare-and-set, but the reaccept failed
    std::uint64_t owner_claims = 0;       // offers claimed as their owner
    std::uint64_t backup_claims = 0;      // offers claimed as a backup after r graces
    std::uint64_t fallback_claims = 0;    // offers claimed by the fallback (Redis down)
    std::uint64_t redis_errors = 0;       // failed Redis requests (down, timeout, error reply)
    std::uint64_t bad_entries = 0;        // malformed data read from Redis (logged, skipped)
    std::uint64_t resyncs = 0;            // re-registrations after Redis came back / lease loss
};

// The Redis coordinator itself, for a program that wants its id or counters.
class RedisCoordinator : public ClaimCoordinator {
public:
    explicit RedisCoordinator(Redis options);  // throws std::invalid_argument (see Redis)
    ~RedisCoordinator() override;
    RedisCoordinator(const RedisCoordinator&) = delete;
    RedisCoordinator& operator=(const RedisCoordinator&) = delete;

    const std::string& replica_id() const;  // Redis::replica_id, or the generated one
    RedisStats stats() const;               // a snapshot of the counters

    // ClaimCoordinator (called by the client).
    void start(std::shared_ptr<CoordinatedClient> client) override;
    void stop() override;
    void offered(const ApiStartEvent& offer, std::function<void()> claim) override;
    void claimed(const ApiStartEvent& offer) override;
    void ended(const std::string& ivrid) override;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace ivrapi::cluster
