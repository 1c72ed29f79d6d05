// Every typed component: field-by-field encoding, defaults omitted, extras merged.
#include <ivrapi/components.hpp>

#include <catch2/catch.hpp>

using namespace ivrapi;
using namespace std::chrono_literals;

namespace {
std::string wire(const Component& c) {
    REQUIRE(c.valid());
    return c.data().dump();
}
}  // namespace

TEST_CASE("defaults are omitted: an unconfigured component is just its oType") {
    CHECK(wire(Hangup{}) == R"({"oType":201})");
    CHECK(wire(Play{}) == R"({"oType":204})");
    CHECK(wire(CollectDigits{}) == R"({"oType":206})");
    CHECK(wire(SendDtmf{}) == R"({"oType":207})");
    CHECK(wire(Record{}) == R"({"oType":208})");
    CHECK(wire(Transfer{}) == R"({"oType":203})");
    CHECK(wire(FaxSend{}) == R"({"oType":213})");
    CHECK(wire(FaxReceive{}) == R"({"oType":214})");
    CHECK(wire(TtsYandex{}) == R"({"oType":222})");
    CHECK(wire(TtsSber{}) == R"({"oType":226})");
    CHECK(wire(TtsAzure{}) == R"({"oType":230})");
    CHECK(wire(AsrYandex{}) == R"({"oType":223})");
    CHECK(wire(AsrSber{}) == R"({"oType":227})");
    CHECK(wire(SipAnswer{}) == R"({"oType":202,"sipCode":200})");  // the code is the point of 202
    CHECK(wire(Pause{}) == R"({"oType":103,"timeoutMs":0})");
}

TEST_CASE("103 pause") {
    Pause p;
    p.duration = 1500ms;
    CHECK(wire(p) == R"({"oType":103,"timeoutMs":1500})");
}

TEST_CASE("202 SIP answer, every field") {
    SipAnswer a;
    a.sip_code = 302;
    a.phrase = "Moved";
    a.reason = "Q.850;cause=16";
    a.remote_party_display = "Desk";
    a.redirect_to = "100";
    CHECK(
        wire(a) ==
        R"({"oType":202,"sipCode":302,"phrase":"Moved","reason":"Q.850;cause=16","remotePartyDisplay":"Desk","redirectTo":"100"})");
}

TEST_CASE("203 transfer") {
    Transfer t;
    t.number = "+7 (495) 123";
    t.reinvite_mode = ReinviteMode::inactive;
    CHECK(wire(t) == R"({"oType":203,"number":"+7 (495) 123","reinviteMode":3})");
    t.reinvite_mode = ReinviteMode::automatic;
    CHECK(Component(t).data().find("reinviteMode")->as_int() == 1);
}

TEST_CASE("204 play, every mode id") {
    Play p;
    p.file = ":GS_PUB/a \"b\".wav";
    p.player_id = "bg";
    p.interrupt_digits = "#*";
    p.mode = PlayMode::sync_file_extra;
    CHECK(wire(p) ==
          R"({"oType":204,"mode":2,"file":":GS_PUB/a \"b\".wav","playerId":"bg","interruptSymbols":"#, *"})");
    const std::pair<PlayMode, int> ids[] = {{PlayMode::sync_file, 0},
                                            {PlayMode::sync_file_limit, 1},
                                            {PlayMode::sync_file_extra, 2},
                                            {PlayMode::async_start, 3},
                                            {PlayMode::sync_files, 7}};
    for (auto [mode, id] : ids) {
        p.mode = mode;
        CHECK(Component(p).data().find("mode")->as_int() == id);
    }
}

TEST_CASE("206 collect digits") {
    CollectDigits c;
    c.timeout = 10s;
    c.inter_digit_timeout = 3s;
    c.max_digits = 4;
    c.terminators = "#";
    c.clear_buffer = false;
    c.inband = InbandDetector::turn;
    CHECK(
        wire(c) ==
        R"({"oType":206,"timeoutSec":10,"symbolTimeoutSec":3,"maxSymbolCount":4,"interruptSymbols":"#","clearDtmfBuffer":0,"inband":2})");
    // Terminators are sequences (the 206 page): "*0" stays one sequence.
    c.terminators = "#,*0";
    CHECK(Component(c).data().find("interruptSymbols")->as_string() == "#, *0");
}

TEST_CASE("204 play: the switches a stored 204 carries") {
    Play p;
    p.file = "oktell_1_ny.wav";
    p.interrupt_digits = "*";
    p.clear_buffer = true;
    p.clear_interrupt = false;
    CHECK(wire(p) ==
          R"({"oType":204,"file":"oktell_1_ny.wav","interruptSymbols":"*","clearDtmfBuffer":1,"clearInterrupt":0})");
}

TEST_CASE("207 send DTMF") {
    SendDtmf s;
    s.digits = "12,3";
    s.proto = DtmfProto::rfc2833;
    CHECK(wire(s) == R"({"oType":207,"dtmf":"12,3","proto":1})");
}

TEST_CASE("208 record sends script-style strings like the spec") {
    Record r;
    r.mode = RecordMode::growing_raw;
    r.max_duration = 30s;
    r.max_digits = 2;
    r.stop_digits = "4,5 6";
    r.abort_on_silence = true;
    r.path_to_var = true;
    r.to_filepath = ":TEMP/stream.raw";
    CHECK(
        wire(r) ==
        R"({"oType":208,"mode":1,"recTimeSec":"30","maxSymbolCount":"2","interruptSymbols":"4, 5, 6","abortOnSilence":1,"pathToVarMode":1,"toFilepath":":TEMP/stream.raw"})");
}

TEST_CASE("213/214 fax") {
    FaxSend s;
    s.file = ":GS_PUB/fax.tif";
    s.proto = FaxProto::t38;
    s.timeout = 60s;
    CHECK(wire(s) == R"({"oType":213,"proto":2,"timeoutSec":60,"file":":GS_PUB/fax.tif"})");
    FaxReceive r;
    r.proto = FaxProto::automatic;
    r.timeout = 90s;
    r.path_mode = FaxPathMode::only_file_name;
    CHECK(wire(r) == R"({"oType":214,"proto":0,"timeoutSec":90,"pathToVarMode":2})");
}

TEST_CASE("222/226/230 TTS") {
    TtsYandex y;
    y.text = "Hello";
    y.account_key = "main";
    y.mode = TtsMode::file;
    CHECK(wire(y) == R"({"oType":222,"accountKey":"main","mode":1,"text":"Hello"})");
    TtsSber s;
    s.text = "Hi";
    s.content_type = "TEXT";
    s.mode = TtsMode::play;
    CHECK(wire(s) == R"({"oType":226,"mode":0,"contentType":"TEXT","text":"Hi"})");
    TtsAzure a;
    a.text = "<speak/>";
    a.content_type = "SSML";
    a.account_key = "az";
    CHECK(wire(a) == R"({"oType":230,"accountKey":"az","contentType":"SSML","text":"<speak/>"})");
}

TEST_CASE("223/227 speech recognition") {
    AsrYandex y;
    y.account_key = "k";
    y.topic = AsrTopic::custom;
    y.topic_custom = "model-1";
    y.lang = AsrYandexLang::automatic;
    CHECK(wire(y) == R"({"oType":223,"accountKey":"k","topic":100,"topicCustom":"model-1","lang":100})");
    AsrSber s;
    s.model = "general";
    s.lang = AsrSberLang::kk_KZ;
    s.profanity_filter = true;
    s.multi_utterance = false;
    CHECK(wire(s) == R"({"oType":227,"model":"general","lang":2,"profanityFilter":1,"multiUtterance":0})");
}

TEST_CASE("extras are merged last and override typed fields") {
    Play p;
    p.file = "a.wav";
    p.extra = {{"limitSec", 5}, {"file", "b.wav"}, {"nested", Json::object({{"x", true}})}};
    CHECK(wire(p) == R"({"oType":204,"file":"b.wav","limitSec":5,"nested":{"x":true}})");
    Hangup h;
    h.extra = {{"name", "bye"}};
    CHECK(wire(h) == R"({"oType":201,"name":"bye"})");
}

TEST_CASE("RawComponent accepts script JSON and rejects bad JSON") {
    Component ok = RawComponent{0, R"({"name":"x","oType":204,"mode":0,"file":"f"})"};
    REQUIRE(ok.valid());
    CHECK(ok.o_type() == 204);
    CHECK(ok.data().dump() == R"({"oType":204,"name":"x","mode":0,"file":"f"})");

    Component typed = RawComponent{201, "{}"};
    REQUIRE(typed.valid());
    CHECK(typed.data().dump() == R"({"oType":201})");

    const std::pair<RawComponent, const char*> bad[] = {
        {{204, "not json"}, "not JSON"},
        {{204, "[1,2]"}, "must be an object"},
        {{0, R"({"mode":0})"}, "no oType"},
        {{0, R"({"oType":"204"})"}, "must be an integer"},
        {{0, R"({"oType":204.5})"}, "must be an integer"},
        {{203, R"({"oType":204})"}, "differs"},
        {{-5, "{}"}, "positive integer"},
        {{204, R"({"a":1,"a":2)"}, "not JSON"},
    };
    for (const auto& [raw, why] : bad) {
        INFO(raw.json);
        Component c = raw;
        CHECK_FALSE(c.valid());
        CHECK_THAT(c.error(), Catch::Matchers::Contains(why));
    }
    CHECK_FALSE(Component::from_json(Json("x")).valid());
}
