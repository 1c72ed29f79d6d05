// ClaimCoordinator: the hook through which several processes serving the same offers
// agree on who claims what and who takes over the calls of a process that died.
//
// The core only calls this interface; an implementation lives in another library (the
// optional ivrapi::cluster target, <ivrapi/cluster.hpp>, on Redis), so the core depends
// on no coordination engine. Set one in ServeOptions::cluster. docs/scaling.md has the
// design.
#pragma once

#include <ivrapi/events.hpp>
#include <ivrapi/options.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace ivrapi {

// What a coordinator may ask of the client that serves with it. Every method is
// thread-safe and returns at once (work goes to the client's I/O thread).
class CoordinatedClient {
public:
    virtual ~CoordinatedClient() = default;

    // Takes control of a session that another connection controls (ivrapi_reaccept),
    // then runs ServeOptions::on_takeover on it (default: hand it back to its script).
    // `done(true)` once control is ours, `done(false)` when it could not be taken (the
    // session ended, the platform refused, the client is stopping). `from` names the
    // previous controller, for logs and the handler.
    virtual void take_over(const std::string& ivrid, const std::string& key, const std::string& from,
                           std::function<void(bool taken)> done) = 0;
    // Sessions this client could still take on now (its claim limit minus those it runs).
    virtual std::size_t free_capacity() const = 0;
    // Its claim limit (ServeOptions::max_concurrent or workers; SIZE_MAX for claim() without one).
    virtual std::size_t capacity() const = 0;
    // The static shard of ServeOptions, for a coordinator that falls back to it.
    virtual std::uint32_t shard_index() const = 0;
    virtual std::uint32_t shard_count() const = 0;
    // The client's log sink (level-filtered).
    virtual void log(LogLevel level, const std::string& line) const = 0;
};

// Decides which offers this process claims and when it takes over sessions. Its
// methods are called on the client's I/O thread and must return at once: any I/O of
// the coordinator runs on a thread of its own.
class ClaimCoordinator {
public:
    virtual ~ClaimCoordinator() = default;

    // Client::serve() / claim() starts with this coordinator. `client` stays usable
    // until stop() (its calls do nothing once the client is gone).
    virtual void start(std::shared_ptr<CoordinatedClient> client) = 0;
    // The client stops: no more calls into `client`; release what the coordinator holds.
    virtual void stop() = 0;
    // An offer passed ServeOptions::filter. Call `claim` (from any thread, at most once)
    // when this process should accept it; never calling it leaves it to the others.
    virtual void offered(const ApiStartEvent& offer, std::function<void()> claim) = 0;
    // This client won the accept of `offer`: the session is now ours.
    virtual void claimed(const ApiStartEvent& offer) = 0;
    // A session of this client ended (api_stop, handed back, lost).
    virtual void ended(const std::string& ivrid) = 0;
};

}  // namespace ivrapi
