// A tiny blocking HTTP/1.0 GET for plain http:// URLs (enough to fetch a file link
// in the demo; a real app would use its HTTP client of choice).
#pragma once

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <string>

namespace examples {

struct HttpResponse {
    int status = 0;  // 0: could not connect or parse
    std::string body;
};

inline HttpResponse http_get(const std::string& url) {
    HttpResponse r;
    const std::string prefix = "http://";
    if (url.rfind(prefix, 0) != 0) return r;
    const auto slash = url.find('/', prefix.size());
    const std::string authority = url.substr(prefix.size(), slash - prefix.size());
    const std::string path = slash == std::string::npos ? "/" : url.substr(slash);
    const auto colon = authority.rfind(':');
    const std::string host = authority.substr(0, colon);
    const std::string port = colon == std::string::npos ? "80" : authority.substr(colon + 1);

    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res) return r;
    const int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const bool connected = fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0;
    freeaddrinfo(res);
    if (!connected) {
        if (fd >= 0) close(fd);
        return r;
    }
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: " + authority + "\r\n\r\n";
    (void)!write(fd, request.data(), request.size());
    std::string raw;
    char buf[4096];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) raw.append(buf, static_cast<size_t>(n));
    close(fd);
    const auto head_end = raw.find("\r\n\r\n");
    const auto sp = raw.find(' ');
    if (head_end == std::string::npos || sp == std::string::npos) return r;
    r.status = std::atoi(raw.c_str() + sp + 1);
    r.body = raw.substr(head_end + 4);
    return r;
}

}  // namespace examples
