// Runs a program with pipes for stdout/stderr, for tests of the CLI and the examples.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

extern char** environ;

namespace ivrapi::test {

class Process {
public:
    explicit Process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {}) {
        int out[2], err[2];
        if (pipe(out) != 0 || pipe(err) != 0) return;
        std::vector<std::string> env_strings;
        for (char** e = environ; *e; ++e) {
            std::string kv = *e;
            if (!env.count(kv.substr(0, kv.find('=')))) env_strings.push_back(kv);
        }
        for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
        pid_ = fork();
        if (pid_ == 0) {
            dup2(out[1], 1);
            dup2(err[1], 2);
            close(out[0]);
            close(err[0]);
            std::vector<char*> args, envp;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            for (const auto& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
            envp.push_back(nullptr);
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, nullptr);
            execve(args[0], args.data(), envp.data());
            _exit(127);
        }
        close(out[1]);
        close(err[1]);
        out_ = out[0];
        err_ = err[0];
    }
    ~Process() {
        if (pid_ > 0 && !exit_code_) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (out_ >= 0) close(out_);
        if (err_ >= 0) close(err_);
    }

    // The next stdout line, waiting at most `timeout`.
    std::optional<std::string> line(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const auto nl = stdout_.find('\n');
            if (nl != std::string::npos) {
                std::string l = stdout_.substr(0, nl);
                stdout_.erase(0, nl + 1);
                return l;
            }
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0 || !pump(left)) return std::nullopt;
        }
    }
    // Reads until a stdout line contains `needle`; every line read is kept in lines().
    std::optional<std::string> line_with(const std::string& needle, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return std::nullopt;
            auto l = line(left);
            if (!l) return std::nullopt;
            lines_.push_back(*l);
            if (l->find(needle) != std::string::npos) return l;
        }
    }
    void signal(int sig) {
        if (pid_ > 0) kill(pid_, sig);
    }
    // Reads until stderr contains `needle` (false on timeout or exit).
    bool wait_stderr_contains(const std::string& needle, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (stderr_.find(needle) == std::string::npos) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0 || !pump(left)) return false;
        }
        return true;
    }
    // Waits for the exit (reading the rest of the output); nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (out_ >= 0 || err_ >= 0) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0 || !pump(left)) break;
        }
        if (out_ >= 0 || err_ >= 0) return std::nullopt;
        int status = 0;
        waitpid(pid_, &status, 0);
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return exit_code_;
    }
    // Every stdout line: those read one by one, then the rest.
    std::vector<std::string> lines() {
        std::vector<std::string> all = lines_;
        std::string rest = stdout_;
        for (auto nl = rest.find('\n'); nl != std::string::npos; nl = rest.find('\n')) {
            all.push_back(rest.substr(0, nl));
            rest.erase(0, nl + 1);
        }
        return all;
    }
    const std::string& stdout_text() const { return stdout_; }
    const std::string& stderr_text() const { return stderr_; }

private:
    // Reads what is available (waiting at most `timeout`); false when both pipes closed
    // or nothing arrived in time.
    bool pump(std::chrono::milliseconds timeout) {
        pollfd fds[2];
        int n = 0;
        if (out_ >= 0) fds[n++] = {out_, POLLIN, 0};
        if (err_ >= 0) fds[n++] = {err_, POLLIN, 0};
        if (n == 0) return false;
        if (poll(fds, static_cast<nfds_t>(n), static_cast<int>(timeout.count())) <= 0) return false;
        for (int i = 0; i < n; ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[4096];
            const ssize_t got = read(fds[i].fd, buf, sizeof buf);
            const bool is_out = fds[i].fd == out_;
            if (got <= 0) {
                close(fds[i].fd);
                (is_out ? out_ : err_) = -1;
            } else {
                (is_out ? stdout_ : stderr_).append(buf, static_cast<size_t>(got));
            }
        }
        return true;
    }

    pid_t pid_ = -1;
    int out_ = -1, err_ = -1;
    std::string stdout_, stderr_;
    std::vector<std::string> lines_;
    std::optional<int> exit_code_;
};

}  // namespace ivrapi::test
