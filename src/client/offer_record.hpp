// The offer a session came from, kept for the session's whole life. A session needs
// only its ivrid and key at run time, so those stay as strings and everything else is
// packed into one buffer; the public ApiStartEvent (~620 B with its strings and nine
// allocations) is built on the first Session::info() only. Memory per session is a
// target (docs/performance.md).
#pragma once

#include <ivrapi/events.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace ivrapi::detail {

class OfferRecord {
public:
    explicit OfferRecord(const ApiStartEvent& offer);
    OfferRecord(const OfferRecord&) = delete;
    OfferRecord& operator=(const OfferRecord&) = delete;
    ~OfferRecord();

    const std::string& ivrid() const noexcept { return ivrid_; }
    const std::string& key() const noexcept { return key_; }
    CallState state() const noexcept { return state_; }

    // The whole offer as decoded; built once, safe from any thread.
    const ApiStartEvent& event() const;

private:
    enum Text : std::size_t { callid, cid, sm_id, componentname, state_text, params, raw, count };
    std::string_view text(Text t) const noexcept;

    std::string ivrid_;
    std::string key_;
    char* packed_ = nullptr;                        // the Text fields back to back, from SlabPool::sessions()
    std::array<std::uint32_t, Text::count> end_{};  // where each ends in packed_
    std::int64_t componentid_ = 0, ivrts_ = 0, eventts_ = 0;
    std::uint8_t present_ = 0;  // which of componentid_, ivrts_, eventts_ were sent (bits 0-2)
    CallState state_ = CallState::unknown;
    mutable std::once_flag built_;
    mutable std::unique_ptr<const ApiStartEvent> event_;
};

}  // namespace ivrapi::detail
