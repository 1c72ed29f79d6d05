// File side of the mock platform: platform paths, generated media files, uploads.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace ivrapi::mock::detail {

// Creates a fresh directory under /tmp ("" on failure).
std::string make_temp_dir();
// Removes a directory tree (best effort).
void remove_tree(const std::string& path);

// The canonical storage name of a path prefix (":GS_PUB" -> "GLOBALSHARE_PUBLIC",
// ":TEMP" -> "TEMP"), "" when the prefix is unknown. `path` starts with ':'.
std::string storage_of(const std::string& path);
// Where platform paths live on disk.
struct Storage {
    std::string root;                           // unmapped storages: <root>/static/<NAME>/...
    std::map<std::string, std::string> mapped;  // canonical NAME -> local dir (static_dirs)
    std::string script_dir;                     // names without a storage prefix
};
// Local file behind a platform path: ":TEMP/a.wav" -> <call_temp>/a.wav ("" without a
// call), ":GS_PUB/x" -> the mapped dir or <root>/static/GLOBALSHARE_PUBLIC/x, a bare
// "x.wav" -> <script_dir>/x.wav. "" when unknown or unsafe ("..").
std::string local_path_of(const Storage& storage, const std::string& platform_path, const std::string& call_temp);
// A regular file, or a directory holding one (the platform plays a random file of it).
bool playable_file(const std::string& local);
// Hard link (or copy) `from` to `to`, creating parent directories.
bool link_or_copy(const std::string& from, const std::string& to);
void remove_file(const std::string& path);

// Writes `bytes` to `path`, creating parent directories. False on failure.
bool write_file(const std::string& path, const std::string& bytes);
bool read_file(const std::string& path, std::string& bytes);
bool file_exists(const std::string& path);

// A valid 8 kHz mono 16-bit PCM WAV holding a quiet 440 Hz tone (length capped at 10 s).
std::string make_wav(std::chrono::milliseconds duration);
// A valid 1x1 bilevel TIFF (stands in for a received fax).
std::string make_tiff();

// Content-Type for a file name by extension.
std::string content_type_of(const std::string& name);
// Last path segment of a URL without query/fragment, restricted to [A-Za-z0-9._-].
std::string file_name_of_url(const std::string& url);

// Fetches http(s)://host[:port]/path (HTTP/1.0, blocking, bounded by `timeout` per
// step; https verifies the peer against `ca_file`, or the system CAs when empty) or
// file:///path. False with `why` on failure (including a non-200 status).
bool fetch_url(const std::string& url, std::chrono::milliseconds timeout, const std::string& ca_file, std::string& body,
               std::string& why);

}  // namespace ivrapi::mock::detail
