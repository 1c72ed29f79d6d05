#include "mock/files.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
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

namespace {
// The parts of a relative path, or nullopt when one could leave its directory.
std::optional<fs::path> safe_relative(const std::string& rest) {
    std::stringstream parts(rest);
    std::string part;
    fs::path out;
    while (std::getline(parts, part, '/')) {
        if (part.empty() || part == ".") continue;
        if (part == ".." || part.find('\0') != std::string::npos || part.find('\\') != std::string::npos) {
            return std::nullopt;
        }
        out /= part;
    }
    return out;
}
}  // namespace

std::string local_path_of(const Storage& storage, const std::string& platform_path, const std::string& call_temp) {
    if (platform_path.empty()) return {};
    if (platform_path[0] != ':') {  // a file attached to the script
        if (storage.script_dir.empty()) return {};
        auto rel = safe_relative(platform_path);
        return rel && !rel->empty() ? (fs::path(storage.script_dir) / *rel).string() : std::string();
    }
    std::string name = storage_of(platform_path);
    if (name.empty()) return {};
    auto slash = platform_path.find('/');
    auto rel = safe_relative(slash == std::string::npos ? "" : platform_path.substr(slash + 1));
    if (!rel) return {};
    fs::path base;
    if (name == "TEMP") {
        if (call_temp.empty()) return {};
        base = call_temp;
    } else if (auto it = storage.mapped.find(name); it != storage.mapped.end()) {
        base = it->second;
    } else {
        if (storage.root.empty()) return {};
        base = fs::path(storage.root) / "static" / name;
    }
    return (base / *rel).string();
}

bool playable_file(const std::string& local) {
    std::error_code ec;
    if (local.empty()) return false;
    if (fs::is_regular_file(local, ec)) return true;
    if (!fs::is_directory(local, ec)) return false;
    for (const auto& e : fs::directory_iterator(local, ec)) {
        if (e.is_regular_file(ec)) return true;
    }
    return false;
}

bool link_or_copy(const std::string& from, const std::string& to) {
    std::error_code ec;
    fs::create_directories(fs::path(to).parent_path(), ec);
    fs::remove(to, ec);
    fs::create_hard_link(from, to, ec);
    if (!ec) return true;
    ec.clear();
    return fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec) && !ec;
}

void remove_file(const std::string& path) {
    std::error_code ec;
    if (!path.empty()) fs::remove(path, ec);
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
    put16(s, 1);  // PCM
    put16(s, 1);  // mono
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

bool wait_fd(int fd, short events, std::chrono::milliseconds timeout) {
    pollfd p{fd, events, 0};
    for (;;) {
        int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
        if (r < 0 && errno == EINTR) continue;
        return r > 0;
    }
}

// One connected socket, plain or TLS; every step bounded by `timeout`.
class Stream {
public:
    Stream(int fd, std::chrono::milliseconds timeout) : fd_(fd), timeout_(timeout) {}
    ~Stream() {
        if (ssl_) SSL_free(ssl_);
        if (ctx_) SSL_CTX_free(ctx_);
        if (fd_ >= 0) ::close(fd_);
    }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    bool start_tls(const std::string& host, const std::string& ca_file, std::string& why) {
        ctx_ = SSL_CTX_new(TLS_client_method());
        if (!ctx_) return fail_tls("cannot create a TLS context", why);
        SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
        const int loaded = ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx_)
                                           : SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
        if (loaded != 1) return fail_tls("cannot load the CA file '" + ca_file + "'", why);
        ssl_ = SSL_new(ctx_);
        if (!ssl_ || SSL_set_fd(ssl_, fd_) != 1) return fail_tls("cannot create a TLS session", why);
        in6_addr a6{};
        in_addr a4{};
        const bool is_ip =
            ::inet_pton(AF_INET, host.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &a6) == 1;
        if (is_ip) {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str());
        } else {
            SSL_set_tlsext_host_name(ssl_, host.c_str());
            SSL_set1_host(ssl_, host.c_str());
        }
        for (;;) {
            int rc = SSL_connect(ssl_);
            if (rc == 1) return true;
            if (!wait_tls(rc)) {
                long verify = SSL_get_verify_result(ssl_);
                if (verify != X509_V_OK) {
                    why = std::string("TLS: certificate not trusted: ") + X509_verify_cert_error_string(verify);
                    return false;
                }
                return fail_tls("TLS handshake failed", why);
            }
        }
    }

    bool write_all(const std::string& data, std::string& why) {
        std::size_t sent = 0;
        while (sent < data.size()) {
            if (ssl_) {
                int n = SSL_write(ssl_, data.data() + sent, static_cast<int>(data.size() - sent));
                if (n > 0) {
                    sent += static_cast<std::size_t>(n);
                } else if (!wait_tls(n)) {
                    return fail_tls("TLS write failed", why);
                }
                continue;
            }
            if (!wait_fd(fd_, POLLOUT, timeout_)) {
                why = "timeout sending the request";
                return false;
            }
            ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN) continue;
                why = std::string("send failed: ") + std::strerror(errno);
                return false;
            }
            sent += static_cast<std::size_t>(n);
        }
        return true;
    }

    // Reads to the end of the stream (HTTP/1.0 with "Connection: close").
    bool read_all(std::string& out, std::size_t max, std::string& why) {
        char buf[16384];
        for (;;) {
            if (ssl_) {
                int n = SSL_read(ssl_, buf, sizeof buf);
                if (n > 0) {
                    out.append(buf, static_cast<std::size_t>(n));
                } else {
                    int err = SSL_get_error(ssl_, n);
                    if (err == SSL_ERROR_ZERO_RETURN) return true;
                    if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) return true;  // closed without close_notify
                    if (!wait_tls(n)) return fail_tls("TLS read failed", why);
                }
            } else {
                if (!wait_fd(fd_, POLLIN, timeout_)) {
                    why = "timeout reading the response";
                    return false;
                }
                ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
                if (n < 0) {
                    if (errno == EINTR || errno == EAGAIN) continue;
                    why = std::string("read failed: ") + std::strerror(errno);
                    return false;
                }
                if (n == 0) return true;
                out.append(buf, static_cast<std::size_t>(n));
            }
            if (out.size() > max) {
                why = "response too large";
                return false;
            }
        }
    }

private:
    // After an SSL call returned rc <= 0: waits for the socket when OpenSSL asks to.
    bool wait_tls(int rc) {
        int err = SSL_get_error(ssl_, rc);
        if (err == SSL_ERROR_WANT_READ) return wait_fd(fd_, POLLIN, timeout_);
        if (err == SSL_ERROR_WANT_WRITE) return wait_fd(fd_, POLLOUT, timeout_);
        return false;
    }
    static bool fail_tls(const std::string& what, std::string& why) {
        char buf[256] = {0};
        unsigned long e = ERR_get_error();
        if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
        ERR_clear_error();
        why = what + (e != 0 ? std::string(": ") + buf : std::string());
        return false;
    }

    int fd_ = -1;
    std::chrono::milliseconds timeout_;
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
};

bool fetch_http(const std::string& url, bool tls, std::chrono::milliseconds timeout, const std::string& ca_file,
                std::string& body, std::string& why) {
    std::string rest = url.substr(tls ? 8 : 7);  // after "https://" / "http://"
    auto slash = rest.find('/');
    std::string hostport = rest.substr(0, slash);
    std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
    path = path.substr(0, path.find('#'));
    std::string host = hostport, port = tls ? "443" : "80";
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
    int connected = -1;
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
            connected = fd;
            break;
        }
        last_error = std::strerror(errno);
        ::close(fd);
    }
    ::freeaddrinfo(res);
    if (connected < 0) {
        why = "cannot connect to " + hostport + ": " + last_error;
        return false;
    }
    Stream stream(connected, timeout);
    if (tls && !stream.start_tls(host, ca_file, why)) return false;
    std::string request =
        "GET " + path + " HTTP/1.0\r\nHost: " + hostport + "\r\nUser-Agent: ivrapi-mock\r\nConnection: close\r\n\r\n";
    if (!stream.write_all(request, why)) return false;
    std::string response;
    if (!stream.read_all(response, 64u * 1024u * 1024u, why)) return false;
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

bool fetch_url(const std::string& url, std::chrono::milliseconds timeout, const std::string& ca_file, std::string& body,
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
    if (url.compare(0, 7, "http://") == 0) return fetch_http(url, false, timeout, ca_file, body, why);
    if (url.compare(0, 8, "https://") == 0) return fetch_http(url, true, timeout, ca_file, body, why);
    why = "unsupported URL scheme (the mock fetches http://, https:// and file:// only)";
    return false;
}

}  // namespace ivrapi::mock::detail
