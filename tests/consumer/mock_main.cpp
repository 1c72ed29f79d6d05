#include <ivrapi/mock/server.hpp>

int main() {
    ivrapi::mock::Server server;
    return server.port() != 0 ? 0 : 1;
}
