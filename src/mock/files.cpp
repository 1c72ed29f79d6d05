#include "mock/files.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace fs = std::filesystem;

namespace ivrapi::mock::detail {

std::string make_temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "ivrapi-mock-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) return {};
    return std::string(buf.data());
}

void remove_tree(const std::string& path) {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
}

std::string storage_of(const std::string& path) {
    static const std::pair<const char*, const char*> aliases[] = {
        {":TEMP", "TEMP"},
        {":SYNC_COMMON", "SYNC_COMMON"},
        {":SYN_MEDIA", "SYNC_COMMON"},
        {":SYNC_DOMAIN_DATA", "SYNC_DOMAIN_DATA"},
        {":SYN_DOM", "SYNC_DOMAIN_DATA"},
        {":SYNC_DOMAIN_COMMON", "SYNC_DOMAIN_COMMON"},
        {":SYN_DOM_MEDIA", "SYNC_DOMAIN_COMMON"},
        {":SITESHARE_PUBLIC", "SITESHARE_PUBLIC"},
        {":SS_PUB", "SITESHARE_PUBLIC"},
        {":SITESHARE_DOMAIN_DATA", "SITESHARE_DOMAIN_DATA"},
        {":SS_DOM", "SITESHARE_DOMAIN_DATA"},
        {":GLOBALSHARE_PUBLIC", "GLOBALSHARE_PUBLIC"},
        {":GS_PUB", "GLOBALSHARE_PUBLIC"},
        {":GLOBALSHARE_DOMAIN_DATA", "GLOBALSHARE_DOMAIN_DATA"},
        {":GS_DOM", "GLOBALSHARE_DOMAIN_DATA"},
    };
    std::string prefix = path.substr(0, path.find('/'));
    for (const auto& [alias, canon] : aliases) {
        if (prefix == alias) return canon;
    }
    return {};
}

std::string local_path_of(const std::string& root, const std::string& platform_path) {
    if (root.empty() || platform_path.empty() || platform_path[0] != ':') return {};
    std::string storage = storage_of(platform_path);
    if (storage.empty()) return {};
    auto slash = platform_path.find('/');
    std::string rest = slash == std::string::npos ? "" : platform_path.substr(slash + 1);
    // Refuse anything that could leave the storage directory.
    std::stringstream parts(rest);
    std::string part;
    fs::path local = fs::path(root) / (storage == "TEMP" ? "TEMP" : "static/" + storage);
    while (std::getline(parts, part, '/')) {
        if (part.empty() || part == ".") continue;
        if (part == ".." || part.find('\0') != std::string::npos || part.find('\\') != std::string::npos) {
            return {};
        }
        local /= part;
    }
    return local.string();
}

bool write_file(const std::string& path, const std::string& bytes) {
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return static_cast<bool>(out);
}

bool read_file(const std::string& path, std::string& bytes) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return false;
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    bytes = ss.str();
    return true;
}

bool file_exists(const std::string& path) {
    std::error_code ec;
    return !path.empty() && fs::is_regular_file(path, ec);
}

namespace {
void put16(std::string& s, std::uint16_t v) {
    s.push_back(static_cast<char>(v & 0xff));
    s.push_back(static_cast<char>(v >> 8));
}
void put32(std::string& s, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
}  // namespace

std::string make_wav(std::chrono::milliseconds duration) {
    constexpr std::uint32_t rate = 8000;
    auto ms = std::max<std::int64_t>(0, std::min<std::int64_t>(duration.count(), 10000));
    auto samples = static_cast<std::uint32_t>(rate * ms / 1000);
    std::uint32_t data_bytes = samples * 2;
    std::string s;
    s.reserve(44 + data_bytes);
    s += "RIFF";
    put32(s, 36 + data_bytes);
    s += "WAVE";
    s += "fmt ";
    put32(s, 16);
    put16(s, 1);         // PCM
    put16(s, 1);         // mono
    put32(s, rate);
    put32(s, rate * 2);  // byte rate
    put16(s, 2);         // block align
    put16(s, 16);        // bits per sample
    s += "data";
    put32(s, data_bytes);
    const double pi = 3.14159265358979323846;
    for (std::uint32_t i = 0; i < samples; ++i) {
        auto v = static_cast<std::int16_t>(std::lround(2000.0 * std::sin(2 * pi * 440.0 * i / rate)));
        put16(s, static_cast<std::uint16_t>(v));
    }
    return s;
}

std::string make_tiff() {
    // Little-endian TIFF: header, one IFD with 8 entries, one strip of one byte.
    std::string s = "II";
    put16(s, 42);
    put32(s, 8);  // IFD offset
    const std::uint16_t entries = 8;
    const std::uint32_t strip_offset = 8 + 2 + entries * 12 + 4;
    put16(s, entries);
    auto entry = [&](std::uint16_t tag, std::uint16_t type, std::uint32_t value) {
        put16(s, tag);
        put16(s, type);
        put32(s, 1);
        if (type == 3) {  // SHORT: value left-justified in the 4 bytes
            put16(s, static_cast<std::uint16_t>(value));
            put16(s, 0);
        } else {
            put32(s, value);
        }
    };
    entry(256, 3, 1);             // ImageWidth
    entry(257, 3, 1);             // ImageLength
    entry(258, 3, 1);             // BitsPerSample
    entry(259, 3, 1);             // Compression: none
    entry(262, 3, 0);             // PhotometricInterpretation: white is zero
    entry(273, 4, strip_offset);  // StripOffsets
    entry(278, 3, 1);             // RowsPerStrip
    entry(279, 4, 1);             // StripByteCounts
    put32(s, 0);                  // no next IFD
    s.push_back('\0');            // the pixel
    return s;
}

std::string content_type_of(const std::string& name) {
    auto dot = name.rfind('.');
    std::string ext = dot == std::string::npos ? "" : name.substr(dot + 1);
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext == "wav") return "audio/wav";
    if (ext == "mp3") return "audio/mpeg";
    if (ext == "ogg") return "audio/ogg";
    if (ext == "tif" || ext == "tiff") return "image/tiff";
    if (ext == "txt") return "text/plain";
    if (ext == "json") return "application/json";
    return "application/octet-stream";
}

std::string file_name_of_url(const std::string& url) {
    std::string path = url.substr(0, url.find_first_of("?#"));
    auto slash = path.rfind('/');
    std::string last = slash == std::string::npos ? path : path.substr(slash + 1);
    std::string out;
    for (char c : last) {
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') out += c;
    }
    if (out.empty() || out == "." || out == "..") return {};
    return out;
}

namespace {

std::string percent_decode(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out += static_cast<char>(std::strtol(s.substr(i + 1, 2).c_str(), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

bool wait_fd(int fd, short events, std::chrono::milliseconds timeout) {
    pollfd p{fd, events, 0};
    for (;;) {
        int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
        if (r < 0 && errno == EINTR) continue;
        return r > 0;
    }
}

bool fetch_http(const std::string& url, std::chrono::milliseconds timeout, std::string& body,
                std::string& why) {
    std::string rest = url.substr(7);  // after "http://"
    auto slash = rest.find('/');
    std::string hostport = rest.substr(0, slash);
    std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
    path = path.substr(0, path.find('#'));
    std::string host = hostport, port = "80";
    if (!hostport.empty() && hostport[0] == '[') {
        auto close = hostport.find(']');
        if (close == std::string::npos) {
            why = "bad URL host";
            return false;
        }
        host = hostport.substr(1, close - 1);
        if (close + 1 < hostport.size() && hostport[close + 1] == ':') port = hostport.substr(close + 2);
    } else if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
        host = hostport.substr(0, colon);
        port = hostport.substr(colon + 1);
    }
    if (host.empty()) {
        why = "bad URL host";
        return false;
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
        why = std::string("cannot resolve ") + host + ": " + ::gai_strerror(rc);
        return false;
    }
    Fd sock;
    std::string last_error = "no address";
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        int flags = ::fcntl(fd, F_GETFL, 0);
        ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            if (wait_fd(fd, POLLOUT, timeout)) {
                int err = 0;
                socklen_t len = sizeof err;
                ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                rc = err == 0 ? 0 : -1;
                errno = err;
            } else {
                errno = ETIMEDOUT;
            }
        }
        if (rc == 0) {
            sock.fd = fd;
            break;
        }
        last_error = std::strerror(errno);
        ::close(fd);
    }
    ::freeaddrinfo(res);
    if (sock.fd < 0) {
        why = "cannot connect to " + hostport + ": " + last_error;
        return false;
    }
    std::string request = "GET " + path + " HTTP/1.0\r\nHost: " + hostport +
                          "\r\nUser-Agent: ivrapi-mock\r\nConnection: close\r\n\r\n";
    std::size_t sent = 0;
    while (sent < request.size()) {
        if (!wait_fd(sock.fd, POLLOUT, timeout)) {
            why = "timeout sending the request";
            return false;
        }
        ssize_t n = ::send(sock.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            why = std::string("send failed: ") + std::strerror(errno);
            return false;
        }
        sent += static_cast<std::size_t>(n);
    }
    std::string response;
    char buf[16384];
    constexpr std::size_t kMax = 64u * 1024u * 1024u;
    for (;;) {
        if (!wait_fd(sock.fd, POLLIN, timeout)) {
            why = "timeout reading the response";
            return false;
        }
        ssize_t n = ::recv(sock.fd, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            why = std::string("read failed: ") + std::strerror(errno);
            return false;
        }
        if (n == 0) break;
        response.append(buf, static_cast<std::size_t>(n));
        if (response.size() > kMax) {
            why = "response too large";
            return false;
        }
    }
    auto header_end = response.find("\r\n\r\n");
    if (header_end == std::string::npos || response.compare(0, 5, "HTTP/") != 0) {
        why = "malformed HTTP response";
        return false;
    }
    auto sp = response.find(' ');
    int status = sp == std::string::npos ? 0 : std::atoi(response.c_str() + sp + 1);
    if (status != 200) {
        why = "HTTP status " + std::to_string(status);
        return false;
    }
    body = response.substr(header_end + 4);
    return true;
}

}  // namespace

bool fetch_url(const std::string& url, std::chrono::milliseconds timeout, std::string& body,
               std::string& why) {
    if (url.compare(0, 7, "file://") == 0) {
        std::string path = percent_decode(url.substr(7));
        if (path.compare(0, 9, "localhost") == 0) path = path.substr(9);
        if (path.empty() || path[0] != '/') {
            why = "file URL must be absolute";
            return false;
        }
        if (!read_file(path, body)) {
            why = "cannot read " + path;
            return false;
        }
        return true;
    }
    if (url.compare(0, 7, "http://") == 0) return fetch_http(url, timeout, body, why);
    why = "unsupported URL scheme (the mock fetches http:// and file:// only)";
    return false;
}

}  // namespace ivrapi::mock::detail
