#include "protocol/fast_decode.hpp"

#include "protocol/json_sax.hpp"
#include "protocol/number_events.hpp"
#include "protocol/seen_keys.hpp"
#include "protocol/text_match.hpp"

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
        if (!seen_.insert(k)) return false;  // repeated: the general path names it
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
    SeenKeys seen_;
};

// Notify: the frame array (depth 1), the body (2), values of other fields (3 and
// deeper, skipped), and data, which goes to a JsonSax.
class NotifyHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, NotifyHandler> {
public:
    NotifyHandler(JsonSax& data, int max_depth) : data_(data), max_depth_(max_depth) {}

    NotifyEvent event;
    bool has_data = false;
    bool done = false;  // the frame array closed

    bool Default() { return false; }  // anything not handled below: decline
    bool StartArray() {
        if (in_data_) return data_.StartArray();
        return depth_ == 0 || skippable() ? open() : false;
    }
    bool EndArray(rapidjson::SizeType n) {
        if (in_data_) return data_.EndArray(n);
        if (depth_ == 1) return n == 2 && body_done_ ? (done = true, --depth_, true) : false;
        return depth_ > 2 ? (--depth_, true) : false;
    }
    bool StartObject() {
        if (in_data_) return data_.StartObject();
        if (depth_ == 1) return named_ && !body_done_ ? open() : false;
        if (depth_ == 2 && field_ == Field::data) {
            // data sits at depth 3: it may open max_depth - 2 levels.
            data_.reset(max_depth_ - 2, false);
            in_data_ = has_data = true;
            return data_.StartObject();
        }
        return skippable() ? open() : false;
    }
    bool EndObject(rapidjson::SizeType n) {
        if (in_data_) {
            if (!data_.EndObject(n)) return false;
            if (data_.done()) {
                in_data_ = false;
                event.data = data_.take();
            }
            return true;
        }
        if (depth_ == 2) body_done_ = true;
        --depth_;
        return true;
    }
    bool Key(const char* s, rapidjson::SizeType len, bool copy) {
        if (in_data_) return data_.Key(s, len, copy);
        if (depth_ > 2) return true;
        const std::string_view k(s, len);
        if (!seen_.insert(k)) return false;  // repeated: the general path names it
        field_ = field_of(k);
        return true;
    }
    bool String(const char* s, rapidjson::SizeType len, bool copy) {
        if (in_data_) return data_.String(s, len, copy);
        const std::string_view v(s, len);
        if (depth_ == 1 && !named_) return named_ = (v == "notify");
        if (depth_ != 2) return depth_ > 2;
        switch (field_) {
            // ivrevents api_start/api_stop (offers, their ends) are the general path's:
            // declined as soon as both are known, before data is built.
            case Field::event_class:
                event.event_class.assign(v);
                return !is_offer_or_end(event.event_class, event.type);
            case Field::type: event.type.assign(v); return !is_offer_or_end(event.event_class, event.type);
            case Field::eventts: return false;  // a decimal string: the general path reads it
            case Field::data: return false;     // not an object: an error
            case Field::other: return true;
        }
        return false;
    }
    bool Int(int i) { return in_data_ ? data_.Int(i) : integer(i); }
    bool Uint(unsigned u) { return in_data_ ? data_.Uint(u) : integer(u); }
    bool Int64(std::int64_t i) { return in_data_ ? data_.Int64(i) : integer(i); }
    bool Uint64(std::uint64_t u) {
        if (in_data_) return data_.Uint64(u);
        return u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                   ? integer(static_cast<std::int64_t>(u))
                   : skippable();  // beyond int64 as eventts: an error
    }
    bool Double(double d) { return in_data_ ? data_.Double(d) : skippable(); }
    bool Bool(bool b) { return in_data_ ? data_.Bool(b) : skippable(); }
    bool Null() { return in_data_ ? data_.Null() : skippable(); }  // null fields: the general path

private:
    enum class Field { event_class, type, eventts, data, other };
    static Field field_of(std::string_view k) {
        if (k == "class") return Field::event_class;
        if (k == "type") return Field::type;
        if (k == "eventts") return Field::eventts;
        if (k == "data") return Field::data;
        return Field::other;
    }
    bool integer(std::int64_t i) {
        if (depth_ == 2 && field_ == Field::eventts) {
            event.eventts = i;
            return true;
        }
        return skippable();
    }
    // A value of a field notify does not read (or inside one): accepted and dropped.
    bool skippable() const { return depth_ > 2 || (depth_ == 2 && field_ == Field::other); }
    bool open() {
        if (depth_ + 1 > max_depth_) return false;  // the general path reports the depth
        ++depth_;
        return true;
    }

    JsonSax& data_;
    int max_depth_;
    int depth_ = 0;
    bool named_ = false;
    bool body_done_ = false;
    bool in_data_ = false;
    Field field_ = Field::other;
    SeenKeys seen_;
};

// Replies: the body goes to a JsonSax (Reply::body) and the members decode_reply()
// reads also to `fields`, a DOM of those alone, so the general path's classification
// runs unchanged on the same values (numbers and nested repeated keys included).
class ReplyHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, ReplyHandler> {
public:
    ReplyHandler(FrameDocument& fields, JsonSax& body, int max_depth)
        : fields_(fields), body_(body), max_depth_(max_depth) {}

    std::string_view name;
    bool done = false;  // the frame array closed

    bool Default() { return false; }
    bool StartArray() {
        if (in_body_) return body_.StartArray() && (!routing_ || fields_.StartArray());
        return depth_ == 0 && max_depth_ >= 1 ? (depth_ = 1, true) : false;
    }
    bool EndArray(rapidjson::SizeType n) {
        if (in_body_) return body_.EndArray(n) && (!routing_ || fields_.EndArray(n));
        return depth_ == 1 && n == 2 && body_done_ ? (done = true, depth_ = 0, true) : false;
    }
    bool StartObject() {
        if (in_body_) return body_.StartObject() && (!routing_ || fields_.StartObject());
        if (depth_ != 1 || name.empty() || body_done_) return false;
        body_.reset(max_depth_ - 1, true);  // the body sits at depth 2; repeated keys: an error
        in_body_ = true;
        return body_.StartObject() && fields_.StartObject();
    }
    bool EndObject(rapidjson::SizeType n) {
        if (!in_body_) return false;
        if (body_.depth() > 1) return body_.EndObject(n) && (!routing_ || fields_.EndObject(n));
        in_body_ = routing_ = false;  // the body closes
        body_done_ = true;
        return body_.EndObject(n) && fields_.EndObject(routed_);
    }
    bool Key(const char* s, rapidjson::SizeType len, bool copy) {
        if (!in_body_) return false;
        if (!body_.Key(s, len, copy)) return false;
        if (body_.depth() == 1) {
            routing_ = reply_reads_field(std::string_view(s, len));
            routed_ += routing_ ? 1 : 0;
        }
        return !routing_ || fields_.Key(s, len, copy);
    }
    bool String(const char* s, rapidjson::SizeType len, bool copy) {
        if (in_body_) return body_.String(s, len, copy) && (!routing_ || fields_.String(s, len, copy));
        const std::string_view v(s, len);
        constexpr std::string_view suffix = "_result";
        if (depth_ != 1 || !name.empty() || v.size() <= suffix.size() || v.substr(v.size() - suffix.size()) != suffix) {
            return false;
        }
        name = v;
        return true;
    }
    bool Int(int i) { return in_body_ && body_.Int(i) && (!routing_ || fields_.Int(i)); }
    bool Uint(unsigned u) { return in_body_ && body_.Uint(u) && (!routing_ || fields_.Uint(u)); }
    bool Int64(std::int64_t i) { return in_body_ && body_.Int64(i) && (!routing_ || fields_.Int64(i)); }
    bool Uint64(std::uint64_t u) { return in_body_ && body_.Uint64(u) && (!routing_ || fields_.Uint64(u)); }
    bool Double(double d) { return in_body_ && body_.Double(d) && (!routing_ || fields_.Double(d)); }
    bool Bool(bool b) { return in_body_ && body_.Bool(b) && (!routing_ || fields_.Bool(b)); }
    bool Null() { return in_body_ && body_.Null() && (!routing_ || fields_.Null()); }

private:
    FrameDocument& fields_;
    JsonSax& body_;
    int max_depth_;
    int depth_ = 0;  // of the frame array; the body's own is body_.depth()
    bool in_body_ = false;
    bool body_done_ = false;
    bool routing_ = false;  // the current body member goes to fields_ too
    rapidjson::SizeType routed_ = 0;
};

// Parses the frame in situ on a thread-local copy, numbers through NumberEvents as the
// general path reads them. False on any parse error or when the handler declined.
template <typename Handler>
bool parse_sax(std::string_view frame, const ParseLimits& limits, Handler& h) {
    // RapidJSON reads a NUL as the end of input: the general path rejects the frame.
    if (std::memchr(frame.data(), 0, frame.size()) != nullptr) return false;
    // In situ: keys and strings point into it until the next frame (the repeat checks,
    // a reply's name and fields rely on that).
    thread_local std::string scratch;
    rapidjson::GenericInsituStringStream<rapidjson::UTF8<>> in(insitu_copy(scratch, frame));
    thread_local rapidjson::CrtAllocator stack_allocator;  // else the reader news one per frame
    rapidjson::Reader reader(&stack_allocator, 256);
    NumberEvents<Handler> numbers(h);  // numbers parsed as the general path does
    numbers.check_surrogates = std::memchr(frame.data(), '\\', frame.size()) != nullptr;  // no escape, no surrogate
    constexpr unsigned base = rapidjson::kParseInsituFlag | rapidjson::kParseNumbersAsStringsFlag;
    return limits.validate_utf8 && !all_ascii(frame)
               ? !reader.Parse<base | rapidjson::kParseValidateEncodingFlag>(in, numbers).IsError()
               : !reader.Parse<base>(in, numbers).IsError();
}

}  // namespace

bool decode_dtmf_fast(std::string_view frame, const ParseLimits& limits, DtmfEvent& out) {
    if (decode_dtmf_plain(frame, limits, out)) {
        ++decode_paths().plain;
        return true;
    }
    // decode_dtmf_plain checked the prefix and the depth; a frame that fails them goes on.
    if (!starts_with(frame, "[\"ivrapi_dtmf\",{") || limits.max_depth < 2) return false;
    DtmfHandler h;
    if (!parse_sax(frame, limits, h) || !h.done) return false;
    ++decode_paths().sax;
    h.event.mode = parse_dtmf_mode(h.mode);
    out = std::move(h.event);
    return true;
}

bool decode_notify_fast(std::string_view frame, const ParseLimits& limits, NotifyEvent& out) {
    bool offer_or_end = false;
    if (decode_notify_plain(frame, limits, out, &offer_or_end)) {
        ++decode_paths().plain;
        return true;
    }
    if (offer_or_end) return false;  // the general path's, as the SAX pass would say
    if (!starts_with(frame, "[\"notify\",{")) return false;
    thread_local JsonSax data;  // its scratch stacks are reused
    NotifyHandler h(data, limits.max_depth);
    if (!parse_sax(frame, limits, h) || !h.done) return false;
    ++decode_paths().sax;
    NotifyEvent& e = h.event;
    if (!h.has_data) e.data = Json::object();
    if (limits.keep_raw_events) e.raw.assign(frame.data(), frame.size());
    out = std::move(e);
    return true;
}

std::string_view reply_name_of(std::string_view frame) noexcept {
    if (!starts_with(frame, "[\"")) return {};
    const std::size_t end = frame.find('"', 2);
    if (end == std::string_view::npos) return {};
    const std::string_view name = frame.substr(2, end - 2);
    constexpr std::string_view suffix = "_result";
    if (name.size() <= suffix.size() || name.substr(name.size() - suffix.size()) != suffix ||
        name.find('\\') != std::string_view::npos || frame.substr(end + 1, 2) != ",{") {
        return {};
    }
    return name;
}

bool decode_reply_fast(std::string_view frame, std::string_view name, const ParseLimits& limits, Reply& out) {
    if (name.empty()) return false;
    if (decode_reply_plain(frame, name, limits, out)) {
        ++decode_paths().plain;
        return true;
    }
    // The fields' DOM is small (qid and result in a success): no heap, as in decode().
    thread_local char value_buffer[2048];
    thread_local char stack_buffer[1024];
    rapidjson::MemoryPoolAllocator<> value_allocator(value_buffer, sizeof value_buffer);
    rapidjson::MemoryPoolAllocator<> stack_allocator(stack_buffer, sizeof stack_buffer);
    FrameDocument fields(&value_allocator, 256, &stack_allocator);
    thread_local JsonSax body;
    ReplyHandler h(fields, body, limits.max_depth);
    bool parsed = false;
    auto generate = [&](FrameDocument&) { return parsed = parse_sax(frame, limits, h) && h.done; };
    fields.Populate(generate);
    if (!parsed) return false;
    ++decode_paths().sax;
    out = decode_reply(h.name, fields, body.take(), frame);
    return true;
}

}  // namespace ivrapi::protocol
