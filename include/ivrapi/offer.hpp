// Offer: a session offered for control (ivrevents.api_start). Claim it with accept();
// the first connection to accept wins, the others get Errc::lost_race (or the
// platform's error), never a hang. Copyable; callable from any thread.
#pragma once

#include <ivrapi/events.hpp>
#include <ivrapi/future.hpp>
#include <ivrapi/session.hpp>

#include <memory>

namespace ivrapi {

namespace detail {
class ClientCore;
struct ClientLink;
}  // namespace detail

class Offer {
public:
    // The offer (api_start) and its identity.
    const ApiStartEvent& info() const { return *info_; }
    const std::string& ivrid() const { return info_->ivrid; }
    const std::string& key() const { return info_->key; }
    CallState state() const { return info_->state; }

    // Claims the session: completes with it, or with lost_race / the platform's error.
    Future<Session> accept();
    void accept(Callback<Session> done);  // done runs on the client's I/O thread

private:
    friend class detail::ClientCore;
    Offer(std::shared_ptr<detail::ClientLink> link, std::shared_ptr<const ApiStartEvent> info)
        : link_(std::move(link)), info_(std::move(info)) {}
    std::shared_ptr<detail::ClientLink> link_;
    std::shared_ptr<const ApiStartEvent> info_;
};

}  // namespace ivrapi
