// The voicemail bot's logic, separate from main() so the demo and tests reuse it.
#pragma once

#include <ivrapi/ivrapi.hpp>

#include "common/transcript.hpp"

#include <chrono>
#include <string>

namespace examples {

struct VoicemailConfig {
    std::string greeting = ":GS_PUB/prompts/leave-a-message.wav";  // empty: no greeting
    std::chrono::seconds max_message{30};
    std::string stop_digits = "#";
};

struct VoicemailResult {
    bool recorded = false;
    std::string recording;  // platform path (":TEMP/...")
    std::string link;       // absolute download URL, valid 5 minutes
    std::string error;      // why it stopped early, if it did
};

// Runs on a serve() worker: answers if needed, plays the greeting, records until the
// stop digit or the time limit, gets the recording's link, hangs up.
VoicemailResult leave_voicemail(ivrapi::Session& call, const VoicemailConfig& config, Transcript& log);

}  // namespace examples
