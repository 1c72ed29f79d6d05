// The mock platform's logic: connections, subscriptions, calls, components, files and
// fault injection. No websocketpp here (see transport.hpp). One mutex guards all state;
// every entry point (transport callbacks, timers, public API, upload threads) takes it.
#pragma once

#include <ivrapi/mock/server.hpp>

#include "mock/files.hpp"
#include "mock/transport.hpp"

#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace ivrapi::mock::detail {

using ms = std::chrono::milliseconds;
using TimePoint = std::chrono::steady_clock::time_point;

// Where and how to answer one request.
struct ReplyTo {
    int connection = 0;
    std::string name;   // request name; the reply is name + "_result"
    std::string qid;    // JSON text of the qid as received ("" = none)
    bool drop = false;  // fault: never answer
    ms delay{0};        // fault: answer late
};

// The component currently running in a call.
struct Run {
    std::uint64_t seq = 0;   // unique per server
    std::size_t record = 0;  // index in CallData::records
    int o_type = 0;
    std::string oid;  // JSON text of data.oId ("0" when absent)
    ReplyTo ack;
    bool ack_pending = false;     // apply reply deferred to completion
    std::uint64_t timer_gen = 0;  // bumped to invalidate armed timers
    TimePoint started{};

    // play / TTS
    std::vector<std::string> files;
    std::vector<ms> durations;
    std::size_t file_index = 0;
    ms pause{0};  // play mode 2/7: extra pause for DTMF after the files
    bool in_pause = false;
    std::set<char> interrupt;      // digits that stop play/record/TTS
    bool clear_interrupt = false;  // 204 clearInterrupt: the interrupting digit leaves the buffer
    // collect / record
    std::string digits;
    std::size_t max_digits = 0;  // 0 = no limit
    std::vector<std::string> terminators;
    bool keep_terminator = false;
    ms first_timeout{0};
    ms symbol_timeout{0};
    // record / TTS-to-file / fax receive
    std::string out_path;  // platform path written on completion ("" = none)
    ms planned{0};
    // 202 / 203 / 207
    int sip_code = 0;
    std::string text;      // 203 number, 207 digits, TTS text
    bool instant = false;  // completes as soon as it starts
};

struct CallData {
    // Fixed at creation.
    std::string ivrid, key, callid, cid, componentname, sm_id, params;
    int componentid = 0;
    std::int64_t ivrts = 0;
    std::vector<DtmfAt> caller_dtmf;
    std::optional<ms> hangup_after, hangup_after_offer;
    std::vector<std::string> asr_texts;
    std::string temp_dir;  // the script's :TEMP folder, removed when the call ends

    // Guarded by Core::mutex_.
    enum class Phase { offered, controlled, ended } phase = Phase::offered;
    int controller = -1;
    bool ever_accepted = false;
    std::uint64_t control_gen = 0;  // bumped on every change of controller
    std::string end_reason;
    std::string sip_state;
    std::vector<ComponentRecord> records;
    std::vector<std::string> played;
    std::vector<int> sip_codes;
    std::string sent_dtmf, transferred_to;
    std::string dtmf_buffer;  // digits not consumed by a component
    std::unique_ptr<Run> run;
    std::vector<std::string> queued;  // controller frames produced while detached
    std::size_t asr_count = 0;        // ASR components run so far
};

struct Subscription {
    std::vector<std::string> events;
    std::vector<std::string> objects;  // empty = "any"
    TimePoint expires_at{};
};

struct Connection {
    std::map<std::string, Subscription> subs;
    std::string sessionid, connectionid;
    bool dropping = false;  // fault: being dropped, nothing more is sent to it
};

struct HttpResource {
    std::string body, content_type;
};

struct Link {
    std::string local;  // a private copy: the link outlives the script's temp folder
    TimePoint expires_at{};
};

class Core : public TransportHandler, public std::enable_shared_from_this<Core> {
public:
    explicit Core(ServerOptions options);
    ~Core() override;

    void attach(std::shared_ptr<Transport> transport);
    // Stops all logic; returns the transport so the caller can stop it outside the lock.
    std::shared_ptr<Transport> shutdown();
    void join_workers();
    void remove_temp_dir();  // the temp dir, when the server created it

    // TransportHandler
    int on_validate(const std::string& resource, const std::string& authorization) override;
    void on_open(int connection) override;
    void on_close(int connection) override;
    void on_message(int connection, std::string text) override;
    void on_http(const HttpRequest& request, HttpRespond respond) override;
    void on_log(const std::string& line) override;

    // Public API (each takes the lock).
    std::shared_ptr<CallData> start_call(const CallOptions& options);
    std::shared_ptr<CallData> find_call(const std::string& ivrid) const;
    std::vector<std::shared_ptr<CallData>> calls() const;
    std::vector<ReceivedRequest> requests() const;
    std::size_t request_count(const std::string& name) const;
    std::size_t connection_count() const;
    std::size_t subscription_count() const;
    std::vector<int> connections() const;
    void add_http_resource(const std::string& path, HttpResource r);
    std::string local_path(const std::string& platform_path) const;
    std::string call_local_path(const CallData& call, const std::string& platform_path) const;
    void answer_pings(bool on);
    void caller_dtmf(const std::shared_ptr<CallData>& call, const std::string& digits);
    void caller_hangup(const std::shared_ptr<CallData>& call);
    void drop_connections();
    void close_connections(int code, const std::string& reason);
    void drop_connection(int connection);
    void drop_after_messages(std::size_t n);
    void delay_reply(const std::string& name, ms delay);
    void fail_reply(const std::string& name, std::string reason);
    void drop_reply(const std::string& name);
    void clear_faults();
    void send_raw(const std::string& frame);
    void duplicate_notifications(bool on);
    void stall(bool on);

    // Change notification for wait_for().
    std::uint64_t version() const;
    bool wait_change(std::uint64_t seen, TimePoint deadline) const;

    // Call queries take the lock.
    mutable std::mutex mutex_;
    const ServerOptions& options() const { return options_; }
    const std::string& root() const { return root_; }
    bool is_stopped() const;

private:
    friend class ComponentRunner;

    TimePoint now() const;
    void log(const std::string& line);
    void changed();
    // Runs fn under the lock after `delay` unless the server stopped.
    void after(ms delay, std::function<void()> fn);

    // sending
    void send_to(int connection, const std::string& frame);
    void reply(const ReplyTo& to, const std::string& frame);
    void reply_ok(const ReplyTo& to);
    void reply_error(const ReplyTo& to, const std::string& reason);
    void reply_result(const ReplyTo& to, const std::string& result);
    void to_controller(CallData& call, const std::string& frame, bool queue_if_detached);
    void notify(const std::string& cls, const std::string& type, const std::string& data_json, const CallData& call);
    HttpReply serve_file(const HttpRequest& request);

    // requests
    void process_message(int connection, std::string text);
    void dispatch(const ReplyTo& to, const rapidjson::Value& body);
    void handle_connection_info(const ReplyTo& to);
    void handle_subscribe(const ReplyTo& to, const rapidjson::Value& body);
    CallData* session_for(const ReplyTo& to, const rapidjson::Value& body, bool need_controller);
    void handle_accept(const ReplyTo& to, CallData& call, bool re);
    void handle_abort(const ReplyTo& to, CallData& call);
    void handle_apply(const ReplyTo& to, CallData& call, const rapidjson::Value& body);
    void handle_terminate(const ReplyTo& to, CallData& call);
    void handle_get_path(const ReplyTo& to, CallData& call, const rapidjson::Value& body);
    void handle_upload(const ReplyTo& to, CallData* session, const rapidjson::Value& body, bool is_static);

    // call life cycle
    std::shared_ptr<CallData> call_ptr(const CallData& call) const;
    void take_control(CallData& call, int connection);
    void hang_up_by_caller(CallData& call);
    void schedule_press(CallData& call, ms delay, const std::string& digits);
    void end_call(CallData& call, const std::string& reason);
    std::string call_identity_json(const CallData& call, bool with_offer) const;

    // components (components.cpp)
    bool start_component(CallData& call, Run& run, const rapidjson::Value& data, std::string& why);
    bool check_file(const CallData& call, const std::string& path, std::string& why) const;
    void component_started(CallData& call, int o_type);
    void component_digit(CallData& call, char digit);
    void finish(CallData& call, const std::string& transfer_key, ivrapi::Json results, bool terminated,
                bool ends_call = false);
    void abandon(CallData& call);
    void arm(CallData& call, ms delay, std::function<void(CallData&, Run&)> fn);
    void begin_component(CallData& call, Run& run);
    void play_next(CallData& call, Run& run);
    void collect_check(CallData& call, Run& run);
    void press(CallData& call, char digit);

    std::string uuid();
    std::int64_t wall_ms() const;

    // control channel (control.cpp); runs without the lock, through the public API
    void handle_control(const std::string& command, const HttpRequest& request, HttpRespond respond);
    void start_worker(std::function<void()> fn);

    ServerOptions options_;
    std::string root_;
    Storage storage_;
    bool own_root_ = false;
    std::shared_ptr<Transport> transport_;
    bool stopped_ = false;
    TimePoint started_at_;

    std::map<int, Connection> connections_;
    std::map<std::string, std::shared_ptr<CallData>> calls_;
    std::deque<std::string> ended_order_;
    std::deque<ReceivedRequest> requests_;
    std::size_t requests_seen_ = 0;  // frames received in all (requests_ keeps the newest)
    std::map<std::string, std::size_t> request_counts_;
    std::map<std::string, HttpResource> http_resources_;
    std::map<std::string, Link> links_;
    std::atomic<int> control_waits_{0};
    std::uint64_t next_seq_ = 0;
    std::uint64_t next_call_ = 0;
    std::uint64_t next_file_ = 0;
    std::mt19937_64 rng_;

    // faults
    std::size_t drop_after_ = 0;  // 0 = off
    std::map<std::string, ms> delays_;
    std::map<std::string, std::string> failures_;
    std::set<std::string> drops_;
    bool duplicate_ = false;
    bool stalled_ = false;
    std::vector<std::pair<int, std::string>> held_;  // received while stalled

    // workers (uploads)
    struct Worker {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };
    std::mutex workers_mutex_;
    std::vector<Worker> workers_;

    std::mutex log_mutex_;

    mutable std::mutex change_mutex_;
    mutable std::condition_variable change_cv_;
    std::uint64_t version_ = 0;
};

}  // namespace ivrapi::mock::detail
