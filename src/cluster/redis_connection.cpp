#include "cluster/redis_connection.hpp"

#include <hiredis/hiredis.h>

#include <sys/time.h>
#include <stdexcept>

namespace ivrapi::cluster::detail {

namespace {
// `url` is already redacted: it goes into the message.
int parse_number(const std::string& text, const std::string& what, const std::string& url, int max) {
    if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) {
        throw std::invalid_argument("ivrapi::cluster: bad " + what + " in Redis URL '" + url + "'");
    }
    const int v = std::stoi(text);
    if (v > max) throw std::invalid_argument("ivrapi::cluster: " + what + " out of range in Redis URL '" + url + "'");
    return v;
}

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// %XX sequences decoded (a password may hold ':', '@' or '/').
std::string percent_decoded(const std::string& text, const std::string& what, const std::string& url) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        const int hi = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
        const int lo = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            std::string why = "ivrapi::cluster: bad %-escape in the ";
            why += what;
            why += " of Redis URL '" + url + "'";
            throw std::invalid_argument(why);
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

timeval to_timeval(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
    return tv;
}

RedisReply copy_reply(const redisReply* r) {
    RedisReply out;
    if (!r) return out;
    switch (r->type) {
        case REDIS_REPLY_INTEGER:
            out.type = RedisReply::Type::integer;
            out.integer = r->integer;
            break;
        case REDIS_REPLY_STRING:
        case REDIS_REPLY_STATUS:
        case REDIS_REPLY_ERROR:
            out.type = r->type == REDIS_REPLY_STRING   ? RedisReply::Type::string
                       : r->type == REDIS_REPLY_STATUS ? RedisReply::Type::status
                                                       : RedisReply::Type::error;
            out.text.assign(r->str, r->len);
            break;
        case REDIS_REPLY_ARRAY:
            out.type = RedisReply::Type::array;
            out.elements.reserve(r->elements);
            for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(copy_reply(r->element[i]));
            break;
        default: out.type = RedisReply::Type::nil; break;
    }
    return out;
}
}  // namespace

std::string redact_redis_url(const std::string& url) {
    const std::string scheme = "redis://";
    if (url.rfind(scheme, 0) != 0) return url;
    const auto at = url.rfind('@');
    if (at == std::string::npos) return url;
    const auto colon = url.find(':', scheme.size());
    if (colon == std::string::npos || colon > at) return url;  // a user name alone is not secret
    return url.substr(0, colon + 1) + "***" + url.substr(at);
}

RedisAddress parse_redis_url(const std::string& raw_url) {
    const std::string url = redact_redis_url(raw_url);  // what messages show
    const std::string scheme = "redis://";
    if (raw_url.rfind(scheme, 0) != 0) {
        throw std::invalid_argument("ivrapi::cluster: Redis URL '" + url + "' must start with redis://");
    }
    std::string rest = raw_url.substr(scheme.size());
    RedisAddress a;
    // Credentials first: the password may hold '/' (percent-encoded or not).
    if (const auto at = rest.rfind('@'); at != std::string::npos) {
        const std::string credentials = rest.substr(0, at);
        rest.erase(0, at + 1);
        const auto colon = credentials.find(':');
        if (colon == std::string::npos) {
            throw std::invalid_argument("ivrapi::cluster: credentials in Redis URL '" + url +
                                        "' must be user:password@ or :password@");
        }
        a.user = percent_decoded(credentials.substr(0, colon), "user", url);
        a.password = percent_decoded(credentials.substr(colon + 1), "password", url);
        if (a.password.empty()) {
            throw std::invalid_argument("ivrapi::cluster: empty password in Redis URL '" + url + "'");
        }
    }
    if (const auto slash = rest.find('/'); slash != std::string::npos) {
        const std::string db = rest.substr(slash + 1);
        if (!db.empty()) a.db = parse_number(db, "database number", url, 1 << 20);
        rest.resize(slash);
    }
    if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
        const auto close = rest.find(']');
        if (close == std::string::npos) throw std::invalid_argument("ivrapi::cluster: bad host in '" + url + "'");
        a.host = rest.substr(1, close - 1);
        rest.erase(0, close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') throw std::invalid_argument("ivrapi::cluster: bad port in '" + url + "'");
            a.port = parse_number(rest.substr(1), "port", url, 65535);
        }
    } else if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
        a.host = rest.substr(0, colon);
        a.port = parse_number(rest.substr(colon + 1), "port", url, 65535);
    } else {
        a.host = rest;
    }
    if (a.host.empty()) throw std::invalid_argument("ivrapi::cluster: no host in Redis URL '" + url + "'");
    if (a.port == 0) throw std::invalid_argument("ivrapi::cluster: port 0 in Redis URL '" + url + "'");
    return a;
}

RedisConnection::RedisConnection(RedisAddress address, std::chrono::milliseconds timeout)
    : address_(std::move(address)), timeout_(timeout) {}

RedisConnection::~RedisConnection() { close(); }

void RedisConnection::close() {
    if (context_) redisFree(context_);
    context_ = nullptr;
}

bool RedisConnection::connect(std::string& error) {
    close();
    redisContext* c = redisConnectWithTimeout(address_.host.c_str(), address_.port, to_timeval(timeout_));
    if (!c || c->err) {
        error = c ? std::string("cannot connect to Redis: ") + c->errstr : "cannot allocate a Redis context";
        if (c) redisFree(c);
        return false;
    }
    if (redisSetTimeout(c, to_timeval(timeout_)) != REDIS_OK) {
        error = "cannot set the Redis command timeout";
        redisFree(c);
        return false;
    }
    context_ = c;
    if (!address_.password.empty()) {
        std::vector<std::string> auth{"AUTH"};
        if (!address_.user.empty()) auth.push_back(address_.user);
        auth.push_back(address_.password);
        auto r = command(auth, error);
        if (!r || r->is_error()) {
            // Redis's own text (WRONGPASS, "no password is set"), never the password.
            if (r)
                error = "Redis refused AUTH" + (address_.user.empty() ? "" : " as '" + address_.user + "'") + ": " +
                        r->text;
            close();
            return false;
        }
    }
    if (address_.db != 0) {
        auto r = command({"SELECT", std::to_string(address_.db)}, error);
        if (!r || r->is_error()) {
            if (r) error = "SELECT " + std::to_string(address_.db) + ": " + r->text;
            close();
            return false;
        }
    }
    return true;
}

std::optional<RedisReply> RedisConnection::command(const std::vector<std::string>& argv, std::string& error) {
    if (!context_ && !connect(error)) return std::nullopt;
    std::vector<const char*> args;
    std::vector<size_t> lengths;
    args.reserve(argv.size());
    lengths.reserve(argv.size());
    for (const auto& a : argv) {
        args.push_back(a.data());
        lengths.push_back(a.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(context_, static_cast<int>(args.size()), args.data(), lengths.data()));
    if (!reply) {
        error = std::string("Redis: ") + (context_->err ? context_->errstr : "no reply");
        close();  // hiredis cannot use a context after an I/O error
        return std::nullopt;
    }
    RedisReply out = copy_reply(reply);
    freeReplyObject(reply);
    return out;
}

}  // namespace ivrapi::cluster::detail
