// voicemail: answers, plays a greeting, records until # or 30 s, prints the
// recording's link, hangs up.
//
//   voicemail --demo                              the whole SDK at work on an embedded
//                                                 mock platform with a simulated caller
//   ERA_TOKEN=... voicemail wss://HOST/ws/token/v1   a real platform, until Ctrl-C
#include "common/http_get.hpp"
#include "common/client_from_url.hpp"
#include "common/graceful_shutdown.hpp"
#include "voicemail/voicemail.hpp"

#include <ivrapi/mock/server.hpp>

#include <cstdlib>
#include <cstring>
#include <future>
#include <iostream>
#include <memory>

namespace {

using namespace std::chrono_literals;

int run_demo() {
    examples::Transcript log;
    log.text("ivrapi-cpp voicemail demo: the voicemail bot against the embedded mock Era platform");

    // The platform: a simulated caller who is still ringing (state "incoming"), listens
    // to the greeting, speaks, then presses # to finish the message.
    ivrapi::mock::ServerOptions platform;
    platform.play_durations[":GS_PUB/prompts/leave-a-message.wav"] = 1200ms;
    platform.record_duration = 5s;
    platform.default_play_duration = 500ms;
    ivrapi::mock::Server server(platform);
    log.text("mock platform listening on " + server.url() + "\n");

    ivrapi::ClientOptions options;
    options.url = server.url();
    options.token = server.options().token;  // sent as "Authorization: Bearer"
    ivrapi::Client client(options);
    client.on_state([&](ivrapi::ConnectionState s, const ivrapi::Error& why) {
        log.line("link", std::string(ivrapi::to_string(s)) + (why.message.empty() ? "" : ": " + why.message));
    });

    std::promise<examples::VoicemailResult> done;
    ivrapi::ServeOptions serve;
    serve.workers = 1;
    client.serve(
        [&](ivrapi::Session& call) {
            const auto& o = call.info();
            log.line("claimed", o.ivrid + "  state=" + ivrapi::to_string(o.state) + "  callid=" + o.callid +
                                    "  params=" + o.params);
            call.on_end([&log](const ivrapi::SessionEnd& e) {
                log.line("end", std::string("control ended, reason ") + ivrapi::to_string(e.reason));
            });
            done.set_value(examples::leave_voicemail(call, examples::VoicemailConfig{}, log));
        },
        serve);
    if (!client.wait_ready(10s)) {
        std::cerr << "voicemail demo: the client did not get ready\n";
        return 1;
    }
    const auto info = client.connection_info();
    std::string caps;
    for (const auto& c : info.capabilities) caps += (caps.empty() ? "" : ",") + c;
    log.line("connected", "domain " + info.domain + ", capabilities " + caps + "; subscribed to ivrevents");

    ivrapi::mock::CallOptions caller;
    caller.state = ivrapi::mock::CallState::incoming;
    caller.params = R"({"caller":"+15550100","lang":"en"})";
    caller.caller_dtmf = {{3500ms, "#"}};  // after the greeting and ~2 s of speech
    auto call = server.start_call(caller);
    log.line("platform", "call " + call.ivrid() + " reached 'External control via API': api_start sent");

    auto result = done.get_future();
    if (result.wait_for(30s) != std::future_status::ready) {
        std::cerr << "voicemail demo: the call did not finish in time\n";
        return 1;
    }
    const examples::VoicemailResult r = result.get();
    call.wait_ended(5s);
    if (!r.link.empty()) {
        const auto file = examples::http_get(r.link);
        const bool wav = file.body.size() > 12 && file.body.compare(0, 4, "RIFF") == 0 &&
                         file.body.compare(8, 4, "WAVE") == 0;
        log.line("download", "HTTP " + std::to_string(file.status) + ", " + std::to_string(file.body.size()) +
                                 " bytes" + (wav ? ", a RIFF/WAVE file" : ""));
    }
    std::string heard;
    for (const auto& f : call.played_files()) heard += (heard.empty() ? "" : ", ") + f;
    log.text("\nplatform's view: sip codes sent " + std::to_string(call.sip_codes().size()) + ", caller heard [" +
             heard + "], call ended: " + call.end_reason());
    const auto stats = client.stats();
    log.text("client stats: " + std::to_string(stats.messages_out) + " messages out, " +
             std::to_string(stats.messages_in) + " in, avg request latency " +
             std::to_string(static_cast<int>(stats.request_latency_avg_us)) + " us");
    client.stop();
    return r.recorded && !r.link.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && std::strcmp(argv[1], "--demo") == 0) return run_demo();
    if (argc != 2 || argv[1][0] == '-') {
        std::cerr << "usage: voicemail --demo\n"
                     "       voicemail URL      (token in ERA_TOKEN or in the URL; Ctrl-C stops)\n";
        return 2;
    }
    examples::ShutdownSignal ctrl_c;
    auto owned = examples::client_from_url(argv[1]);
    if (!owned) return 2;
    ivrapi::Client& client = *owned;
    examples::Transcript log;
    client.serve([&](ivrapi::Session& call) {
        log.line("claimed", call.ivrid());
        const auto r = examples::leave_voicemail(call, examples::VoicemailConfig{}, log);
        log.line("done", call.ivrid() + (r.link.empty() ? " no recording " + r.error : " recording " + r.link));
    });
    ctrl_c.wait();  // then drain; a second Ctrl-C hands every call back at once
    if (examples::drain_or_stop(client, ctrl_c, std::chrono::seconds(10), "voicemail").interrupted_twice) return 130;
    return 0;
}
