// Typical application code against the public headers. Compiled (not run) at -O2 with
// -Wall -Wextra -Wpedantic -Werror by GCC and Clang: the SDK's inline code must not
// make a user's warning-clean build noisy (GCC's -Wmaybe-uninitialized in particular
// only fires with optimisation and inlining).
#include <ivrapi/cluster.hpp>  // header only: the cluster library need not be built
#include <ivrapi/ivrapi.hpp>
#include <ivrapi/mock/server.hpp>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

// The same in a function: a conditional between two Json temporaries in an initializer list.
ivrapi::Json params(bool with_caller, int caller, const std::optional<std::string>& lang) {
    return ivrapi::Json::object({
        {"caller", with_caller ? ivrapi::Json(caller) : ivrapi::Json(nullptr)},
        {"lang", lang ? ivrapi::Json(*lang) : ivrapi::Json(nullptr)},
        {"list", ivrapi::Json::array({with_caller ? ivrapi::Json(1.5) : ivrapi::Json("none"), ivrapi::Json(true)})},
    });
}

ivrapi::Result<int> digits(const ivrapi::ComponentStopped& stopped) {
    const std::string d = stopped.result("digits");
    if (d.empty()) return ivrapi::Error(ivrapi::Errc::invalid_argument, "no digits");
    return static_cast<int>(d.size());
}

void handle(ivrapi::Session& call) {
    ivrapi::Record rec;
    rec.max_duration = std::chrono::seconds(30);
    rec.stop_digits = "#";
    auto stopped = call.apply(rec).get();
    if (stopped) std::cout << stopped->result("nameVar") << "\n";
    const int n = call.collect_digits(4, std::chrono::seconds(5)).get().and_then(digits).value_or(0);
    auto link = call.file_get_path(":TEMP/x.wav").get().transform([](const ivrapi::FileLink& l) { return l.url; });
    std::cout << n << link.value_or(std::string("no link")) << "\n";
    call.on_dtmf([](const ivrapi::DtmfEvent& e) { std::cout << e.dtmf << "\n"; });
    if (auto hung = call.hangup().get(); !hung) std::cerr << hung.error().to_string() << "\n";
}

}  // namespace

int main(int argc, char** argv) {
    // The reported case, inline in the caller (GCC 12 warned here four to five times).
    const bool cond = argc > 1;
    const ivrapi::Json inline_case = ivrapi::Json::object({{"a", cond ? ivrapi::Json(argc) : ivrapi::Json(nullptr)}});
    std::cout << inline_case.dump() << "\n";

    std::cout << ivrapi::version() << " " << IVRAPI_VERSION_STRING << "\n";
    std::cout << params(argc > 1, argc, argc > 2 ? std::optional<std::string>(argv[1]) : std::nullopt).dump() << "\n";
    auto parsed = ivrapi::Json::parse(argc > 1 ? argv[1] : "{}");
    ivrapi::Json copy = parsed ? *parsed : ivrapi::Json();
    copy.set("k", argc > 3 ? ivrapi::Json(std::vector<ivrapi::Json>{1, 2}) : ivrapi::Json(nullptr));

    ivrapi::ClientOptions options;
    options.url = "ws://127.0.0.1:1/ws/token/v1";
    options.token = "t";
    ivrapi::Client client(options);
    client.on_state([](ivrapi::ConnectionState s, const ivrapi::Error& e) {
        std::cerr << ivrapi::to_string(s) << " " << e.message << "\n";
    });
    client.on_offer([](ivrapi::Offer offer) {
        offer.accept([](ivrapi::Result<ivrapi::Session> s) {
            if (!s) std::cerr << s.error().to_string() << "\n";
        });
    });
    if (argc > 4) client.serve(handle);
    client.stop();

    ivrapi::mock::Server server;
    ivrapi::mock::CallOptions caller;
    caller.caller_dtmf = {{std::chrono::milliseconds(100), "1234#"}};
    if (argc > 5) {
        auto call = server.start_call(caller);
        return call.wait_ended(std::chrono::seconds(1)) ? 0 : 1;
    }
    return copy.size() > 5 ? 1 : 0;
}
