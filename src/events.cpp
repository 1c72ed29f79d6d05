#include <ivrapi/events.hpp>

namespace ivrapi {

const char* to_string(CallState s) noexcept {
    switch (s) {
        case CallState::dialog: return "dialog";
        case CallState::early: return "early";
        case CallState::ringing: return "ringing";
        case CallState::incoming: return "incoming";
        case CallState::unknown: break;
    }
    return "unknown";
}

const char* to_string(StopReason r) noexcept {
    switch (r) {
        case StopReason::script: return "script";
        case StopReason::timeout: return "timeout";
        case StopReason::abort: return "abort";
        case StopReason::unknown: break;
    }
    return "unknown";
}

const char* to_string(DtmfMode m) noexcept {
    switch (m) {
        case DtmfMode::idle: return "idle";
        case DtmfMode::component: return "component";
        case DtmfMode::unknown: break;
    }
    return "unknown";
}

}  // namespace ivrapi
