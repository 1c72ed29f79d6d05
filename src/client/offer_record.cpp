#include "client/offer_record.hpp"

#include "client/slab_pool.hpp"
#include "protocol/codec.hpp"

#include <cstring>
#include <limits>

namespace ivrapi::detail {

namespace {
enum Present : std::uint8_t { kComponentId = 1, kIvrts = 2, kEventts = 4 };
}

OfferRecord::OfferRecord(const ApiStartEvent& offer) : ivrid_(offer.ivrid), key_(offer.key), state_(offer.state) {
    const std::array<const std::string*, Text::count> texts{
        &offer.callid, &offer.cid, &offer.sm_id, &offer.componentname, &offer.state_text, &offer.params, &offer.raw};
    std::size_t total = 0;
    for (const std::string* t : texts) total += t->size();
    // Frames are bounded far below this (ParseLimits); keep the offsets honest anyway.
    if (total > std::numeric_limits<std::uint32_t>::max()) total = 0;
    if (total > 0) packed_ = static_cast<char*>(SlabPool::sessions().allocate(total, 1));
    std::uint32_t at = 0;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        if (total > 0 && !texts[i]->empty()) {
            std::memcpy(packed_ + at, texts[i]->data(), texts[i]->size());
            at += static_cast<std::uint32_t>(texts[i]->size());
        }
        end_[i] = at;
    }
    if (offer.componentid) componentid_ = *offer.componentid, present_ |= kComponentId;
    if (offer.ivrts) ivrts_ = *offer.ivrts, present_ |= kIvrts;
    if (offer.eventts) eventts_ = *offer.eventts, present_ |= kEventts;
}

OfferRecord::~OfferRecord() {
    if (packed_ != nullptr) SlabPool::sessions().deallocate(packed_, end_.back(), 1);
}

std::string_view OfferRecord::text(Text t) const noexcept {
    const std::uint32_t begin = t == 0 ? 0 : end_[t - 1];
    if (end_[t] == begin) return {};
    return {packed_ + begin, end_[t] - begin};
}

const ApiStartEvent& OfferRecord::event() const {
    std::call_once(built_, [this] {
        auto e = std::make_unique<ApiStartEvent>();
        e->ivrid = ivrid_;
        e->key = key_;
        e->callid = text(callid);
        e->cid = text(cid);
        e->sm_id = text(sm_id);
        e->componentname = text(componentname);
        e->state_text = text(state_text);
        e->params = text(params);
        e->raw = text(raw);
        e->state = state_;
        if (present_ & kComponentId) e->componentid = componentid_;
        if (present_ & kIvrts) e->ivrts = ivrts_;
        if (present_ & kEventts) e->eventts = eventts_;
        e->params_json = protocol::params_json_of(e->params);
        event_ = std::move(e);
    });
    return *event_;
}

}  // namespace ivrapi::detail
