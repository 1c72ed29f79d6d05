#include "protocol/json_sax.hpp"

#include <tuple>
#include <utility>

namespace ivrapi::protocol {

namespace {

// Calls `f` with the argument that makes `p`'s Json (taking a closed child from `built`).
template <typename Pending, typename F>
void with_value(const Pending& p, std::vector<Json>& built, F&& f) {
    switch (p.kind) {
        case Pending::Kind::null: f(nullptr); return;
        case Pending::Kind::boolean: f(p.b); return;
        case Pending::Kind::int64: f(static_cast<long long>(p.i)); return;
        case Pending::Kind::uint64: f(static_cast<unsigned long long>(p.u)); return;  // > INT64_MAX: a double
        case Pending::Kind::number: f(p.d); return;
        case Pending::Kind::string: f(p.text); return;
        case Pending::Kind::built: f(std::move(built[p.built])); return;
    }
}

}  // namespace

void JsonSax::reset(int max_levels, bool reject_repeated_root_keys) {
    root_ = Json();
    done_ = false;
    max_levels_ = max_levels;
    reject_root_repeats_ = reject_repeated_root_keys;
    skipping_ = 0;
    levels_.clear();
    pending_.clear();
    built_.clear();
    // A huge frame once should not pin its scratch for the thread's lifetime.
    constexpr std::size_t keep = 4096;
    if (pending_.capacity() > keep) std::vector<Pending>().swap(pending_);
    if (built_.capacity() > keep) std::vector<Json>().swap(built_);
}

bool JsonSax::Key(const char* s, rapidjson::SizeType n, bool copy) {
    if (skipping_ > 0) return true;
    if (copy) return false;  // not in situ: the view would not last (see the header)
    Level& level = levels_.back();
    const std::string_view key(s, n);
    bool repeated = false;
    if (level.keys) {
        repeated = !level.keys->insert(key).second;
    } else {
        const auto first = pending_.begin() + static_cast<std::ptrdiff_t>(level.start);
        for (auto p = first; p != pending_.end() && !repeated; ++p) repeated = p->key == key;
        if (!repeated && pending_.end() - first >= static_cast<std::ptrdiff_t>(kLinearKeys)) {
            level.keys = std::make_unique<std::unordered_set<std::string_view>>();
            for (auto p = first; p != pending_.end(); ++p) level.keys->insert(p->key);
            level.keys->insert(key);
        }
    }
    if (repeated && reject_root_repeats_ && levels_.size() == 1) return false;
    level.drop_value = repeated;
    key_ = key;
    return true;
}

bool JsonSax::add(Pending p) {
    if (skipping_ > 0) return true;
    if (levels_.empty()) {  // a scalar root
        with_value(p, built_, [this](auto&& v) { root_ = Json(std::forward<decltype(v)>(v)); });
        done_ = true;
        return true;
    }
    Level& level = levels_.back();
    if (level.object) {
        if (level.drop_value) {
            level.drop_value = false;  // the first value of that key stays
            return true;
        }
        p.key = key_;
    }
    pending_.push_back(p);
    return true;
}

bool JsonSax::open(bool object) {
    if (depth() + 1 > static_cast<std::size_t>(max_levels_ > 0 ? max_levels_ : 0)) return false;
    if (skipping_ > 0 || (!levels_.empty() && levels_.back().object && levels_.back().drop_value)) {
        if (skipping_ == 0) levels_.back().drop_value = false;
        ++skipping_;  // a repeated key's value: nothing of it is kept
        return true;
    }
    Level& level = levels_.emplace_back();
    level.object = object;
    level.start = pending_.size();
    level.built = built_.size();
    level.key = key_;
    return true;
}

bool JsonSax::close() {
    if (skipping_ > 0) {
        --skipping_;
        return true;
    }
    Level& level = levels_.back();
    const auto first = pending_.begin() + static_cast<std::ptrdiff_t>(level.start);
    Json value;
    if (level.object) {
        Json::Object members;
        members.reserve(static_cast<std::size_t>(pending_.end() - first));
        for (auto p = first; p != pending_.end(); ++p) {
            with_value(*p, built_, [&](auto&& v) {
                members.emplace_back(std::piecewise_construct, std::forward_as_tuple(p->key),
                                     std::forward_as_tuple(std::forward<decltype(v)>(v)));
            });
        }
        value = Json(std::move(members));
    } else {
        Json::Array items;
        items.reserve(static_cast<std::size_t>(pending_.end() - first));
        for (auto p = first; p != pending_.end(); ++p) {
            with_value(*p, built_, [&](auto&& v) { items.emplace_back(std::forward<decltype(v)>(v)); });
        }
        value = Json(std::move(items));
    }
    pending_.erase(first, pending_.end());
    built_.erase(built_.begin() + static_cast<std::ptrdiff_t>(level.built), built_.end());
    key_ = level.key;  // the parent's key for this value
    levels_.pop_back();
    if (levels_.empty()) {
        root_ = std::move(value);
        done_ = true;
        return true;
    }
    Pending p(Pending::Kind::built);
    p.built = built_.size();
    built_.push_back(std::move(value));
    return add(p);
}

}  // namespace ivrapi::protocol
