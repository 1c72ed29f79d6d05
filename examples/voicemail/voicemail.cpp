#include "voicemail/voicemail.hpp"

namespace examples {
namespace {

std::string describe(const ivrapi::ComponentStopped& s) {
    std::string out = "exit " + (s.transfer_key.empty() ? std::string("?") : s.transfer_key);
    if (s.results.size() > 0) out += "  results " + s.results.dump();
    return out;
}

// Applies one component, logging the request and its outcome.
ivrapi::Result<ivrapi::ComponentStopped> step(ivrapi::Session& call, const ivrapi::Component& c,
                                              const std::string& what, Transcript& log) {
    log.line("apply", std::to_string(c.o_type()) + " " + what + "  " + c.data().dump());
    auto r = call.apply(c).get();
    if (r) log.line("stopped", std::to_string(c.o_type()) + " " + describe(*r));
    else log.line("failed", std::to_string(c.o_type()) + " " + r.error().to_string());
    return r;
}

}  // namespace

VoicemailResult leave_voicemail(ivrapi::Session& call, const VoicemailConfig& config, Transcript& log) {
    VoicemailResult out;
    call.on_dtmf([&log](const ivrapi::DtmfEvent& e) {
        log.line("dtmf", "caller pressed " + e.dtmf + " (" + ivrapi::to_string(e.mode) + ")");
    });

    // Media needs an answered call: send SIP 200 first unless the dialog is up.
    if (call.initial_state() != ivrapi::CallState::dialog) {
        ivrapi::SipAnswer answer;
        answer.sip_code = 200;
        if (!step(call, answer, "SIP answer 200 (call not in dialog yet)", log)) return out;
    }
    if (!config.greeting.empty()) {
        ivrapi::Play greeting;
        greeting.file = config.greeting;
        if (!step(call, greeting, "play greeting", log)) return out;
    }

    ivrapi::Record record;
    record.max_duration = config.max_message;
    record.stop_digits = config.stop_digits;
    auto rec = step(call, record, "record message", log);
    if (!rec) {
        out.error = rec.error().to_string();
        return out;
    }
    out.recording = rec->result("nameVar");
    out.recorded = !out.recording.empty();
    if (out.recorded) {
        auto link = call.file_get_path(out.recording).get();
        if (link) {
            out.link = link->url;
            log.line("link", link->url + "  (download within 5 minutes)");
        } else {
            out.error = link.error().to_string();
            log.line("failed", "file_get_path " + out.error);
        }
    }
    (void)step(call, ivrapi::Hangup{}, "hang up", log);
    return out;
}

}  // namespace examples
