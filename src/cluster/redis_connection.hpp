// One synchronous Redis connection (hiredis) with a connect and command timeout, used
// only on the coordinator's own thread. A lost connection is re-opened by the next
// command; no call blocks longer than the timeout (plus one connect).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct redisContext;

namespace ivrapi::cluster::detail {

// Where Redis is and who we are there: parsed from
// "redis://[[user]:password@]host[:port][/db]" (user and password percent-decoded).
struct RedisAddress {
    std::string host;
    int port = 6379;
    int db = 0;
    std::string user;      // empty: AUTH with the password alone (the "default" user)
    std::string password;  // empty: no AUTH
};
// Throws std::invalid_argument with the reason on a malformed URL; the message shows
// the URL with its password replaced by "***".
RedisAddress parse_redis_url(const std::string& url);
// The URL as it may be logged: a password in it replaced by "***".
std::string redact_redis_url(const std::string& url);

// A reply, copied out of hiredis.
struct RedisReply {
    enum class Type { nil, integer, string, status, array, error };
    Type type = Type::nil;
    long long integer = 0;
    std::string text;  // string, status or error
    std::vector<RedisReply> elements;

    bool is_nil() const { return type == Type::nil; }
    bool is_error() const { return type == Type::error; }
};

class RedisConnection {
public:
    RedisConnection(RedisAddress address, std::chrono::milliseconds timeout);
    ~RedisConnection();
    RedisConnection(const RedisConnection&) = delete;
    RedisConnection& operator=(const RedisConnection&) = delete;

    // Runs one command. nullopt when Redis could not be reached or the connection broke
    // (`error` says why; the connection is closed and re-opened by the next call). An
    // error reply from Redis is a reply (Type::error), not nullopt.
    std::optional<RedisReply> command(const std::vector<std::string>& argv, std::string& error);
    bool connected() const { return context_ != nullptr; }
    void close();

private:
    bool connect(std::string& error);

    RedisAddress address_;
    std::chrono::milliseconds timeout_;
    redisContext* context_ = nullptr;
};

}  // namespace ivrapi::cluster::detail
