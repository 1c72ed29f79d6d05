// ivrapi::Error: codes, std::errc conditions, transient or not.
#include <ivrapi/error.hpp>

#include <catch2/catch.hpp>

using ivrapi::Errc;
using ivrapi::Error;

TEST_CASE("Error compares with the portable std::errc conditions") {
    CHECK(Error(Errc::timeout, "x").code == std::errc::timed_out);
    CHECK(Error(Errc::connection_refused, "x").code == std::errc::connection_refused);
    CHECK(Error(Errc::not_connected, "x").code == std::errc::not_connected);
    CHECK(Error(Errc::stopped, "x").code == std::errc::operation_canceled);
    CHECK(Error(Errc::invalid_argument, "x").code == std::errc::invalid_argument);
    CHECK_FALSE(Error(Errc::timeout, "x").code == std::errc::connection_refused);
    CHECK_FALSE(Error(Errc::lost_race, "x").code == std::errc::timed_out);
}

TEST_CASE("Error says whether trying again may help") {
    CHECK(Error(Errc::timeout, "x").transient());
    CHECK(Error(Errc::connection_lost, "x").transient());
    CHECK(Error(Errc::connection_refused, "x").transient());
    CHECK_FALSE(Error(Errc::lost_race, "x").transient());
    CHECK_FALSE(Error(Errc::session_ended, "x").transient());
    CHECK_FALSE(Error(Errc::invalid_argument, "x").transient());
    Error refused(Errc::handshake_failed, "HTTP 401");
    refused.http_status = 401;
    CHECK_FALSE(refused.transient());
    Error busy(Errc::handshake_failed, "HTTP 503");
    busy.http_status = 503;
    CHECK(busy.transient());
    CHECK(std::string(ivrapi::errc_name(Errc::component_lost)) == "component_lost");
}
