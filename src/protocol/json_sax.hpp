// Builds an ivrapi::Json straight from RapidJSON SAX events, without a DOM: the decoder's
// fast paths (protocol/fast_decode.hpp) use it for the open-ended parts of a frame (a
// notify's data, a reply's body). The result equals to_json() of the DOM the same events
// build (json_bridge.hpp): numbers as the events give them (NumberEvents in the fast
// paths, as in the general path), an unsigned beyond int64 as a double, and in an object
// a repeated key keeps its first value.
#pragma once

#include <ivrapi/json.hpp>

#include <rapidjson/rapidjson.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace ivrapi::protocol {

class JsonSax {
public:
    // Starts a new value. It may open `max_levels` nested arrays/objects, itself
    // included: one more makes the event return false (the caller declines, and the
    // general path reports the depth). With `reject_repeated_root_keys`, a key repeated
    // in the root object also returns false (the general path rejects that frame).
    void reset(int max_levels, bool reject_repeated_root_keys);

    // The handler events (rapidjson::Reader's Handler concept). Keys and strings are
    // kept as views until their container closes, so the parse must be in situ (`copy`
    // false): a key or string to copy returns false.
    bool Null() { return add(Pending(Pending::Kind::null)); }
    bool Bool(bool b) {
        Pending p(Pending::Kind::boolean);
        p.b = b;
        return add(p);
    }
    bool Int(int i) { return Int64(i); }
    bool Uint(unsigned u) { return Int64(u); }
    bool Int64(std::int64_t i) {
        Pending p(Pending::Kind::int64);
        p.i = i;
        return add(p);
    }
    bool Uint64(std::uint64_t u) {
        Pending p(Pending::Kind::uint64);
        p.u = u;
        return add(p);
    }
    bool Double(double d) {
        Pending p(Pending::Kind::number);
        p.d = d;
        return add(p);
    }
    bool String(const char* s, rapidjson::SizeType n, bool copy) {
        if (copy) return false;  // not in situ: the view would not last
        Pending p(Pending::Kind::string);
        p.text = std::string_view(s, n);
        return add(p);
    }
    bool Key(const char* s, rapidjson::SizeType n, bool copy);
    bool StartObject() { return open(true); }
    bool EndObject(rapidjson::SizeType) { return close(); }
    bool StartArray() { return open(false); }
    bool EndArray(rapidjson::SizeType) { return close(); }

    bool done() const noexcept { return done_; }  // the value is complete
    // Arrays/objects open now (0 before the value starts and once it is done).
    std::size_t depth() const noexcept { return levels_.size() + skipping_; }
    Json take() {
        done_ = false;
        return std::move(root_);
    }

private:
    // A value of an open container, turned into its Json when the container closes:
    // then each member is built once, in place, in a vector of the exact size.
    struct Pending {
        enum class Kind : unsigned char { null, boolean, int64, uint64, number, string, built };
        explicit Pending(Kind k) noexcept : kind(k), i(0) {}
        Kind kind;
        bool b = false;
        union {
            std::int64_t i;
            std::uint64_t u;
            double d;
            std::size_t built;  // an array/object already closed: its index in built_
        };
        std::string_view key;   // in an object
        std::string_view text;  // a string
    };
    struct Level {
        bool object = false;
        std::size_t start = 0;    // its first value in pending_
        std::size_t built = 0;    // its first closed child in built_
        std::string_view key;     // its key in the parent object
        bool drop_value = false;  // the pending key repeats one before it: its value is dropped
        // Keys of a big object (linear search below that size; to_json does the same).
        std::unique_ptr<std::unordered_set<std::string_view>> keys;
    };
    static constexpr std::size_t kLinearKeys = 16;

    bool add(Pending p);
    bool open(bool object);
    bool close();

    Json root_;
    bool done_ = false;
    int max_levels_ = 0;
    bool reject_root_repeats_ = false;
    std::size_t skipping_ = 0;  // levels open inside a dropped value
    std::string_view key_;      // the pending key
    // Reused across values (their capacity stays): no allocation but the Json's own.
    std::vector<Level> levels_;
    std::vector<Pending> pending_;
    std::vector<Json> built_;
};

}  // namespace ivrapi::protocol
