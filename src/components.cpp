#include <ivrapi/components.hpp>

#include <cctype>

namespace ivrapi {
namespace {

// Builds a component's data object: oType first, unset properties skipped, extras last.
class DataBuilder {
public:
    explicit DataBuilder(int o_type) { data_.set("oType", o_type); }

    DataBuilder& str(const char* code, const std::string& value) {
        if (!value.empty()) data_.set(code, value);
        return *this;
    }
    template <typename E>
    DataBuilder& enumeration(const char* code, const std::optional<E>& value) {
        if (value) data_.set(code, static_cast<int>(*value));
        return *this;
    }
    DataBuilder& integer(const char* code, const std::optional<long long>& value) {
        if (value) data_.set(code, *value);
        return *this;
    }
    DataBuilder& seconds(const char* code, const std::optional<std::chrono::seconds>& value) {
        if (value) data_.set(code, static_cast<long long>(value->count()));
        return *this;
    }
    DataBuilder& flag(const char* code, const std::optional<bool>& value) {
        if (value) data_.set(code, *value ? 1 : 0);
        return *this;
    }
    Json done(const Properties& extra) {
        for (const auto& [k, v] : extra) data_.set(k, v);
        return std::move(data_);
    }

private:
    Json data_;
};

// "456" / "4,5,6" / "4, 5, 6" -> "4, 5, 6" (the form of the spec's record example).
std::string digit_list(const std::string& digits) {
    std::string out;
    for (char c : digits) {
        if (c == ',' || std::isspace(static_cast<unsigned char>(c))) continue;
        if (!out.empty()) out += ", ";
        out += c;
    }
    return out;
}

// "#" / "#,*0" / "#, *0" -> "#, *0": terminator sequences (each may be several digits).
std::string sequence_list(const std::string& sequences) {
    std::string out, cur;
    for (char c : sequences + ",") {
        if (c == ',') {
            if (!cur.empty()) out += (out.empty() ? "" : ", ") + cur;
            cur.clear();
        } else if (!std::isspace(static_cast<unsigned char>(c))) {
            cur += c;
        }
    }
    return out;
}

}  // namespace

Json Pause::data() const {
    return DataBuilder(o_type).integer("timeoutMs", duration.count()).done(extra);
}

Json Hangup::data() const { return DataBuilder(o_type).done(extra); }

Json SipAnswer::data() const {
    return DataBuilder(o_type)
        .integer("sipCode", sip_code)
        .str("phrase", phrase)
        .str("reason", reason)
        .str("remotePartyDisplay", remote_party_display)
        .str("redirectTo", redirect_to)
        .done(extra);
}

Json Transfer::data() const {
    return DataBuilder(o_type).str("number", number).enumeration("reinviteMode", reinvite_mode).done(extra);
}

Json Play::data() const {
    return DataBuilder(o_type)
        .enumeration("mode", mode)
        .str("file", file)
        .str("playerId", player_id)
        .str("interruptSymbols", digit_list(interrupt_digits))
        .flag("clearDtmfBuffer", clear_buffer)
        .flag("clearInterrupt", clear_interrupt)
        .done(extra);
}

Json CollectDigits::data() const {
    std::optional<long long> max;
    if (max_digits) max = *max_digits;
    return DataBuilder(o_type)
        .seconds("timeoutSec", timeout)
        .seconds("symbolTimeoutSec", inter_digit_timeout)
        .integer("maxSymbolCount", max)
        .str("interruptSymbols", sequence_list(terminators))
        .flag("clearDtmfBuffer", clear_buffer)
        .enumeration("inband", inband)
        .done(extra);
}

Json SendDtmf::data() const {
    return DataBuilder(o_type).str("dtmf", digits).enumeration("proto", proto).done(extra);
}

Json Record::data() const {
    DataBuilder b(o_type);
    b.enumeration("mode", mode);
    if (max_duration) b.str("recTimeSec", std::to_string(max_duration->count()));
    if (max_digits) b.str("maxSymbolCount", std::to_string(*max_digits));
    b.str("interruptSymbols", digit_list(stop_digits));
    b.flag("abortOnSilence", abort_on_silence).flag("pathToVarMode", path_to_var);
    b.str("toFilepath", to_filepath);
    return b.done(extra);
}

Json FaxSend::data() const {
    return DataBuilder(o_type).enumeration("proto", proto).seconds("timeoutSec", timeout).str("file", file).done(extra);
}

Json FaxReceive::data() const {
    return DataBuilder(o_type)
        .enumeration("proto", proto)
        .seconds("timeoutSec", timeout)
        .enumeration("pathToVarMode", path_mode)
        .done(extra);
}

Json TtsYandex::data() const {
    return DataBuilder(o_type).str("accountKey", account_key).enumeration("mode", mode).str("text", text).done(extra);
}

namespace {
// 226 and 230 have the same property set.
template <typename Tts>
Json streaming_tts_data(const Tts& t) {
    return DataBuilder(Tts::o_type)
        .str("accountKey", t.account_key)
        .enumeration("mode", t.mode)
        .str("contentType", t.content_type)
        .str("text", t.text)
        .done(t.extra);
}
}  // namespace

Json TtsSber::data() const { return streaming_tts_data(*this); }
Json TtsAzure::data() const { return streaming_tts_data(*this); }

Json AsrYandex::data() const {
    return DataBuilder(o_type)
        .str("accountKey", account_key)
        .enumeration("topic", topic)
        .str("topicCustom", topic_custom)
        .enumeration("lang", lang)
        .done(extra);
}

Json AsrSber::data() const {
    return DataBuilder(o_type)
        .str("accountKey", account_key)
        .str("model", model)
        .enumeration("lang", lang)
        .flag("profanityFilter", profanity_filter)
        .flag("multiUtterance", multi_utterance)
        .done(extra);
}

Component::Component(const RawComponent& raw) {
    auto parsed = Json::parse(raw.json);
    if (!parsed) {
        error_ = "RawComponent: " + parsed.error().message;
        return;
    }
    if (!parsed->is_object()) {
        error_ = "RawComponent: the JSON must be an object";
        return;
    }
    Json data = std::move(*parsed);
    if (const Json* t = data.find("oType")) {
        if (!t->is_integer()) {
            error_ = "RawComponent: \"oType\" must be an integer";
            return;
        }
        if (raw.o_type != 0 && t->as_int() != raw.o_type) {
            error_ = "RawComponent: o_type " + std::to_string(raw.o_type) +
                     " differs from the JSON's oType " + std::to_string(t->as_int());
            return;
        }
    } else if (raw.o_type == 0) {
        error_ = "RawComponent: no oType (set o_type or put \"oType\" in the JSON)";
        return;
    }
    if (raw.o_type != 0) data.set("oType", raw.o_type);
    // Keep oType first on the wire, as scripts write it.
    Component c = from_json(std::move(data));
    data_ = std::move(c.data_);
    error_ = std::move(c.error_);
}

Component Component::from_json(Json data) {
    Component c;
    const Json* t = data.find("oType");
    if (!data.is_object() || !t || !t->is_integer() || t->as_int() <= 0 || t->as_int() > 100000) {
        c.error_ = "component data must be an object with a positive integer \"oType\"";
        return c;
    }
    Json ordered = Json::object({{"oType", *t}});
    for (const auto& [k, v] : data.as_object()) {
        if (k != "oType") ordered.set(k, v);
    }
    c.data_ = std::move(ordered);
    return c;
}

int Component::o_type() const noexcept {
    const Json* t = data_.find("oType");
    return t ? static_cast<int>(t->as_int()) : 0;
}

}  // namespace ivrapi
