// Walks the session transition table of docs/design.md: every state, every input.
// Each row brings a fresh core to a state, applies one input, and checks the phase
// it lands in and what went on the wire. Inputs that cannot happen in a state (a
// frame while the link is down) are listed as such and skipped.
#include "client/core_harness.hpp"

using namespace ivrapi;
using namespace ivrapi::test;
using namespace std::chrono_literals;
using detail::SessionPhase;

namespace {

enum class Input {
    reply_ok,       // the platform answers the claim in flight (accept / reaccept / abort) "ok"
    reply_error,    // ... with an error
    timeout,        // request_timeout passes
    link_down,      // the link drops
    link_up,        // the link comes back
    api_start,      // another api_start for the same dialog
    api_stop,       // the platform ends control
    stopped_event,  // ivrapi_component_stopped naming the session (nothing runs)
    user_apply,     // Session::apply
    user_abort,     // Session::abort
    client_stop,    // Client::stop
};

const char* name(Input i) {
    switch (i) {
        case Input::reply_ok: return "reply ok";
        case Input::reply_error: return "reply error";
        case Input::timeout: return "timeout";
        case Input::link_down: return "link down";
        case Input::link_up: return "link up";
        case Input::api_start: return "api_start";
        case Input::api_stop: return "api_stop";
        case Input::stopped_event: return "stopped event";
        case Input::user_apply: return "apply";
        case Input::user_abort: return "abort";
        case Input::client_stop: return "stop";
    }
    return "?";
}

struct Walk {
    CoreHarness h{options()};
    Session session;
    Got<Session> accepted;
    Got<ComponentStopped> applied;
    Got<void> aborted;
    std::string claim;  // the claim request in flight, if any
    bool link_up = true;

    static ClientOptions options() {
        ClientOptions o = quick_reconnect();
        o.request_timeout = 1000ms;
        return o;
    }
    SessionPhase phase() { return h.core->phase_of("ivr-1"); }

    void to(SessionPhase p) {
        h.connect_ready();
        switch (p) {
            case SessionPhase::accepting:
            case SessionPhase::accept_unknown:
                h.receive(api_start("ivr-1"));
                h.offers.back().accept(accepted.cb());
                h.loop.run_ready();
                claim = "ivrapi_accept";
                if (p == SessionPhase::accept_unknown) drop();
                break;
            case SessionPhase::controlled: session = h.claim("ivr-1"); break;
            case SessionPhase::detached:
                session = h.claim("ivr-1");
                drop();
                break;
            case SessionPhase::reclaiming:
                session = h.claim("ivr-1");
                drop();
                reopen();
                claim = "ivrapi_reaccept";
                break;
            case SessionPhase::aborting:
                session = h.claim("ivr-1");
                session.abort(aborted.cb());
                h.loop.run_ready();
                claim = "ivrapi_abort";
                break;
            case SessionPhase::ended:
                session = h.claim("ivr-1");
                h.receive(api_stop("ivr-1"));
                break;
        }
        REQUIRE(phase() == p);
    }
    void drop() {
        h.transport.drop(Error(Errc::connection_lost, "reset"));
        h.loop.run_ready();
        link_up = false;
        claim.clear();
    }
    void reopen() {
        h.loop.advance(10ms);
        h.transport.open();
        h.loop.run_ready();
        link_up = true;
    }

    // False when the input cannot happen in this state.
    bool apply(Input in) {
        switch (in) {
            case Input::reply_ok:
            case Input::reply_error:
                if (!link_up) return false;
                if (claim.empty()) {
                    h.reply("ivrapi_accept", 424242);  // no such request: dropped
                } else {
                    h.answer(claim,
                             in == Input::reply_ok ? R"("result":"ok")" : R"("result":"error","reason":"refused")");
                }
                return true;
            case Input::timeout: h.loop.advance(h.options.request_timeout + 1ms); return true;
            case Input::link_down:
                if (link_up) drop();
                return true;
            case Input::link_up:
                if (!link_up) reopen();
                return true;
            case Input::api_start:
                if (!link_up) return false;
                h.receive(api_start("ivr-1", "k", 5555));
                return true;
            case Input::api_stop:
                if (!link_up) return false;
                h.receive(api_stop("ivr-1"));
                return true;
            case Input::stopped_event:
                if (!link_up) return false;
                h.receive(R"(["ivrapi_component_stopped",{"ivrid":"ivr-1","oId":777,"transferKey":"transfer"}])");
                return true;
            case Input::user_apply:
                if (!session) return false;  // no Session handle before the accept completes
                session.apply(Hangup{}, applied.cb());
                h.loop.run_ready();
                return true;
            case Input::user_abort:
                if (!session) return false;
                session.abort(aborted.cb());
                h.loop.run_ready();
                return true;
            case Input::client_stop:
                h.core->stop();
                h.loop.run_ready();
                return true;
        }
        return false;
    }
};

struct Row {
    SessionPhase from;
    Input input;
    SessionPhase to;
    // Extra checks on the wire and on completions (may be empty).
    std::function<void(Walk&)> check;
};

void accept_done(Walk& w, std::optional<Errc> error) {
    REQUIRE(w.accepted.value);
    if (error) CHECK(w.accepted.value->error().is(*error));
    else CHECK(w.accepted.value->ok());
}
void apply_failed(Walk& w, Errc e) {
    REQUIRE(w.applied.value);
    CHECK(w.applied.value->error().is(e));
}
void abort_done(Walk& w, std::optional<Errc> error) {
    REQUIRE(w.aborted.value);
    if (error) CHECK(w.aborted.value->error().is(*error));
    else CHECK(w.aborted.value->ok());
}

using P = SessionPhase;
using I = Input;

const std::vector<Row>& table() {
    static const std::vector<Row> rows = {
        // accepting: ivrapi_accept in flight
        {P::accepting, I::reply_ok, P::controlled, [](Walk& w) { accept_done(w, std::nullopt); }},
        {P::accepting, I::reply_error, P::ended, [](Walk& w) { accept_done(w, Errc::server_error); }},
        {P::accepting, I::timeout, P::accepting, [](Walk& w) { accept_done(w, Errc::timeout); }},
        {P::accepting, I::link_down, P::accept_unknown, [](Walk& w) { CHECK_FALSE(w.accepted.value); }},
        {P::accepting, I::link_up, P::accepting, {}},
        {P::accepting, I::api_start, P::accepting, {}},
        {P::accepting, I::api_stop, P::ended, [](Walk& w) { accept_done(w, Errc::session_ended); }},
        {P::accepting, I::stopped_event, P::accepting, {}},
        {P::accepting, I::client_stop, P::ended, [](Walk& w) { accept_done(w, Errc::stopped); }},
        // accept_unknown: the link dropped before the accept's reply
        {P::accept_unknown, I::timeout, P::accept_unknown, [](Walk& w) { accept_done(w, Errc::connection_lost); }},
        {P::accept_unknown, I::link_down, P::accept_unknown, {}},
        {P::accept_unknown, I::link_up, P::accepting,
         [](Walk& w) {
             CHECK(w.h.count("ivrapi_accept") == 2);    // asked again as an accept,
             CHECK(w.h.count("ivrapi_reaccept") == 0);  // never as a reaccept
         }},
        {P::accept_unknown, I::client_stop, P::ended, [](Walk& w) { accept_done(w, Errc::stopped); }},
        // controlled
        {P::controlled, I::reply_ok, P::controlled, {}},
        {P::controlled, I::reply_error, P::controlled, {}},
        {P::controlled, I::timeout, P::controlled, {}},
        {P::controlled, I::link_down, P::detached, {}},
        {P::controlled, I::link_up, P::controlled, {}},
        {P::controlled, I::api_start, P::controlled, {}},
        {P::controlled, I::api_stop, P::ended, [](Walk& w) { CHECK(w.session.ended()); }},
        {P::controlled, I::stopped_event, P::controlled, {}},
        {P::controlled, I::user_apply, P::controlled,
         [](Walk& w) {
             CHECK(w.h.count("ivrapi_component_apply") == 1);
             CHECK_FALSE(w.applied.value);
         }},
        {P::controlled, I::user_abort, P::aborting, [](Walk& w) { CHECK(w.h.count("ivrapi_abort") == 1); }},
        // stop() hands the session back before it closes
        {P::controlled, I::client_stop, P::aborting, [](Walk& w) { CHECK(w.h.count("ivrapi_abort") == 1); }},
        // detached: ours, link down
        {P::detached, I::timeout, P::detached, {}},
        {P::detached, I::link_down, P::detached, {}},
        {P::detached, I::link_up, P::reclaiming, [](Walk& w) { CHECK(w.h.count("ivrapi_reaccept") == 1); }},
        {P::detached, I::user_apply, P::detached,
         [](Walk& w) {
             CHECK_FALSE(w.applied.value);  // held: sent after the re-claim
             CHECK(w.h.count("ivrapi_component_apply") == 0);
         }},
        {P::detached, I::user_abort, P::detached,
         [](Walk& w) {
             CHECK_FALSE(w.aborted.value);  // held until the session is re-claimed
             CHECK(w.h.count("ivrapi_abort") == 0);
         }},
        {P::detached, I::client_stop, P::ended, {}},
        // reclaiming: ivrapi_reaccept in flight
        {P::reclaiming, I::reply_ok, P::controlled, {}},
        {P::reclaiming, I::reply_error, P::ended, [](Walk& w) { CHECK(w.session.ended()); }},
        {P::reclaiming, I::timeout, P::reclaiming, [](Walk& w) { CHECK(w.h.count("ivrapi_reaccept") == 2); }},
        {P::reclaiming, I::link_down, P::detached, {}},
        {P::reclaiming, I::link_up, P::reclaiming, {}},
        {P::reclaiming, I::api_start, P::reclaiming, {}},
        {P::reclaiming, I::api_stop, P::ended, {}},
        {P::reclaiming, I::stopped_event, P::reclaiming, {}},
        {P::reclaiming, I::user_apply, P::reclaiming,
         [](Walk& w) {
             CHECK_FALSE(w.applied.value);
             CHECK(w.h.count("ivrapi_component_apply") == 0);
         }},
        {P::reclaiming, I::user_abort, P::reclaiming, [](Walk& w) { CHECK(w.h.count("ivrapi_abort") == 0); }},
        {P::reclaiming, I::client_stop, P::ended, {}},
        // aborting: ivrapi_abort in flight
        {P::aborting, I::reply_ok, P::ended, [](Walk& w) { abort_done(w, std::nullopt); }},
        {P::aborting, I::reply_error, P::controlled, [](Walk& w) { abort_done(w, Errc::server_error); }},
        {P::aborting, I::timeout, P::aborting, [](Walk& w) { CHECK(w.h.count("ivrapi_abort") == 2); }},
        {P::aborting, I::link_down, P::detached, [](Walk& w) { CHECK_FALSE(w.aborted.value); }},
        {P::aborting, I::link_up, P::aborting, {}},
        {P::aborting, I::api_start, P::aborting, {}},
        {P::aborting, I::api_stop, P::ended, [](Walk& w) { abort_done(w, std::nullopt); }},
        {P::aborting, I::stopped_event, P::aborting, {}},
        {P::aborting, I::user_apply, P::aborting, [](Walk& w) { apply_failed(w, Errc::session_ended); }},
        {P::aborting, I::user_abort, P::aborting, [](Walk& w) { CHECK(w.h.count("ivrapi_abort") == 1); }},
        {P::aborting, I::client_stop, P::aborting, [](Walk& w) { CHECK_FALSE(w.aborted.value); }},
        // ended: nothing changes it
        {P::ended, I::reply_ok, P::ended, {}},
        {P::ended, I::reply_error, P::ended, {}},
        {P::ended, I::timeout, P::ended, {}},
        {P::ended, I::link_down, P::ended, {}},
        {P::ended, I::link_up, P::ended, {}},
        {P::ended, I::api_start, P::ended, {}},
        {P::ended, I::api_stop, P::ended, {}},
        {P::ended, I::stopped_event, P::ended, {}},
        {P::ended, I::user_apply, P::ended, [](Walk& w) { apply_failed(w, Errc::session_ended); }},
        {P::ended, I::user_abort, P::ended, [](Walk& w) { abort_done(w, Errc::session_ended); }},
        {P::ended, I::client_stop, P::ended, {}},
    };
    return rows;
}

}  // namespace

TEST_CASE("session table: every state and every input") {
    const auto& rows = table();
    for (const auto& row : rows) {
        DYNAMIC_SECTION(detail::to_string(row.from) << " + " << name(row.input)) {
            Walk w;
            w.to(row.from);
            if (!w.apply(row.input)) {
                WARN("not possible in this state");  // a frame while the link is down
                continue;
            }
            CHECK(detail::to_string(w.phase()) == std::string(detail::to_string(row.to)));
            if (row.check) row.check(w);
        }
    }
}

TEST_CASE("session table: every state has a row for every input that can happen in it") {
    const auto& rows = table();
    for (auto from :
         {P::accepting, P::accept_unknown, P::controlled, P::detached, P::reclaiming, P::aborting, P::ended}) {
        for (int i = 0; i <= static_cast<int>(Input::client_stop); ++i) {
            const auto in = static_cast<Input>(i);
            const bool listed =
                std::any_of(rows.begin(), rows.end(), [&](const Row& r) { return r.from == from && r.input == in; });
            if (listed) continue;
            // Unlisted only where the input cannot happen: frames with the link down,
            // Session calls before a Session exists.
            Walk w;
            w.to(from);
            INFO(detail::to_string(from) << " + " << name(in));
            CHECK_FALSE(w.apply(in));
        }
    }
}
