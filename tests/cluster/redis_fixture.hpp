// A real redis-server on a free loopback port for the cluster tests, started and
// restarted by the test. Without the binary the tests are skipped with a message
// (CI installs it through scripts/setup.sh, so CI never skips).
#pragma once

#include "cluster/redis_connection.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace ivrapi::test {

inline std::string find_redis_server() {
    if (const char* env = std::getenv("IVRAPI_REDIS_SERVER")) return env;
    for (const char* p : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"}) {
        if (access(p, X_OK) == 0) return p;
    }
    return {};
}

// A port nobody listens on now (bind to 0, read it, close).
inline int free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        close(fd);
        return 0;
    }
    const int port = ntohs(a.sin_port);
    close(fd);
    return port;
}

class RedisServer {
public:
    // With a password, the server requires AUTH (--requirepass) and url() carries it.
    explicit RedisServer(std::string password = {})
        : binary_(find_redis_server()), port_(free_port()), password_(std::move(password)) {
        if (available()) start();
    }
    ~RedisServer() { stop(); }
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    bool available() const { return !binary_.empty(); }
    int port() const { return port_; }
    std::string url() const {
        return "redis://" + (password_.empty() ? "" : ":" + password_ + "@") + "127.0.0.1:" + std::to_string(port_);
    }

    // Starts it (again, on the same port, with no data) and waits until it answers.
    void start() {
        pid_ = fork();
        if (pid_ == 0) {
            const int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            const std::string port = std::to_string(port_);
            std::vector<const char*> argv{binary_.c_str(), "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
                                          "--appendonly",  "no",     "--loglevel", "warning"};
            if (!password_.empty()) argv.insert(argv.end(), {"--requirepass", password_.c_str()});
            argv.push_back(nullptr);
            execv(binary_.c_str(), const_cast<char* const*>(argv.data()));
            _exit(127);
        }
        // Bounded wait for the first PING to succeed.
        cluster::detail::RedisConnection c(address(), std::chrono::milliseconds(200));
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        std::string error;
        while (std::chrono::steady_clock::now() < deadline) {
            auto r = c.command({"PING"}, error);
            if (r && !r->is_error()) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a child's startup
        }
        FAIL("redis-server did not answer on port " << port_ << ": " << error);
    }
    // SIGKILL: Redis vanishes as in a crash (no data kept: --save '').
    void kill_now() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    void stop() { kill_now(); }

    // A connection of the test's own, to look at (or spoil) what the replicas wrote.
    cluster::detail::RedisConnection client() const {
        return cluster::detail::RedisConnection(address(), std::chrono::milliseconds(500));
    }

private:
    cluster::detail::RedisAddress address() const {
        cluster::detail::RedisAddress a;
        a.host = "127.0.0.1";
        a.port = port_;
        a.password = password_;
        return a;
    }

    std::string binary_;
    int port_ = 0;
    std::string password_;
    pid_t pid_ = -1;
};

#define IVRAPI_REQUIRE_REDIS(server)                                                                    \
    do {                                                                                                \
        if (!(server).available()) {                                                                    \
            WARN("SKIPPED: redis-server not found (install redis-server, or set IVRAPI_REDIS_SERVER)"); \
            return;                                                                                     \
        }                                                                                               \
    } while (0)

// Runs one command on a fresh connection; the reply (REQUIREd to exist).
inline cluster::detail::RedisReply redis_do(const RedisServer& server, const std::vector<std::string>& argv) {
    auto c = server.client();
    std::string error;
    auto r = c.command(argv, error);
    REQUIRE(r.has_value());
    return *r;
}

}  // namespace ivrapi::test
