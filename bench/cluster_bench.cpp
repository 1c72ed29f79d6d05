// Claiming with replicas on Redis (issue 13): claim rate, offer -> claimed latency and
// accept requests per offer with 1, 2 and 4 replicas (Clients in this process, each with
// its own RedisCoordinator) against the mock platform, at a steady offer rate.
//
//   ivrapi_cluster_bench [--smoke] [--calls N] [--rate R]
//
// Starts its own redis-server on a free loopback port (needs the binary; exits 0 with a
// message without it). Prints one line per replica count, and a Markdown table.
#include <ivrapi/client.hpp>
#include <ivrapi/cluster.hpp>
#include <ivrapi/mock/server.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

int free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
        port = ntohs(a.sin_port);
    }
    close(fd);
    return port;
}

// redis-server on 127.0.0.1:port, no persistence, killed on destruction.
struct RedisProcess {
    pid_t pid = -1;
    explicit RedisProcess(int port) {
        pid = fork();
        if (pid == 0) {
            const int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            const std::string p = std::to_string(port);
            execl("/usr/bin/redis-server", "redis-server", "--port", p.c_str(), "--bind", "127.0.0.1", "--save", "",
                  "--appendonly", "no", static_cast<char*>(nullptr));
            _exit(127);
        }
    }
    ~RedisProcess() {
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
    }
};

struct Result {
    int replicas = 0;
    double accepts_per_offer = 0, claimed_per_s = 0, p50_ms = 0, p99_ms = 0;
    std::size_t claimed = 0, offered = 0;
};

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

Result run(const std::string& redis_url, int replicas, std::size_t calls, std::size_t rate) {
    ivrapi::mock::ServerOptions mo;
    mo.default_play_duration = 10ms;
    ivrapi::mock::Server server(mo);
    const std::string name = "bench-" + std::to_string(replicas) + "-" + std::to_string(getpid());
    std::mutex m;
    std::map<std::string, Clock::time_point> offered_at;
    std::vector<double> latency_ms;
    Clock::time_point first{}, last{};
    std::vector<std::shared_ptr<ivrapi::cluster::RedisCoordinator>> coordinators;
    std::vector<std::unique_ptr<ivrapi::Client>> clients;
    for (int i = 0; i < replicas; ++i) {
        ivrapi::cluster::Redis r;
        r.url = redis_url;
        r.name = name;
        r.replica_id = "b" + std::to_string(i);
        coordinators.push_back(std::make_shared<ivrapi::cluster::RedisCoordinator>(r));
        ivrapi::ClientOptions o;
        o.url = server.url();
        o.token = server.options().token;
        clients.push_back(std::make_unique<ivrapi::Client>(o));
        ivrapi::ServeOptions so;
        so.workers = 32;
        so.cluster = coordinators.back();
        clients.back()->serve(
            [&](ivrapi::Session& s) {
                const auto now = Clock::now();
                {
                    std::lock_guard<std::mutex> lock(m);
                    auto it = offered_at.find(s.ivrid());
                    if (it != offered_at.end()) {
                        latency_ms.push_back(std::chrono::duration<double, std::milli>(now - it->second).count());
                    }
                    if (first == Clock::time_point{}) first = now;
                    last = now;
                }
                (void)s.hangup().get();
            },
            so);
    }
    for (auto& c : clients) c->wait_ready(10s);
    // Every coordinator sees every replica (bounded).
    const auto settle = Clock::now() + 10s;
    while (Clock::now() < settle) {
        bool all = true;
        for (auto& c : coordinators) all = all && c->stats().live_replicas == static_cast<std::size_t>(replicas);
        if (all) break;
        std::this_thread::sleep_for(20ms);
    }
    const auto interval = std::chrono::nanoseconds(1000000000LL / static_cast<long long>(rate));
    auto next = Clock::now();
    std::vector<ivrapi::mock::Call> started;
    for (std::size_t i = 0; i < calls; ++i) {
        std::this_thread::sleep_until(next);
        next += interval;
        // Under the lock: a replica's handler may run before start_call() returns.
        std::lock_guard<std::mutex> lock(m);
        const auto at = Clock::now();
        auto call = server.start_call();
        offered_at[call.ivrid()] = at;
        started.push_back(call);
    }
    for (auto& c : started) c.wait_ended(20s);
    Result r;
    r.replicas = replicas;
    r.offered = calls;
    r.accepts_per_offer = static_cast<double>(server.request_count("ivrapi_accept")) / static_cast<double>(calls);
    std::lock_guard<std::mutex> lock(m);
    r.claimed = latency_ms.size();
    r.claimed_per_s =
        static_cast<double>(r.claimed) / std::max(1e-9, std::chrono::duration<double>(last - first).count());
    r.p50_ms = percentile(latency_ms, 0.50);
    r.p99_ms = percentile(latency_ms, 0.99);
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t calls = 2000, rate = 200;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--smoke") {
            calls = 40;
            rate = 100;
        } else if (a == "--calls" && i + 1 < argc) {
            calls = std::strtoul(argv[++i], nullptr, 10);
        } else if (a == "--rate" && i + 1 < argc) {
            rate = std::strtoul(argv[++i], nullptr, 10);
        } else {
            std::fprintf(stderr, "usage: ivrapi_cluster_bench [--smoke] [--calls N] [--rate R]\n");
            return 2;
        }
    }
    if (access("/usr/bin/redis-server", X_OK) != 0) {
        std::printf("ivrapi_cluster_bench: /usr/bin/redis-server not found: skipped\n");
        return 0;
    }
    const int port = free_port();
    RedisProcess redis(port);  // each run waits until its coordinators see every replica
    const std::string url = "redis://127.0.0.1:" + std::to_string(port);
    std::vector<Result> results;
    for (int n : {1, 2, 4}) {
        results.push_back(run(url, n, calls, rate));
        const auto& r = results.back();
        std::printf(
            "%d replica(s): %zu/%zu claimed, %.0f claimed/s, offer->claimed p50 %.2f ms p99 %.2f ms, "
            "%.3f accept requests per offer\n",
            r.replicas, r.claimed, r.offered, r.claimed_per_s, r.p50_ms, r.p99_ms, r.accepts_per_offer);
        std::fflush(stdout);
    }
    std::printf(
        "\n| replicas | offered/s | claimed/s | offer -> claimed p50 / p99 | accept requests per offer |\n"
        "|---|---|---|---|---|\n");
    bool ok = true;
    for (const auto& r : results) {
        std::printf("| %d | %zu | %.0f | %.2f / %.2f ms | %.3f |\n", r.replicas, rate, r.claimed_per_s, r.p50_ms,
                    r.p99_ms, r.accepts_per_offer);
        ok = ok && r.claimed == r.offered;
    }
    if (!ok) std::fprintf(stderr, "ivrapi_cluster_bench: not every offer was claimed\n");
    return ok ? 0 : 1;
}
