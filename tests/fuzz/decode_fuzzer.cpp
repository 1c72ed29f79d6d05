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
    auto json = ivrapi::Json::parse(text);
    if (json) {
        // dump -> parse round trip keeps the value.
        auto again = ivrapi::Json::parse(json->dump());
        if (!again || !(*again == *json)) __builtin_trap();
    }
    return 0;
}
