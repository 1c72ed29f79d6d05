// Capture a call against the mock platform, replay it against the bot: the voicemail
// example passes, a bot that skips the greeting is caught at that step, a link drop with
// a re-claim replays too, and bad cassettes give clear errors.
#include "voicemail/voicemail.hpp"

#include <ivrapi/ivrapi.hpp>
#include <ivrapi/mock/replay.hpp>
#include <ivrapi/mock/server.hpp>

#include <catch2/catch.hpp>

#include <ivrapi/mock/replay_catch2.hpp>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>

#include <unistd.h>

using namespace ivrapi;
using namespace std::chrono_literals;

namespace {

// Per process: CTest runs the test cases in parallel.
std::string cassette_path(const std::string& name) {
    return std::string(IVRAPI_TEST_BINARY_DIR) + "/" + std::to_string(::getpid()) + "-" + name;
}

// The voicemail bot under serve(); the test thread waits for its results. Declare it
// before the Client: the client (whose workers run the bot) must go first.
class VoicemailBot {
public:
    VoicemailBot() : transcript_(text_) {}
    void attach(Client& client, examples::VoicemailConfig config = {}) {
        ServeOptions serve;
        serve.workers = 1;
        client.serve(
            [this, config](Session& call) {
                auto r = examples::leave_voicemail(call, config, transcript_);
                std::lock_guard<std::mutex> lock(mutex_);
                results_.push_back(r);
                cv_.notify_all();
            },
            serve);
    }
    // The first session's result, within a bound.
    std::optional<examples::VoicemailResult> first(std::chrono::milliseconds timeout) {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!cv_.wait_for(lock, timeout, [&] { return !results_.empty(); })) return std::nullopt;
        return results_.front();
    }

private:
    std::ostringstream text_;
    examples::Transcript transcript_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<examples::VoicemailResult> results_;
};

mock::ServerOptions quick_platform() {
    mock::ServerOptions o;
    o.default_play_duration = 300ms;
    o.record_duration = 5s;  // the caller's '#' ends the recording first
    return o;
}

// Runs the voicemail bot on one call of the mock platform, capturing into `file`.
// `during_record` runs once the recording component is running.
examples::VoicemailResult capture_voicemail(const std::string& file,
                                            std::function<void(mock::Server&)> during_record = {}) {
    mock::Server server(quick_platform());
    ClientOptions o;
    o.url = server.url();
    o.token = server.options().token;
    o.reconnect.initial_delay = 50ms;
    o.reconnect.max_delay = 200ms;
    o.capture.file = file;
    VoicemailBot bot;
    Client client(o);
    bot.attach(client);
    REQUIRE(client.wait_ready(10s));
    mock::CallOptions caller;
    caller.state = mock::CallState::incoming;
    caller.caller_dtmf = {{1200ms, "#"}};  // after the greeting and some speech
    auto call = server.start_call(caller);
    if (during_record) {
        REQUIRE(server.wait_for(
            [&](const mock::Server&) {
                auto c = call.components();
                return !c.empty() && c.back().o_type == 208 && c.back().running;
            },
            10s));
        during_record(server);
    }
    REQUIRE(call.wait_ended(15s));
    auto result = bot.first(10s);
    REQUIRE(result);
    client.stop();
    return *result;
}

struct Recorded {
    std::string file;
    examples::VoicemailResult result;
};

const Recorded& voicemail_cassette() {
    static const Recorded r = [] {
        Recorded out;
        out.file = cassette_path("voicemail.cassette");
        out.result = capture_voicemail(out.file);
        return out;
    }();
    return r;
}

}  // namespace

TEST_CASE("mock replay: the captured voicemail demo replays against the same bot") {
    const auto& recorded = voicemail_cassette();
    REQUIRE(recorded.result.recorded);

    mock::ReplayOptions ro;
    ro.speed = 2;  // recorded delays halved
    mock::Replay replay(recorded.file, ro);
    VoicemailBot bot;
    Client client(replay.client_options());
    bot.attach(client);
    IVRAPI_REQUIRE_REPLAY(replay, 20s);
    auto report = replay.report();
    CHECK(report.matched == report.steps);
    CHECK(report.steps >= 8);
    auto result = bot.first(10s);
    REQUIRE(result);
    // The bot got the recorded platform answers: the same recording path and link (on
    // the replay's host).
    CHECK(result->recording == recorded.result.recording);
    const auto path_of = [](const std::string& url) { return url.substr(url.find("/temp/")); };
    CHECK(result->link == "http://127.0.0.1:" + std::to_string(replay.port()) + path_of(recorded.result.link));
}

TEST_CASE("mock replay: a bot that skips the greeting is reported at that step, with both frames") {
    const auto& recorded = voicemail_cassette();
    mock::Replay replay(recorded.file);
    VoicemailBot bot;
    Client client(replay.client_options());
    examples::VoicemailConfig no_greeting;
    no_greeting.greeting.clear();
    bot.attach(client, no_greeting);
    auto report = replay.wait(20s);
    INFO(report.to_string());
    CHECK_FALSE(report.passed);
    CHECK(report.diverged);
    // connection_info, subscribe, accept, SIP answer, then the greeting.
    CHECK(report.divergence ==
          "step 5: expected ivrapi_component_apply oType 204 file ':GS_PUB/prompts/leave-a-message.wav', "
          "got oType 208 interruptSymbols '#' recTimeSec '30'");
    CHECK(report.matched == 4);
    CHECK(report.expected_frame.find("\"oType\":204") != std::string::npos);
    CHECK(report.got_frame.find("\"oType\":208") != std::string::npos);
    CHECK(report.to_string().find("expected: [\"ivrapi_component_apply\"") != std::string::npos);
}

TEST_CASE("mock replay: a cassette with a link drop and a re-claim replays") {
    const std::string file = cassette_path("voicemail-drop.cassette");
    auto recorded = capture_voicemail(file, [](mock::Server& server) { server.drop_connections(); });
    REQUIRE(recorded.recorded);
    {
        std::ifstream in(file);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        REQUIRE(text.find("ivrapi_reaccept") != std::string::npos);
        REQUIRE(text.find("\"by\":\"link\"") != std::string::npos);
    }
    mock::Replay replay(file);
    VoicemailBot bot;
    Client client(replay.client_options());
    bot.attach(client);
    IVRAPI_REQUIRE_REPLAY(replay, 20s);
    auto result = bot.first(10s);
    REQUIRE(result);
    CHECK(result->recording == recorded.recording);
    CHECK(client.stats().reconnects >= 1);
}

TEST_CASE("mock replay: the call can be offered under another ivrid") {
    const auto& recorded = voicemail_cassette();
    mock::ReplayOptions ro;
    ro.offer_ivrid = "rDlg-replayed-7";
    ro.speed = 4;
    mock::Replay replay(recorded.file, ro);
    CHECK(replay.ivrid() == "rDlg-replayed-7");
    Client client(replay.client_options());
    std::mutex m;
    std::vector<std::string> offered;
    client.on_offer([&](Offer o) {
        {
            std::lock_guard<std::mutex> lock(m);
            offered.push_back(o.ivrid());
        }
        o.accept([](Result<Session>) {});
    });
    client.start();
    // Only the accept matches; the rest of the bot's recorded steps never come.
    auto report = replay.wait(3s);
    CHECK(report.matched == 3);
    CHECK(report.divergence.find("step 4: expected ivrapi_component_apply oType 202") == 0);
    CHECK(report.divergence.find("got nothing within 3000 ms") != std::string::npos);
    std::lock_guard<std::mutex> lock(m);
    REQUIRE(offered.size() == 1);
    CHECK(offered[0] == "rDlg-replayed-7");
}

TEST_CASE("mock replay: malformed cassettes and bad options are clear errors") {
    auto error_of = [](const std::string& text, mock::ReplayOptions o = {}) {
        try {
            mock::Replay::from_text(text, o);
        } catch (const std::runtime_error& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    CHECK(error_of("") == "cassette (text): empty (no header line)");
    CHECK(error_of("not json\n").find("line 1: not JSON") != std::string::npos);
    CHECK(error_of("{\"cassette\":\"ivrapi\",\"version\":9}\n") ==
          "cassette (text) line 1: version 9 is not supported (this build reads 1)");
    const std::string header = "{\"cassette\":\"ivrapi\",\"version\":1}\n";
    CHECK(error_of(header + "{\"t\":1,\"gen\":1,\"ev\":\"out\"}\n") ==
          "cassette (text) line 2: \"out\" without a string \"frame\"");
    CHECK(error_of(header + "{\"gen\":1,\"ev\":\"open\"}\n") == "cassette (text) line 2: no numeric \"t\"");
    CHECK(error_of(header) == "cassette (text): no request of the bot to replay");
    const std::string one =
        header + "{\"t\":1,\"gen\":1,\"ev\":\"out\",\"frame\":\"[\\\"connection_info\\\",{\\\"qid\\\":1}]\"}\n";
    mock::ReplayOptions slow;
    slow.speed = 0;
    CHECK(error_of(one, slow) == "replay speed must be a number > 0");
    mock::ReplayOptions other;
    other.ivrid = "nope";
    CHECK(error_of(one, other) == "cassette (text): no claimed call nope (claimed: none)");
    CHECK(error_of(one) == "(no error)");
    CHECK_THROWS_WITH(mock::Replay("/nonexistent.cassette"), "cannot read cassette /nonexistent.cassette");
}
