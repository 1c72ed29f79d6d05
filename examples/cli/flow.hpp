// ivrapi-cli flow files: a JSON array of steps run in order on each claimed session.
#pragma once

#include <ivrapi/json.hpp>
#include <ivrapi/result.hpp>

#include <map>
#include <string>
#include <vector>

namespace cli {

struct FlowStep {
    enum class Kind { apply, get_path, upload_temp, abort };
    Kind kind = Kind::apply;
    ivrapi::Json data;        // apply: component data with oType
    std::string result_name;  // get_path: which result of the latest component
    std::string url;          // upload_temp
    std::string as;           // upload_temp: variable name for ${as}
};

// Validates the whole flow; errors name the position (line:column for JSON syntax,
// the step index and field otherwise).
ivrapi::Result<std::vector<FlowStep>> parse_flow(const std::string& text, const std::string& source);

// Replaces ${name} in every string inside `value`.
ivrapi::Json substitute(const ivrapi::Json& value, const std::map<std::string, std::string>& vars);
std::string substitute(const std::string& text, const std::map<std::string, std::string>& vars);

}  // namespace cli
