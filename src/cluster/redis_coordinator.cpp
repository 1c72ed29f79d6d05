// The Redis coordinator: leases, rendezvous claiming, the session registry and takeover.
// Data in Redis (prefix "ivrapi:<name>:"):
//   members          SET   replica ids that ever held a lease (removed once gone and empty)
//   lease:<id>       STR   free capacity, with a TTL of lease_ttl (renewed every ttl / 3)
//   session:<ivrid>  HASH  owner, key, since (ms since epoch)
//   owned:<id>       SET   ivrids whose session:<ivrid> names <id> as owner
//   claiming:<ivrid> STR   the backup claiming an unregistered offer (TTL of a grace)
// Every change of ownership is one Lua script, so it is atomic.
#include "client/shard_hash.hpp"
#include "cluster/redis_connection.hpp"
#include "cluster/redis_scripts.hpp"
#include "cluster/rendezvous.hpp"

#include <ivrapi/cluster.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace ivrapi::cluster {

namespace {

using Clock = std::chrono::steady_clock;
using detail::Candidate;
using detail::kBackupClaim;
using detail::kDeregister;
using detail::kForgetMember;
using detail::kRegister;
using detail::kTakeOver;
using detail::RedisReply;

// How long an ended session's entry stays: the platform's accept window (30 s), after
// which its offer cannot be claimed anyway.
constexpr std::chrono::milliseconds kTombstone{30000};

std::string default_replica_id() {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    std::random_device rd;
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "%04x", static_cast<unsigned>(rd() & 0xffff));
    return std::string(host[0] ? host : "replica") + "-" + std::to_string(getpid()) + "-" + suffix;
}

long long now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The weight a replica publishes: its capacity (claim limit) while it has room, 0 when
// full. Replicas rank offers from leases read at different moments, so a weight that
// changes with the calls a replica holds makes them disagree on owners (two accepts, or
// an offer that waits a grace for its backup): weighting by the free quarter of the
// capacity sent 3 of 60 offers to a backup in the 3-replica test, by the free half 1,
// this 0. Offers spread by capacity; a replica stops owning new ones when it is full.
std::size_t published_weight(std::size_t free, std::size_t capacity) {
    constexpr std::size_t kMax = 1000000;  // claim() without a limit
    capacity = std::min(capacity, kMax);
    return free == 0 ? 0 : capacity;
}

// A lease value is the published weight: a decimal count.
std::optional<double> parse_capacity(const std::string& text) {
    if (text.empty() || text.size() > 12 || text.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    return static_cast<double>(std::stoll(text));
}

}  // namespace

struct RedisCoordinator::Impl : std::enable_shared_from_this<Impl> {
    explicit Impl(Redis o) : options(std::move(o)) {
        address = detail::parse_redis_url(options.url);  // throws on a bad URL
        if (options.name.empty()) throw std::invalid_argument("ivrapi::cluster::Redis: name must not be empty");
        if (options.lease_ttl < std::chrono::milliseconds(300)) {
            throw std::invalid_argument("ivrapi::cluster::Redis: lease_ttl must be at least 300 ms");
        }
        if (options.redis_timeout.count() <= 0) {
            throw std::invalid_argument("ivrapi::cluster::Redis: redis_timeout must be positive");
        }
        id = options.replica_id.empty() ? default_replica_id() : options.replica_id;
        prefix = "ivrapi:" + options.name + ":";
    }

    // ---- keys
    std::string lease_key(const std::string& member) const { return prefix + "lease:" + member; }
    std::string owned_key(const std::string& member) const { return prefix + "owned:" + member; }
    std::string session_key(const std::string& ivrid) const { return prefix + "session:" + ivrid; }
    std::string members_key() const { return prefix + "members"; }
    std::string claiming_key(const std::string& ivrid) const { return prefix + "claiming:" + ivrid; }

    // ---- any thread
    // False when no client is attached yet to take the line.
    bool log(LogLevel level, const std::string& line) const {
        std::shared_ptr<CoordinatedClient> c;
        {
            std::lock_guard<std::mutex> lock(mutex);
            c = client;
        }
        if (c) c->log(level, "cluster " + options.name + "/" + id + ": " + line);
        return c != nullptr;
    }

    void post(Clock::time_point due, std::function<void()> task) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (stopping) return;
            tasks.emplace(due, std::move(task));
        }
        cv.notify_one();
    }

    void start(std::shared_ptr<CoordinatedClient> c) {
        std::lock_guard<std::mutex> lock(mutex);
        if (thread.joinable() || stopping) return;  // one serve() per coordinator
        client = std::move(c);
        thread = std::thread([self = shared_from_this()] { self->run(); });
    }

    void stop() {
        std::thread t;
        {
            std::lock_guard<std::mutex> lock(mutex);
            stopping = true;
            t = std::move(thread);
        }
        cv.notify_one();
        if (t.joinable()) {
            if (t.get_id() == std::this_thread::get_id()) t.detach();  // from our own task
            else t.join();
        }
        std::lock_guard<std::mutex> lock(mutex);
        client.reset();
    }

    // The fallback policy: does this replica claim `ivrid` while Redis is unreachable?
    bool fallback_claims(const std::string& ivrid) const {
        if (options.fallback == Fallback::claim_all) return true;
        std::shared_ptr<CoordinatedClient> c;
        {
            std::lock_guard<std::mutex> lock(mutex);
            c = client;
        }
        if (!c || c->shard_count() <= 1) return true;
        return ivrapi::detail::shard_hash(ivrid) % c->shard_count() == c->shard_index();
    }

    // The membership view is at most one lease old: a short Redis outage (a restart)
    // keeps claiming by it instead of falling back (no accept storm for a blip).
    bool view_fresh() const {
        std::lock_guard<std::mutex> lock(mutex);
        return members && Clock::now() - view_at <= options.lease_ttl;
    }

    void offered(const ApiStartEvent& offer, const std::function<void()>& claim) {
        if (!redis_up.load() && !view_fresh()) {
            if (fallback_claims(offer.ivrid)) {
                fallback_count.fetch_add(1);
                claim();
            }
            return;
        }
        std::shared_ptr<const std::vector<Candidate>> view;
        {
            std::lock_guard<std::mutex> lock(mutex);
            view = members;
        }
        const auto ranked = detail::rank(offer.ivrid, view ? *view : std::vector<Candidate>{});
        if (ranked.empty() || ranked[0] == id) {
            owner_count.fetch_add(1);
            claim();
            return;
        }
        // Not the owner: the owner may be dead within its lease, or (views read at
        // different moments) see another owner. The r-th ranked claims if nobody has after
        // r graces, so every offer has a claimer, normally the owner at once.
        const auto rank_index = static_cast<std::size_t>(std::find(ranked.begin(), ranked.end(), id) - ranked.begin());
        if (rank_index < ranked.size()) {
            std::weak_ptr<Impl> weak = shared_from_this();
            post(Clock::now() + options.grace * static_cast<int>(rank_index), [weak, ivrid = offer.ivrid, claim] {
                if (auto self = weak.lock()) self->claim_if_unclaimed(ivrid, claim);
            });
        }
    }

    void claimed(const ApiStartEvent& offer) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            sessions[offer.ivrid] = offer.key;
        }
        std::weak_ptr<Impl> weak = shared_from_this();
        post(Clock::now(), [weak, ivrid = offer.ivrid, key = offer.key] {
            if (auto self = weak.lock()) self->register_session(ivrid, key, true);
        });
    }

    void ended(const std::string& ivrid) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (sessions.erase(ivrid) == 0) return;
        }
        std::weak_ptr<Impl> weak = shared_from_this();
        post(Clock::now(), [weak, ivrid] {
            if (auto self = weak.lock()) self->deregister_session(ivrid);
        });
    }

    // ---- the coordinator's thread from here on

    void run() {
        redis = std::make_unique<detail::RedisConnection>(address, options.redis_timeout);
        const auto interval = std::max(options.lease_ttl / 3, std::chrono::milliseconds(100));
        auto next_tick = Clock::now();
        std::unique_lock<std::mutex> lock(mutex);
        while (!stopping) {
            const auto now = Clock::now();
            if (!tasks.empty() && tasks.begin()->first <= now) {
                auto task = std::move(tasks.begin()->second);
                tasks.erase(tasks.begin());
                lock.unlock();
                task();
                lock.lock();
                continue;
            }
            if (now >= next_tick) {
                lock.unlock();
                tick();
                lock.lock();
                next_tick = Clock::now() + interval;
                continue;
            }
            auto wake = next_tick;
            if (!tasks.empty()) wake = std::min(wake, tasks.begin()->first);
            cv.wait_until(lock, wake);
        }
        const bool idle = sessions.empty();
        lock.unlock();
        // A clean leave: with no session left, others stop routing offers here at once;
        // otherwise the lease runs out and the survivors take over what is registered.
        if (idle && redis_up.load()) {
            call({"DEL", lease_key(id)});
            call({"SREM", members_key(), id});
        }
        redis.reset();
    }

    // One Redis command; nullopt (logged, counted) when it failed.
    std::optional<RedisReply> call(const std::vector<std::string>& argv) {
        std::string error;
        const bool was_connected = redis->connected();
        auto r = redis->command(argv, error);
        // A connection broken since the last command (e.g. Redis restarted): one retry on
        // a fresh connection before calling Redis down.
        if (!r && was_connected) r = redis->command(argv, error);
        if (!r) {
            redis_errors.fetch_add(1);
            need_resync = true;
            // Said when Redis goes down, and on the first failure of a replica that never
            // reached it (a wrong host or password must not go unmentioned).
            if (redis_up.exchange(false) || !down_said) {
                std::size_t held = 0;
                {
                    std::lock_guard<std::mutex> lock(mutex);
                    held = sessions.size();
                }
                down_said =
                    log(LogLevel::warn, "Redis unreachable (" + error + "): keeping our " + std::to_string(held) +
                                            " calls; claiming offers by the fallback (" +
                                            (options.fallback == Fallback::claim_all ? "claim all" : "own shard") +
                                            ") until it is back");
            }
            return std::nullopt;
        }
        if (r->is_error()) {
            redis_errors.fetch_add(1);
            log(LogLevel::warn, "Redis refused " + argv[0] + ": " + r->text);
            return std::nullopt;
        }
        return r;
    }

    void bad_entry(const std::string& what) {
        bad_entries.fetch_add(1);
        if (complained.insert(what).second) log(LogLevel::warn, "malformed data in Redis, skipped: " + what);
    }

    void claim_if_unclaimed(const std::string& ivrid, const std::function<void()>& claim) {
        auto r = call({"EVAL", kBackupClaim, "2", session_key(ivrid), claiming_key(ivrid), id,
                       std::to_string(options.grace.count())});
        if (!r) {
            // Redis just went away: the owner (alive a moment ago) has it most likely.
            if (view_fresh()) return;
            if (fallback_claims(ivrid)) {
                fallback_count.fetch_add(1);
                claim();
            }
            return;
        }
        if (r->type == RedisReply::Type::integer && r->integer == 1) {
            backup_count.fetch_add(1);
            log(LogLevel::info, "offer " + ivrid + " unclaimed after the grace: claiming it as a backup");
            claim();
        }
    }

    // True when recorded as ours; false when Redis failed or (without force) another
    // replica owns it.
    bool register_session(const std::string& ivrid, const std::string& key, bool force) {
        auto r = call({"EVAL", kRegister, "2", session_key(ivrid), owned_key(id), id, key, std::to_string(now_ms()),
                       ivrid, prefix, force ? "1" : "0"});
        if (!r) return false;
        if (r->type == RedisReply::Type::string) {
            log(LogLevel::warn, "session " + ivrid + " is registered to replica " + r->text +
                                    " (taken over while our lease had lapsed?): not re-registering it");
            return false;
        }
        return true;
    }

    void deregister_session(const std::string& ivrid) {
        call({"EVAL", kDeregister, "2", session_key(ivrid), owned_key(id), id, ivrid, std::to_string(now_ms()),
              std::to_string(kTombstone.count())});
    }

    void tick() {
        std::shared_ptr<CoordinatedClient> c;
        {
            std::lock_guard<std::mutex> lock(mutex);
            c = client;
        }
        const std::size_t weight = c ? published_weight(c->free_capacity(), c->capacity()) : 0;
        auto lease = call(
            {"SET", lease_key(id), std::to_string(weight), "PX", std::to_string(options.lease_ttl.count()), "GET"});
        if (!lease) return;
        if (!call({"SADD", members_key(), id})) return;
        down_said = false;
        if (!redis_up.exchange(true)) {
            log(LogLevel::info, std::string(ticks_ok == 0 ? "joined" : "Redis reachable again") + " (lease " +
                                    std::to_string(options.lease_ttl.count()) + " ms)");
        }
        ++ticks_ok;
        if (lease->is_nil() || need_resync) {
            const bool lapsed = lease->is_nil() && ticks_ok > 1;
            // Redis lost every lease (a restart): for one lease the others may not have
            // re-registered yet, so the previous view still counts for claiming.
            if (lapsed) sticky_until = Clock::now() + options.lease_ttl;
            resync(lapsed);
        }
        refresh_and_take_over();
    }

    // Re-registers every session of ours (after Redis came back or our lease lapsed)
    // and removes entries of sessions that ended meanwhile.
    void resync(bool lease_lapsed) {
        std::unordered_map<std::string, std::string> ours;
        {
            std::lock_guard<std::mutex> lock(mutex);
            ours = sessions;
        }
        if (lease_lapsed || ticks_ok > 1) {
            log(LogLevel::info, "resynchronising: re-registering " + std::to_string(ours.size()) + " sessions");
        }
        for (const auto& [ivrid, key] : ours) {
            if (!register_session(ivrid, key, false) && !redis_up.load()) return;
        }
        auto owned = call({"SMEMBERS", owned_key(id)});
        if (!owned) return;
        for (const auto& e : owned->elements) {
            if (e.type != RedisReply::Type::string) continue;
            if (!ours.count(e.text)) deregister_session(e.text);
        }
        need_resync = false;
        resyncs.fetch_add(1);
    }

    void refresh_and_take_over() {
        auto ids = call({"SMEMBERS", members_key()});
        if (!ids || ids->type != RedisReply::Type::array) return;
        std::vector<std::string> all;
        for (const auto& e : ids->elements) {
            if (e.type == RedisReply::Type::string && !e.text.empty()) all.push_back(e.text);
        }
        std::vector<std::string> mget{"MGET"};
        for (const auto& m : all) mget.push_back(lease_key(m));
        auto leases = all.empty() ? std::optional<RedisReply>(RedisReply{}) : call(mget);
        if (!leases) return;
        if (!all.empty() && (leases->type != RedisReply::Type::array || leases->elements.size() != all.size())) {
            bad_entry("MGET of the leases returned an unexpected reply");
            return;
        }
        auto alive = std::make_shared<std::vector<Candidate>>();
        std::vector<std::string> dead;
        for (std::size_t i = 0; i < all.size(); ++i) {
            const auto& v = leases->elements[i];
            if (v.is_nil()) {
                dead.push_back(all[i]);
                continue;
            }
            auto capacity = v.type == RedisReply::Type::string ? parse_capacity(v.text) : std::nullopt;
            if (!capacity) bad_entry("lease of " + all[i] + " is not a capacity");
            alive->push_back({all[i], capacity.value_or(1.0)});
        }
        if (std::none_of(alive->begin(), alive->end(), [&](const Candidate& c) { return c.id == id; })) {
            alive->push_back({id, 1.0});
        }
        auto view = std::make_shared<std::vector<Candidate>>(*alive);
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (members && Clock::now() < sticky_until) {
                for (const auto& previous : *members) {
                    const bool listed = std::any_of(view->begin(), view->end(),
                                                    [&](const Candidate& c) { return c.id == previous.id; });
                    if (!listed) view->push_back(previous);
                }
            }
            members = view;
            view_at = Clock::now();
        }
        live_count.store(alive->size());
        for (const auto& d : dead) take_over_from(d, *alive);
    }

    // The survivors split `dead`'s sessions by rendezvous hashing; ours are taken with a
    // compare-and-set, so exactly one replica sends ivrapi_reaccept for each.
    void take_over_from(const std::string& dead, const std::vector<Candidate>& alive) {
        auto owned = call({"SMEMBERS", owned_key(dead)});
        if (!owned || owned->type != RedisReply::Type::array) return;
        if (owned->elements.empty()) {
            auto forgot = call({"EVAL", kForgetMember, "3", lease_key(dead), owned_key(dead), members_key(), dead});
            if (forgot && forgot->integer == 1) log(LogLevel::info, "replica " + dead + " left the cluster");
            return;
        }
        if (announced_dead.insert(dead).second) {
            log(LogLevel::warn, "replica " + dead + "'s lease expired: splitting its " +
                                    std::to_string(owned->elements.size()) + " sessions among " +
                                    std::to_string(alive.size()) + " survivors");
        }
        std::shared_ptr<CoordinatedClient> c;
        {
            std::lock_guard<std::mutex> lock(mutex);
            c = client;
        }
        if (!c) return;
        for (const auto& e : owned->elements) {
            if (e.type != RedisReply::Type::string || e.text.empty()) {
                bad_entry("a member of " + owned_key(dead) + " is not an ivrid");
                continue;
            }
            const std::string& ivrid = e.text;
            if (taking.count(ivrid)) continue;
            const auto ranked = detail::rank(ivrid, alive);
            if (ranked.empty() || ranked[0] != id) continue;
            auto key = call({"EVAL", kTakeOver, "3", session_key(ivrid), owned_key(dead), owned_key(id), dead, id,
                             std::to_string(now_ms()), ivrid});
            if (!key || key->is_nil()) continue;  // another survivor won, or the session is gone
            if (key->type != RedisReply::Type::string || key->text.empty()) {
                bad_entry("session " + ivrid + " has no key");
                deregister_session(ivrid);
                continue;
            }
            taking.insert(ivrid);
            {
                std::lock_guard<std::mutex> lock(mutex);
                sessions[ivrid] = key->text;
            }
            std::string line = "taking over session ";
            line.append(ivrid).append(" from replica ").append(dead);
            log(LogLevel::info, line);
            std::weak_ptr<Impl> weak = shared_from_this();
            c->take_over(ivrid, key->text, dead, [weak, ivrid](bool taken) {
                auto self = weak.lock();
                if (!self) return;
                self->post(Clock::now(), [weak, ivrid, taken] {
                    auto me = weak.lock();
                    if (!me) return;
                    me->taking.erase(ivrid);
                    if (taken) {
                        me->takeovers.fetch_add(1);
                        return;
                    }
                    me->takeover_failures.fetch_add(1);
                    me->ended(ivrid);
                });
            });
        }
    }

    const Redis options;
    detail::RedisAddress address;
    std::string id;
    std::string prefix;

    mutable std::mutex mutex;
    std::condition_variable cv;
    // Under mutex:
    std::shared_ptr<CoordinatedClient> client;
    bool stopping = false;
    std::thread thread;
    std::multimap<Clock::time_point, std::function<void()>> tasks;
    std::unordered_map<std::string, std::string> sessions;  // ours: ivrid -> key
    std::shared_ptr<const std::vector<Candidate>> members;  // the latest live view
    Clock::time_point view_at{};                            // when it was read

    // The coordinator's thread only:
    std::unique_ptr<detail::RedisConnection> redis;
    bool need_resync = true;
    std::uint64_t ticks_ok = 0;
    bool down_said = false;                          // "Redis unreachable" logged since it was last reachable
    Clock::time_point sticky_until{};                // after a Redis restart: keep the previous view until then
    std::unordered_set<std::string> taking;          // takeovers in flight
    std::unordered_set<std::string> announced_dead;  // logged once each
    std::unordered_set<std::string> complained;      // malformed entries logged once each

    std::atomic<bool> redis_up{false};
    std::atomic<std::size_t> live_count{0};
    std::atomic<std::uint64_t> takeovers{0}, takeover_failures{0}, owner_count{0}, backup_count{0}, fallback_count{0},
        redis_errors{0}, bad_entries{0}, resyncs{0};
};

RedisCoordinator::RedisCoordinator(Redis options) : impl_(std::make_shared<Impl>(std::move(options))) {}
RedisCoordinator::~RedisCoordinator() { impl_->stop(); }

const std::string& RedisCoordinator::replica_id() const { return impl_->id; }

RedisStats RedisCoordinator::stats() const {
    RedisStats s;
    s.redis_up = impl_->redis_up.load();
    s.live_replicas = impl_->live_count.load();
    s.takeovers = impl_->takeovers.load();
    s.takeover_failures = impl_->takeover_failures.load();
    s.owner_claims = impl_->owner_count.load();
    s.backup_claims = impl_->backup_count.load();
    s.fallback_claims = impl_->fallback_count.load();
    s.redis_errors = impl_->redis_errors.load();
    s.bad_entries = impl_->bad_entries.load();
    s.resyncs = impl_->resyncs.load();
    return s;
}

void RedisCoordinator::start(std::shared_ptr<CoordinatedClient> client) { impl_->start(std::move(client)); }
void RedisCoordinator::stop() { impl_->stop(); }
void RedisCoordinator::offered(const ApiStartEvent& offer, std::function<void()> claim) {
    impl_->offered(offer, claim);
}
void RedisCoordinator::claimed(const ApiStartEvent& offer) { impl_->claimed(offer); }
void RedisCoordinator::ended(const std::string& ivrid) { impl_->ended(ivrid); }

Redis::operator std::shared_ptr<ClaimCoordinator>() const { return std::make_shared<RedisCoordinator>(*this); }

}  // namespace ivrapi::cluster
