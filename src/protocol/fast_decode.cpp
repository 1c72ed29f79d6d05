#include "protocol/fast_decode.hpp"

#include "protocol/number_events.hpp"

#include <rapidjson/reader.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

namespace ivrapi::protocol {

namespace {

// Returning false stops the parse (kParseErrorTermination): the caller declines.
class DtmfHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, DtmfHandler> {
public:
    DtmfEvent event;
    std::string_view mode;
    bool done = false;  // the body object closed

    bool Default() { return false; }  // anything not handled below: decline
    bool StartArray() { return depth_ == 0 ? (++depth_, true) : false; }
    bool EndArray(rapidjson::SizeType n) { return depth_ == 1 && n == 2 && done ? (--depth_, true) : false; }
    bool StartObject() { return depth_ == 1 && named_ && !done ? (++depth_, true) : false; }
    bool EndObject(rapidjson::SizeType) {
        --depth_;
        done = true;
        return true;
    }
    bool Key(const char* s, rapidjson::SizeType len, bool) {
        const std::string_view k(s, len);
        for (std::size_t i = 0; i < keys_; ++i) {
            if (seen_[i] == k) return false;  // repeated: the general path names it
        }
        if (keys_ == seen_.size()) return false;
        seen_[keys_++] = k;
        field_ = field_of(k);
        return true;
    }
    bool String(const char* s, rapidjson::SizeType len, bool) {
        const std::string_view v(s, len);
        if (depth_ == 1 && !named_) return named_ = (v == "ivrapi_dtmf");
        if (depth_ != 2) return false;
        switch (field_) {
            case Field::key: event.key.assign(v); return true;
            case Field::ivrid: event.ivrid.assign(v); return true;
            case Field::mode: mode = v; return true;
            case Field::dtmf: event.dtmf.assign(v); return true;
            case Field::oid: return false;  // a decimal string: the general path reads it
            case Field::other: return true;
        }
        return false;
    }
    bool Int(int i) { return integer(i); }
    bool Uint(unsigned u) { return integer(u); }
    bool Int64(std::int64_t i) { return integer(i); }
    bool Uint64(std::uint64_t u) {
        return u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                   ? integer(static_cast<std::int64_t>(u))
                   : other_scalar();
    }
    bool Double(double) { return other_scalar(); }
    bool Bool(bool) { return other_scalar(); }
    bool Null() { return other_scalar(); }

private:
    enum class Field { key, ivrid, mode, oid, dtmf, other };
    static Field field_of(std::string_view k) {
        if (k == "key") return Field::key;
        if (k == "ivrid") return Field::ivrid;
        if (k == "mode") return Field::mode;
        if (k == "oId") return Field::oid;
        if (k == "dtmf") return Field::dtmf;
        return Field::other;
    }
    bool integer(std::int64_t i) {
        if (depth_ != 2) return false;
        if (field_ == Field::oid) {
            event.oid = i;
            return true;
        }
        return field_ == Field::other;  // a number as key or dtmf: lenient text, general path
    }
    // A value of a field this frame does not use is skipped; of one it uses: decline.
    bool other_scalar() const { return depth_ == 2 && field_ == Field::other; }

    int depth_ = 0;
    bool named_ = false;
    Field field_ = Field::other;
    std::array<std::string_view, 16> seen_{};
    std::size_t keys_ = 0;
};

}  // namespace

std::optional<DtmfEvent> decode_dtmf_fast(std::string_view frame, const ParseLimits& limits) {
    constexpr std::string_view prefix = "[\"ivrapi_dtmf\",{";
    if (frame.substr(0, prefix.size()) != prefix) return std::nullopt;  // decode() checked the size
    // RapidJSON reads a NUL as the end of input: the general path rejects the frame.
    if (std::memchr(frame.data(), 0, frame.size()) != nullptr) return std::nullopt;
    thread_local std::string scratch;  // parsed in situ: keys stay valid for the repeat check
    scratch.assign(frame.data(), frame.size());
    rapidjson::GenericInsituStringStream<rapidjson::UTF8<>> in(&scratch[0]);
    thread_local rapidjson::CrtAllocator stack_allocator;  // else the reader news one per frame
    rapidjson::Reader reader(&stack_allocator, 256);
    DtmfHandler h;
    NumberEvents<DtmfHandler> numbers(h);  // numbers parsed as the general path does
    constexpr unsigned base = rapidjson::kParseInsituFlag | rapidjson::kParseNumbersAsStringsFlag;
    const bool ok = limits.validate_utf8
                        ? !reader.Parse<base | rapidjson::kParseValidateEncodingFlag>(in, numbers).IsError()
                        : !reader.Parse<base>(in, numbers).IsError();
    if (!ok || !h.done) return std::nullopt;
    h.event.mode = h.mode == "idle" ? DtmfMode::idle : h.mode == "component" ? DtmfMode::component : DtmfMode::unknown;
    return std::move(h.event);
}

}  // namespace ivrapi::protocol
