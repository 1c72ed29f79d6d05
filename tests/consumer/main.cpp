#include <ivrapi/ivrapi.hpp>

#include <iostream>

int main() {
    ivrapi::Play play;
    play.file = ":GS_PUB/hello.wav";
    ivrapi::Component c = play;
    ivrapi::ClientOptions options;
    options.url = "ws://127.0.0.1:1/ws/token/v1";
    options.token = "t";
    ivrapi::Client client(options);  // constructs, never started
    std::cout << c.data().dump() << "\n";
    return c.valid() ? 0 : 1;
}
