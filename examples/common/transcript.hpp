// A readable, timestamped log of what a bot does, safe from any thread.
#pragma once

#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>

namespace examples {

class Transcript {
public:
    explicit Transcript(std::ostream& out = std::cout) : out_(out), start_(std::chrono::steady_clock::now()) {}

    // "[  1.234] what       detail"
    void line(const std::string& what, const std::string& detail) {
        const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        char stamp[32];
        std::snprintf(stamp, sizeof stamp, "[%7.3f] ", t);
        std::string label = what;
        if (label.size() < 10) label.resize(10, ' ');
        std::lock_guard<std::mutex> lock(mutex_);
        out_ << stamp << label << ' ' << detail << std::endl;
    }
    void text(const std::string& s) {
        std::lock_guard<std::mutex> lock(mutex_);
        out_ << s << std::endl;
    }

private:
    std::ostream& out_;
    std::mutex mutex_;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace examples
