// The whole public API of ivrapi-cpp.
#pragma once

#include <ivrapi/claim_coordinator.hpp>
#include <ivrapi/client.hpp>
#include <ivrapi/components.hpp>
#include <ivrapi/error.hpp>
#include <ivrapi/events.hpp>
#include <ivrapi/future.hpp>
#include <ivrapi/json.hpp>
#include <ivrapi/offer.hpp>
#include <ivrapi/options.hpp>
#include <ivrapi/result.hpp>
#include <ivrapi/session.hpp>
#include <ivrapi/version.hpp>
