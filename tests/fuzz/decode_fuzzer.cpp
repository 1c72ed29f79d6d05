// libFuzzer target: any byte string through the protocol decoder (and the public
// Json::parse). Must never crash, hang or leak; every input gives a value or an Error.
#include "protocol/codec.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    ivrapi::protocol::ParseLimits limits;
    limits.max_bytes = 1 << 20;
    // The settings vary with the input's length (the seeds stay valid frames): UTF-8
    // checked or not (the client does not: websocketpp did), raw kept or not, and depth
    // limits at the frame's own levels.
    limits.validate_utf8 = (size & 1) == 0;
    limits.keep_raw_events = (size & 2) == 0;
    constexpr int kDepths[] = {64, 2, 3, 8};
    limits.max_depth = kDepths[(size >> 2) & 3];
    auto decoded = ivrapi::protocol::decode(text, limits);
    if (decoded) {
        // Touch what the client core would use.
        if (auto* r = std::get_if<ivrapi::protocol::Reply>(&*decoded)) {
            if (r->request == "connection_info") (void)ivrapi::protocol::decode_connection_info(r->body);
            (void)r->body.dump();
        }
    } else if (decoded.error().message.empty()) {
        __builtin_trap();  // every error names its cause
    }
    // The fast paths (protocol/fast_decode.hpp) agree with the general decoder.
    ivrapi::protocol::ParseLimits general = limits;
    general.fast_paths = false;
    auto slow = ivrapi::protocol::decode(text, general);
    if (slow.ok() != decoded.ok()) __builtin_trap();
    if (!slow.ok() && (slow.error().message != decoded.error().message || slow.error().code != decoded.error().code ||
                       slow.error().raw_reply != decoded.error().raw_reply)) {
        __builtin_trap();
    }
    if (slow.ok() && slow->index() != decoded->index()) __builtin_trap();
    if (const auto* a = slow.ok() ? std::get_if<ivrapi::DtmfEvent>(&*slow) : nullptr) {
        const auto& b = std::get<ivrapi::DtmfEvent>(*decoded);
        if (a->key != b.key || a->ivrid != b.ivrid || a->mode != b.mode || a->oid != b.oid || a->dtmf != b.dtmf) {
            __builtin_trap();
        }
    }
    // Json values: same value, types and order (dump tells 1 from 1.0).
    const auto same_json = [](const ivrapi::Json& x, const ivrapi::Json& y) { return x == y && x.dump() == y.dump(); };
    const auto same_error = [](const ivrapi::Error& x, const ivrapi::Error& y) {
        return x.code == y.code && x.message == y.message && x.raw_reply == y.raw_reply;
    };
    if (const auto* a = slow.ok() ? std::get_if<ivrapi::NotifyEvent>(&*slow) : nullptr) {
        const auto& b = std::get<ivrapi::NotifyEvent>(*decoded);
        if (a->event_class != b.event_class || a->type != b.type || a->eventts != b.eventts ||
            !same_json(a->data, b.data) || a->raw != b.raw) {
            __builtin_trap();
        }
    }
    const auto same_identity = [](const ivrapi::SessionIdentity& x, const ivrapi::SessionIdentity& y) {
        return x.ivrid == y.ivrid && x.key == y.key && x.callid == y.callid && x.cid == y.cid && x.sm_id == y.sm_id &&
               x.componentname == y.componentname && x.componentid == y.componentid && x.ivrts == y.ivrts &&
               x.eventts == y.eventts;
    };
    if (const auto* a = slow.ok() ? std::get_if<ivrapi::ApiStartEvent>(&*slow) : nullptr) {
        const auto& b = std::get<ivrapi::ApiStartEvent>(*decoded);
        if (!same_identity(*a, b) || a->state != b.state || a->state_text != b.state_text || a->params != b.params ||
            a->params_json.has_value() != b.params_json.has_value() ||
            (a->params_json && !same_json(*a->params_json, *b.params_json)) || a->raw != b.raw) {
            __builtin_trap();
        }
    }
    if (const auto* a = slow.ok() ? std::get_if<ivrapi::ApiStopEvent>(&*slow) : nullptr) {
        const auto& b = std::get<ivrapi::ApiStopEvent>(*decoded);
        if (!same_identity(*a, b) || a->reason != b.reason || a->reason_text != b.reason_text || a->raw != b.raw) {
            __builtin_trap();
        }
    }
    if (const auto* a = slow.ok() ? std::get_if<ivrapi::ComponentStopped>(&*slow) : nullptr) {
        const auto& b = std::get<ivrapi::ComponentStopped>(*decoded);
        if (a->oid != b.oid || a->transfer_key != b.transfer_key || !same_json(a->results, b.results) ||
            a->key != b.key || a->ivrid != b.ivrid || a->raw != b.raw) {
            __builtin_trap();
        }
    }
    if (const auto* a = slow.ok() ? std::get_if<ivrapi::protocol::Reply>(&*slow) : nullptr) {
        const auto& b = std::get<ivrapi::protocol::Reply>(*decoded);
        if (a->request != b.request || a->qid.state != b.qid.state || a->qid.value != b.qid.value ||
            a->qid.text != b.qid.text || a->success != b.success || a->value != b.value ||
            !same_error(a->error, b.error) || !same_json(a->body, b.body)) {
            __builtin_trap();
        }
    }
    auto json = ivrapi::Json::parse(text);
    if (json) {
        // dump -> parse round trip keeps the value.
        auto again = ivrapi::Json::parse(json->dump());
        if (!again || !(*again == *json)) __builtin_trap();
    }
    return 0;
}
