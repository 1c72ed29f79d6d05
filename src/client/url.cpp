#include "client/url.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <stdexcept>

namespace ivrapi::detail {
namespace {

[[noreturn]] void reject(const std::string& what) { throw std::invalid_argument("ivrapi::ClientOptions: " + what); }

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

}  // namespace

ConnectTarget make_connect_target(const ClientOptions& o) {
    ConnectTarget t;
    const std::string& url = o.url;
    const auto scheme_end = url.find("://");
    if (url.empty()) reject("url is empty (expected wss://HOST/ws/token/v1)");
    if (scheme_end == std::string::npos) reject("url must start with ws:// or wss://");
    const std::string scheme = lower(url.substr(0, scheme_end));
    if (scheme != "ws" && scheme != "wss") reject("url must start with ws:// or wss:// (not " + scheme + "://)");
    t.tls = scheme == "wss";

    const std::string rest = url.substr(scheme_end + 3);
    const auto path_start = rest.find('/');
    const std::string authority = rest.substr(0, path_start);
    const std::string path = path_start == std::string::npos ? std::string() : rest.substr(path_start);
    if (authority.empty()) reject("url has no host");
    if (authority.find('@') != std::string::npos) reject("url must not carry user info");

    std::string host = authority, port;
    if (authority[0] == '[') {
        const auto close = authority.find(']');
        if (close == std::string::npos) reject("url has an unterminated IPv6 address");
        host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') reject("url has garbage after the IPv6 address");
            port = authority.substr(close + 2);
        }
    } else if (const auto colon = authority.rfind(':'); colon != std::string::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty()) reject("url has no host");
    for (char c : host) {
        if (std::isspace(static_cast<unsigned char>(c)) || c == '/' || c == '?' || c == '#') {
            reject("url host contains an invalid character");
        }
    }
    t.host = host;
    t.port = t.tls ? 443 : 80;
    if (!port.empty() || (authority.back() == ':')) {
        if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)) {
            reject("url port must be a number from 1 to 65535");
        }
        const long p = std::stol(port);
        if (p < 1 || p > 65535) reject("url port must be a number from 1 to 65535");
        t.port = static_cast<std::uint16_t>(p);
    }

    static const std::string kBase = "/ws/token/v1";
    const auto base = path.find(kBase);
    if (base == std::string::npos) reject("url path must end in /ws/token/v1 or /ws/token/v1/<TOKEN>");
    std::string path_token = path.substr(base + kBase.size());
    if (!path_token.empty()) {
        if (path_token[0] != '/') reject("url path must end in /ws/token/v1 or /ws/token/v1/<TOKEN>");
        path_token.erase(0, 1);
        if (path_token.find_first_of("/?# ") != std::string::npos) {
            reject("url has something after the token in its path");
        }
    }
    if (!path_token.empty() && !o.token.empty() && path_token != o.token) {
        reject("the token is given twice (url path and token) with different values");
    }
    if (path_token.empty() && o.token.empty()) {
        reject("no token: set ClientOptions.token or put it in the url path");
    }
    if (o.token.find_first_of("\r\n") != std::string::npos) reject("token contains a line break");
    t.bearer_token = path_token.empty() ? o.token : std::string();
    const std::string host_for_uri = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    t.uri = scheme + "://" + host_for_uri + ":" + std::to_string(t.port) + path.substr(0, base + kBase.size()) +
            (path_token.empty() ? std::string() : "/" + path_token);

    using std::chrono::milliseconds;
    // Far beyond any real need, and far from overflowing now() + duration in chrono.
    constexpr milliseconds kLongest = std::chrono::hours(24 * 30);
    auto at_most = [&](milliseconds v, const char* name) {
        if (v > kLongest) reject(std::string(name) + " must be at most 30 days");
    };
    at_most(o.request_timeout, "request_timeout");
    at_most(o.connect_timeout, "connect_timeout");
    at_most(o.component_timeout, "component_timeout");
    at_most(o.ping_interval, "ping_interval");
    at_most(o.pong_timeout, "pong_timeout");
    at_most(o.reconnect.initial_delay, "reconnect.initial_delay");
    at_most(o.reconnect.max_delay, "reconnect.max_delay");
    at_most(o.reconnect.reset_after, "reconnect.reset_after");
    if (o.subscription_lifetime > std::chrono::duration_cast<std::chrono::seconds>(kLongest)) {
        reject("subscription_lifetime must be at most 30 days");
    }
    if (o.reconnect.reset_after < milliseconds(0)) reject("reconnect.reset_after must not be negative");
    if (o.request_timeout <= milliseconds(0)) reject("request_timeout must be positive");
    if (o.connect_timeout <= milliseconds(0)) reject("connect_timeout must be positive");
    if (o.component_timeout <= milliseconds(0)) reject("component_timeout must be positive");
    if (o.reconnect.initial_delay <= milliseconds(0)) reject("reconnect.initial_delay must be positive");
    if (o.reconnect.max_delay < o.reconnect.initial_delay) reject("reconnect.max_delay is below initial_delay");
    if (!(o.reconnect.jitter >= 0 && o.reconnect.jitter <= 1)) reject("reconnect.jitter must be within [0, 1]");
    if (o.ping_interval < milliseconds(0)) reject("ping_interval must not be negative");
    if (o.ping_interval > milliseconds(0) && o.pong_timeout <= milliseconds(0)) {
        reject("pong_timeout must be positive when pings are on");
    }
    if (o.subscription_lifetime < std::chrono::seconds(10)) reject("subscription_lifetime must be at least 10 s");
    if (o.max_message_size < 1024) reject("max_message_size must be at least 1024 bytes");
    if (!o.tls.ca_file.empty()) {
        if (!t.tls) reject("tls.ca_file is set but the url is ws:// (no TLS)");
        std::ifstream probe(o.tls.ca_file);
        if (!probe) reject("tls.ca_file '" + o.tls.ca_file + "' cannot be read");
    }
    return t;
}

std::string redact(std::string text, const std::string& secret) {
    if (secret.empty()) return text;
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3)) {
        text.replace(pos, secret.size(), "***");
    }
    return text;
}

}  // namespace ivrapi::detail
