#include "transport/capture_transport.hpp"

#include <ivrapi/error.hpp>
#include <ivrapi/json.hpp>

#include <chrono>

namespace ivrapi::detail {
namespace {

class CaptureTransport final : public Transport {
public:
    CaptureTransport(std::unique_ptr<Transport> inner, Loop& loop, CaptureConfig config)
        : inner_(std::move(inner)), loop_(loop), config_(std::move(config)), start_(loop_.now()) {
        const auto wall =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
        Json header = Json::object({{"cassette", "ivrapi"},
                                    {"version", kCassetteVersion},
                                    {"sdk", "ivrapi-cpp"},
                                    {"wall_ms", static_cast<long long>(wall.count())},
                                    {"url", config_.url},
                                    {"token", config_.token_placement}});
        emit(header.dump());
    }

    ~CaptureTransport() override { shutdown(); }

    void connect(TransportHandlers handlers) override {
        ++gen_;
        Json headers = Json::object();
        for (const auto& [k, v] : config_.headers) headers.set(k, v);
        Json line = event("connect");
        line.set("url", config_.url);
        line.set("headers", std::move(headers));
        emit(line.dump());
        const std::uint64_t gen = gen_;
        TransportHandlers wrapped;
        wrapped.on_open = [this, gen, h = std::move(handlers.on_open)] {
            emit(event("open", gen).dump());
            if (h) h();
        };
        wrapped.on_message = [this, gen, h = std::move(handlers.on_message)](std::string&& frame) {
            Json line = event("in", gen);
            line.set("frame", redact(frame));
            emit(line.dump());
            if (h) h(std::move(frame));
        };
        wrapped.on_close = [this, gen, h = std::move(handlers.on_close)](const Error& why) {
            Json line = event("closed", gen);
            line.set("by", closing_ == gen ? "client" : "link");
            line.set("code", why.code.category() == error_category()
                                 ? std::string(errc_name(static_cast<Errc>(why.code.value())))
                                 : why.code.message());
            line.set("reason", redact(why.message));
            emit(line.dump());
            if (h) h(why);
        };
        inner_->connect(std::move(wrapped));
    }

    bool send(std::string_view frame) override {
        if (!inner_->send(frame)) return false;  // only what went on the wire
        Json line = event("out");
        line.set("frame", redact(std::string(frame)));
        emit(line.dump());
        return true;
    }

    void close(std::string_view reason) override {
        closing_ = gen_;
        Json line = event("close");
        line.set("reason", std::string(reason));
        emit(line.dump());
        inner_->close(reason);
    }

    void shutdown() override {
        if (shut_) return;
        shut_ = true;
        closing_ = gen_;
        emit(event("shutdown").dump());
        inner_->shutdown();
    }

    std::string http_base() const override { return inner_->http_base(); }

private:
    Json event(const char* name, std::uint64_t gen = 0) const {
        const double us =
            static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(loop_.now() - start_).count());
        return Json::object({{"t", us / 1000.0}, {"gen", static_cast<long long>(gen ? gen : gen_)}, {"ev", name}});
    }

    std::string redact(std::string text) const { return config_.redact ? config_.redact(std::move(text)) : text; }

    void emit(std::string line) {
        if (!config_.write) return;
        try {
            config_.write(redact(std::move(line)));
        } catch (...) {
            // A failing sink must not take the link down: the cassette just misses a line.
        }
    }

    std::unique_ptr<Transport> inner_;
    Loop& loop_;
    const CaptureConfig config_;
    const Loop::Clock::time_point start_;
    std::uint64_t gen_ = 0;
    std::uint64_t closing_ = 0;  // generation the client asked to close
    bool shut_ = false;
};

}  // namespace

std::unique_ptr<Transport> make_capture_transport(std::unique_ptr<Transport> inner, Loop& loop, CaptureConfig config) {
    return std::make_unique<CaptureTransport>(std::move(inner), loop, std::move(config));
}

}  // namespace ivrapi::detail
