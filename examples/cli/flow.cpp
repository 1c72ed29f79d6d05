#include "cli/flow.hpp"

#include <algorithm>
#include <cstdlib>

namespace cli {
namespace {

using ivrapi::Errc;
using ivrapi::Error;
using ivrapi::Json;

// "not JSON: ... at offset N" -> "line L, column C: ..."
std::string locate(const std::string& text, const std::string& message) {
    const auto at = message.rfind("at offset ");
    if (at == std::string::npos) return message;
    const std::size_t offset = std::strtoull(message.c_str() + at + 10, nullptr, 10);
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + message.substr(0, at - 1);
}

// The first ${name} in any string of `value` that is not in `defined` ("" if none).
std::string undefined_variable(const Json& value, const std::vector<std::string>& defined) {
    if (value.is_string()) {
        const std::string& text = value.as_string();
        for (std::size_t i = text.find("${"); i != std::string::npos; i = text.find("${", i + 2)) {
            const auto end = text.find('}', i + 2);
            if (end == std::string::npos) return text.substr(i);
            const std::string name = text.substr(i + 2, end - i - 2);
            if (std::find(defined.begin(), defined.end(), name) == defined.end()) return name;
        }
        return {};
    }
    if (value.is_array()) {
        for (const auto& v : value.as_array()) {
            if (auto name = undefined_variable(v, defined); !name.empty()) return name;
        }
    } else if (value.is_object()) {
        for (const auto& [k, v] : value.as_object()) {
            if (auto name = undefined_variable(v, defined); !name.empty()) return name;
        }
    }
    return {};
}

}  // namespace

ivrapi::Result<std::vector<FlowStep>> parse_flow(const std::string& text, const std::string& source) {
    auto parsed = Json::parse(text);
    if (!parsed) return Error(Errc::invalid_argument, source + ": " + locate(text, parsed.error().message));
    if (!parsed->is_array()) return Error(Errc::invalid_argument, source + ": a flow is a JSON array of steps");
    if (parsed->size() == 0) return Error(Errc::invalid_argument, source + ": the flow has no steps");
    std::vector<FlowStep> steps;
    std::vector<std::string> defined;  // ${names} set by earlier upload_temp steps
    bool any_apply = false;            // get_path reads the results of an earlier apply
    std::size_t i = 0;
    for (const auto& item : parsed->as_array()) {
        const std::string where = source + ": step " + std::to_string(i);
        auto fail = [&](const std::string& why) { return Error(Errc::invalid_argument, where + ": " + why); };
        if (!item.is_object()) return fail("must be an object");
        FlowStep step;
        if (const Json* apply = item.find("apply")) {
            if (item.size() != 1) return fail("\"apply\" takes no other keys");
            const Json* o_type = apply->find("oType");
            if (!apply->is_object() || !o_type || !o_type->is_integer() || o_type->as_int() <= 0) {
                return fail("\"apply\" must be an object with a positive integer \"oType\"");
            }
            if (auto name = undefined_variable(*apply, defined); !name.empty()) {
                return fail("uses ${" + name + "}, which no earlier upload_temp step defines (\"as\")");
            }
            step.kind = FlowStep::Kind::apply;
            step.data = *apply;
            any_apply = true;
        } else if (const Json* name = item.find("get_path")) {
            if (item.size() != 1) return fail("\"get_path\" takes no other keys");
            if (!name->is_string() || name->as_string().empty()) return fail("\"get_path\" must name a result");
            if (!any_apply) return fail("\"get_path\" needs an earlier apply step whose results it reads");
            step.kind = FlowStep::Kind::get_path;
            step.result_name = name->as_string();
        } else if (const Json* url = item.find("upload_temp")) {
            const Json* as = item.find("as");
            if (!url->is_string() || url->as_string().empty()) return fail("\"upload_temp\" must be a URL string");
            if (!as || !as->is_string() || as->as_string().empty()) return fail("\"upload_temp\" needs \"as\": a name");
            if (item.size() != 2) return fail("\"upload_temp\" takes only \"as\" besides");
            if (auto name = undefined_variable(*url, defined); !name.empty()) {
                return fail("uses ${" + name + "}, which no earlier upload_temp step defines (\"as\")");
            }
            step.kind = FlowStep::Kind::upload_temp;
            step.url = url->as_string();
            step.as = as->as_string();
            defined.push_back(step.as);
        } else if (const Json* abort = item.find("abort")) {
            if (item.size() != 1 || !abort->is_bool() || !abort->as_bool()) return fail("\"abort\" must be true");
            step.kind = FlowStep::Kind::abort;
        } else {
            return fail("unknown step (expected apply, get_path, upload_temp or abort)");
        }
        steps.push_back(std::move(step));
        ++i;
    }
    return steps;
}

std::string substitute(const std::string& text, const std::map<std::string, std::string>& vars) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        if (text.compare(i, 2, "${") == 0) {
            const auto end = text.find('}', i + 2);
            if (end != std::string::npos) {
                auto it = vars.find(text.substr(i + 2, end - i - 2));
                if (it != vars.end()) {
                    out += it->second;
                    i = end + 1;
                    continue;
                }
            }
        }
        out += text[i++];
    }
    return out;
}

Json substitute(const Json& value, const std::map<std::string, std::string>& vars) {
    if (value.is_string()) return Json(substitute(value.as_string(), vars));
    if (value.is_array()) {
        Json::Array items;
        for (const auto& v : value.as_array()) items.push_back(substitute(v, vars));
        return Json(std::move(items));
    }
    if (value.is_object()) {
        Json::Object members;
        for (const auto& [k, v] : value.as_object()) members.emplace_back(k, substitute(v, vars));
        return Json(std::move(members));
    }
    return value;
}

}  // namespace cli
