// Which notifications were already seen (the platform sends one per matching
// subscription, and replays happen), which dialogs recently ended, and which offers
// are still open. Bounded windows: memory does not grow with uptime.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

namespace ivrapi::detail {

class EventDedupe {
public:
    static constexpr std::size_t kWindow = 4096;

    // True when (type, ivrid, eventts, componentid) was seen already. An event without
    // eventts cannot be told from a later one of the same dialog by its fields:
    // api_start is then judged by open_offer() instead, other types are never duplicates.
    bool seen(std::string_view type, const std::string& ivrid, std::optional<std::int64_t> eventts,
              std::optional<std::int64_t> componentid);

    void offer_opened(const std::string& ivrid) { remember(open_, open_order_, ivrid); }
    void offer_closed(const std::string& ivrid) { open_.erase(ivrid); }
    bool offer_open(const std::string& ivrid) const { return open_.count(ivrid) != 0; }

    void ended(const std::string& ivrid) {
        remember(ended_, ended_order_, ivrid);
        open_.erase(ivrid);
    }
    void reoffered(const std::string& ivrid) { ended_.erase(ivrid); }
    bool recently_ended(const std::string& ivrid) const { return ended_.count(ivrid) != 0; }

private:
    template <typename Key>
    static bool remember(std::unordered_set<Key>& set, std::deque<Key>& order, const Key& key) {
        if (!set.insert(key).second) return true;
        order.push_back(key);
        if (order.size() > kWindow) {
            set.erase(order.front());
            order.pop_front();
        }
        return false;
    }

    std::unordered_set<std::uint64_t> seen_;  // 64-bit hashes: ~30 bytes per event instead of ~100
    std::deque<std::uint64_t> seen_order_;
    std::unordered_set<std::string> ended_, open_;
    std::deque<std::string> ended_order_, open_order_;
};

inline bool EventDedupe::seen(std::string_view type, const std::string& ivrid, std::optional<std::int64_t> eventts,
                              std::optional<std::int64_t> componentid) {
    if (!eventts) return false;
    std::string key(type);
    key += '|';
    key += ivrid;
    key += '|';
    key += std::to_string(*eventts);
    key += '|';
    key += std::to_string(componentid.value_or(-1));
    return remember(seen_, seen_order_, static_cast<std::uint64_t>(std::hash<std::string>{}(key)));
}

}  // namespace ivrapi::detail
