// ivrapi::mock::Replay: plays the platform's side of a recorded call (a cassette written
// with ClientOptions::capture, docs/cassette.md) against your bot, and checks the bot's
// requests against the recorded ones.
//
// It listens like the mock Server (127.0.0.1, ephemeral port). Each request the bot
// sends is matched with the next recorded request by name and content; what legitimately
// differs between runs is remapped (qid, oId, subscription id, key, ivrid, timestamps).
// After a match, the frames the platform sent after that request are sent again with
// the recorded delays divided by `speed`; a link drop in the recording drops the link.
// The first divergence stops the replay and is reported with both frames.
//
// Public header: includes no websocketpp / Asio / RapidJSON header.
#pragma once

#include <ivrapi/options.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ivrapi::mock {

// How a cassette is replayed.
struct ReplayOptions {
    std::string ivrid;        // the recorded call to replay; empty: the cassette's only one
    std::string offer_ivrid;  // offer it under this ivrid instead of the recorded one
    double speed = 1.0;       // recorded delays are divided by this (> 0)
    std::string token;        // the token to accept; empty: any
    std::uint16_t port = 0;   // 0 = ephemeral; always 127.0.0.1
    // Request fields not compared, as dotted paths ("data.url" for an upload URL whose
    // port changes between runs).
    std::vector<std::string> ignore_fields;
    // One line per event (match, divergence, connection); from the replay's thread.
    std::function<void(const std::string&)> log;
};

// The outcome of a replay.
struct ReplayReport {
    bool passed = false;         // every recorded request matched, every frame sent
    bool diverged = false;       // the bot sent something else than the recording
    std::size_t steps = 0;       // recorded requests of the replayed call
    std::size_t matched = 0;     // recorded requests the bot sent as recorded
    std::string divergence;      // "step 4: expected ivrapi_component_apply oType 204 ..., got oType 208 ..."
    std::string expected_frame;  // the recorded request (remapped), when there is one
    std::string got_frame;       // what the bot sent ("" when it sent nothing)
    // One readable paragraph: the verdict, then both frames.
    std::string to_string() const;
};

// Plays the platform's side of a recorded call and checks the bot's requests.
class Replay {
public:
    // Reads the cassette and starts listening. Throws std::runtime_error naming the
    // file and line of a malformed cassette, or an option that does not fit it.
    explicit Replay(const std::string& cassette_file, const ReplayOptions& options = {});
    // The same from the cassette's text.
    static std::unique_ptr<Replay> from_text(const std::string& cassette_text, const ReplayOptions& options = {});
    ~Replay();
    Replay(const Replay&) = delete;
    Replay& operator=(const Replay&) = delete;

    std::string url() const;     // ws://127.0.0.1:PORT/ws/token/v1
    std::uint16_t port() const;  // the listening port
    // Options for a Client of this replay (url, a token it accepts, quick reconnects).
    ClientOptions client_options() const;
    const std::string& ivrid() const;  // the ivrid the call is offered under

    // Waits until the replay passed or diverged; after `timeout` the report names the
    // step the bot did not reach.
    ReplayReport wait(std::chrono::milliseconds timeout);
    ReplayReport report() const;  // now, without waiting
    void stop();                  // idempotent; the destructor calls it

private:
    struct Impl;
    Replay(std::shared_ptr<Impl> impl);
    std::shared_ptr<Impl> impl_;
};

}  // namespace ivrapi::mock
