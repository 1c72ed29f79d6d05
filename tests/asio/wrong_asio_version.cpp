// Compiled by a test that expects <ivrapi/asio.hpp> to refuse another Asio version.
#define ASIO_VERSION_HPP
#define ASIO_VERSION 999999
#include <ivrapi/asio.hpp>
