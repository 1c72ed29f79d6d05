// Loads tests/data/vectors.json (copied from the shared protocol reference).
#pragma once

#include <ivrapi/json.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace ivrapi::test {

inline Json load_vectors() {
    std::ifstream in(std::string(IVRAPI_TEST_DATA_DIR) + "/vectors.json");
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = Json::parse(text.str());
    if (!parsed || !parsed->is_array() || parsed->size() == 0) {
        throw std::runtime_error("cannot load vectors.json");
    }
    return *parsed;
}

}  // namespace ivrapi::test
