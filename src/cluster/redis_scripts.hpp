// The Lua scripts that change ownership in Redis: each runs atomically, so two
// replicas can never both own a session. Keys and arguments are listed per script;
// docs/scaling.md has the data layout.
#pragma once

namespace ivrapi::cluster::detail {

// Records ivrid -> {owner, key, since}. ARGV: owner, key, since, ivrid, prefix, force.
// Without force an entry of another owner is kept and its owner returned (a resync
// must not undo a takeover).
constexpr const char* kRegister = R"(
local prev = redis.call('HGET', KEYS[1], 'owner')
if prev and prev ~= ARGV[1] then
  if ARGV[6] ~= '1' then return prev end
  redis.call('SREM', ARGV[5] .. 'owned:' .. prev, ARGV[4])
end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'key', ARGV[2], 'since', ARGV[3])
redis.call('HDEL', KEYS[1], 'ended')
redis.call('PERSIST', KEYS[1])
redis.call('SADD', KEYS[2], ARGV[4])
return 1)";

// A backup's claim of an offer nobody registered: replicas whose views of the members
// differ can be first backup at the same moment; only the one that sets the marker
// claims. The marker lives a grace, so the next rank may still claim if this one fails.
// KEYS: session, claiming:<ivrid>. ARGV: me, marker ms. Returns 1 to claim, else 0.
constexpr const char* kBackupClaim = R"(
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0)";

// Ends the entry if it is still ours: it leaves its owner's set (so nobody takes it
// over) and stays as a tombstone marked "ended" for ARGV[4] ms, so a second-ranked
// replica checking after its grace does not claim a call that already ended.
// KEYS: session, owned:<me>. ARGV: me, ivrid, now, tombstone ms.
constexpr const char* kDeregister = R"(
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'ended', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
redis.call('SREM', KEYS[2], ARGV[2])
return 1)";

// Compare-and-set of the owner: only the first survivor that asks gets the session
// (and its key). Asking again after a lost reply gets it again (owner is already me).
// KEYS: session, owned:<dead>, owned:<me>. ARGV: dead, me, now, ivrid.
constexpr const char* kTakeOver = R"(
local owner = redis.call('HGET', KEYS[1], 'owner')
redis.call('SREM', KEYS[2], ARGV[4])
if owner ~= ARGV[1] and owner ~= ARGV[2] then return false end
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'since', ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4])
return redis.call('HGET', KEYS[1], 'key') or '')";

// Forgets a member whose lease is gone and who owns nothing. KEYS: lease, owned,
// members. ARGV: id.
constexpr const char* kForgetMember = R"(
if redis.call('EXISTS', KEYS[1]) == 0 and redis.call('SCARD', KEYS[2]) == 0 then
  redis.call('SREM', KEYS[3], ARGV[1])
  return 1
end
return 0)";

}  // namespace ivrapi::cluster::detail
