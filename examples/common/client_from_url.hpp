// Builds the examples' client from a URL on the command line and the ERA_TOKEN variable
// (the token can also be the URL's last path segment). A bad URL prints the reason.
#pragma once

#include <ivrapi/client.hpp>

#include <cstdlib>
#include <iostream>
#include <memory>

namespace examples {

inline std::unique_ptr<ivrapi::Client> client_from_url(const std::string& url) {
    ivrapi::ClientOptions options;
    options.url = url;
    if (const char* token = std::getenv("ERA_TOKEN")) options.token = token;
    try {
        return std::make_unique<ivrapi::Client>(options);  // checks the URL and options
    } catch (const std::invalid_argument& e) {
        std::cerr << e.what() << "\n";
        return nullptr;
    }
}

}  // namespace examples
