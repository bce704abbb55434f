"""The store in Redis: shared by every worker and surviving restarts.

Every decision is a Lua script (one EVALSHA round trip, atomic in Redis), and every decision uses
the ``now`` the app passes in; key expiry is only cleanup, with generous TTLs. Any Redis error
becomes StoreUnavailable so the app can fail closed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from reference_impl.store import (
    CLEANUP_GRACE,
    AuthState,
    OnReuse,
    RateDecision,
    RateRequest,
    RotateResult,
    SessionInfo,
    StoreUnavailable,
    UserRecord,
)

# Sessions without an absolute deadline (only with a fault) still leave Redis eventually.
NO_DEADLINE_TTL = 30 * 86400
USER_CACHE_TTL = 3600
SOCKET_TIMEOUT = 2.0
# One retry on a fresh connection (the first use after Redis restarted finds the pooled one dead),
# no more: while Redis is down a request answers 503 within about 2 x SOCKET_TIMEOUT, instead of
# redis-py's default ten retries with backoff.
RETRIES = 1

T = TypeVar("T")

# Shared Lua: is the session hash at `key` live at `now`? (mirrors store.session_state)
_LIVE = """
local function live(key, uid, now, idle)
  local s = redis.call('HMGET', key, 'uid', 'seen', 'deadline', 'rjti')
  if not s[1] or (uid and s[1] ~= uid) then return 'no_session', s end
  local seen, deadline = tonumber(s[2]), tonumber(s[3])
  if idle and now - seen > idle then return 'idle', s end
  if deadline and now > deadline then return 'expired', s end
  return 'ok', s
end
local function finish(prefix, key, sid, uid)
  redis.call('DEL', key)
  if uid then redis.call('ZREM', prefix .. 'us:' .. uid, sid) end
end
"""

_HIT = """
local function hit(key, limit, window, now_text, ttl)
  local now = tonumber(now_text)
  local w = redis.call('HMGET', key, 'start', 'count')
  local start, count = tonumber(w[1]), tonumber(w[2]) or 0
  if (not start) or now >= start + window then
    start, count = now, 0
    if count < limit then
      redis.call('HSET', key, 'start', now_text, 'count', 1)
      redis.call('EXPIRE', key, ttl)
      return {1, limit, limit - 1, tostring(window)}
    end
  end
  local reset = tostring(math.max(0, start + window - now))
  if count >= limit then return {0, limit, 0, reset} end
  redis.call('HINCRBY', key, 'count', 1)
  return {1, limit, limit - count - 1, reset}
end
"""

# KEYS: rev:jti, s:sid, u:uid, rl:key   ARGV: prefix, now, idle|'', check_session, uid, sid, limit|'', window, rate_ttl
_AUTHENTICATE = _LIVE + _HIT + """
local now = tonumber(ARGV[2])
local idle = tonumber(ARGV[3])
if redis.call('EXISTS', KEYS[1]) == 1 then return {'revoked'} end
if ARGV[4] == '1' then
  local state = live(KEYS[2], ARGV[5], now, idle)
  if state ~= 'ok' then
    if state ~= 'no_session' then finish(ARGV[1], KEYS[2], ARGV[6], ARGV[5]) end
    return {state}
  end
  redis.call('HSET', KEYS[2], 'seen', ARGV[2])
end
local u = redis.call('HMGET', KEYS[3], 'username', 'role', 'tenant', 'active')
local result = {'ok', u[1] or false, u[2] or false, u[3] or false, u[4] or false}
local limit = tonumber(ARGV[7])
if u[4] == '0' or not limit then return result end
local r = hit(KEYS[4], limit, tonumber(ARGV[8]), ARGV[2], tonumber(ARGV[9]))
for _, v in ipairs(r) do table.insert(result, v) end
return result
"""

# KEYS: s:sid, us:uid, seq   ARGV: prefix, uid, sid, now, max|'', idle|'', deadline|'', rjti, ttl
_CREATE_SESSION = _LIVE + """
local prefix, uid, sid, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local max, idle = tonumber(ARGV[5]), tonumber(ARGV[6])
for _, other in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local key = prefix .. 's:' .. other
  if live(key, uid, now, idle) ~= 'ok' then finish(prefix, key, other, uid) end
end
local previous = redis.call('HGET', KEYS[1], 'uid')
if previous then finish(prefix, KEYS[1], sid, previous) end
local seq = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'uid', uid, 'created', ARGV[4], 'seen', ARGV[4], 'deadline', ARGV[7],
           'rjti', ARGV[8], 'seq', seq)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[9]))
redis.call('ZADD', KEYS[2], seq, sid)
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[9]))
local evicted = {}
if max then
  local count = redis.call('ZCARD', KEYS[2])
  if count > max then
    evicted = redis.call('ZRANGE', KEYS[2], 0, count - max - 1)
    for _, old in ipairs(evicted) do finish(prefix, prefix .. 's:' .. old, old, uid) end
  end
end
return evicted
"""

# KEYS: s:sid   ARGV: prefix, uid, sid, now, idle|'', presented, new, on_reuse
_ROTATE = _LIVE + """
local now, idle = tonumber(ARGV[4]), tonumber(ARGV[5])
local state, s = live(KEYS[1], ARGV[2], now, idle)
if state ~= 'ok' then
  if state ~= 'no_session' then finish(ARGV[1], KEYS[1], ARGV[3], ARGV[2]) end
  return 'unknown'
end
if s[4] ~= ARGV[6] then
  if ARGV[8] == 'end' then
    finish(ARGV[1], KEYS[1], ARGV[3], ARGV[2])
  elseif ARGV[8] == 'accept' then
    redis.call('HSET', KEYS[1], 'rjti', ARGV[7], 'seen', ARGV[4])
  end
  return 'reused'
end
redis.call('HSET', KEYS[1], 'rjti', ARGV[7], 'seen', ARGV[4])
return 'ok'
"""

# KEYS: s:sid   ARGV: prefix, sid
_END_SESSION = _LIVE + """
local uid = redis.call('HGET', KEYS[1], 'uid')
if not uid then return 0 end
finish(ARGV[1], KEYS[1], ARGV[2], uid)
return 1
"""

# KEYS: us:uid   ARGV: prefix, uid, keep|''
_END_USER_SESSIONS = _LIVE + """
local ended = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if sid ~= ARGV[3] then
    finish(ARGV[1], ARGV[1] .. 's:' .. sid, sid, ARGV[2])
    table.insert(ended, sid)
  end
end
return ended
"""

# KEYS: us:uid   ARGV: prefix, uid, now, idle|''
_LIST_SESSIONS = _LIVE + """
local now, idle = tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. 's:' .. sid
  if live(key, ARGV[2], now, idle) ~= 'ok' then
    finish(ARGV[1], key, sid, ARGV[2])
  else
    local s = redis.call('HMGET', key, 'created', 'seen', 'deadline')
    table.insert(out, sid)
    table.insert(out, s[1])
    table.insert(out, s[2])
    table.insert(out, s[3] or '')
  end
end
return out
"""

# KEYS: rl:key   ARGV: limit, window, now, ttl
_RATE = _HIT + """
return hit(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]))
"""


def _num(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _float_or_none(value: Any) -> float | None:
    return float(value) if value not in (None, "") else None


def _decision(values: list[Any]) -> RateDecision:
    allowed, limit, remaining, reset = values
    return RateDecision(bool(int(allowed)), int(limit), int(remaining), float(reset))


# advance: raise the number at KEYS[1] to ARGV[1] only when it is above the kept one.
_ADVANCE = """
local kept = tonumber(redis.call('GET', KEYS[1]))
if kept and kept >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


class RedisStore:
    def __init__(self, url: str, *, prefix: str = "authconform:", client: redis.Redis | None = None) -> None:
        self.prefix = prefix
        # Typed loosely: redis-py's generics do not model decode_responses=True.
        self.client: Any = client or redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT,
            retry=Retry(NoBackoff(), RETRIES))
        register: Callable[[str], Any] = self.client.register_script
        self._authenticate = register(_AUTHENTICATE)
        self._create_session = register(_CREATE_SESSION)
        self._rotate = register(_ROTATE)
        self._end_session = register(_END_SESSION)
        self._end_user_sessions = register(_END_USER_SESSIONS)
        self._list_sessions = register(_LIST_SESSIONS)
        self._rate = register(_RATE)
        self._advance = register(_ADVANCE)

    def _key(self, kind: str, name: object) -> str:
        return f"{self.prefix}{kind}:{name}"

    @staticmethod
    def _call(action: Callable[[], T]) -> T:
        try:
            return action()
        except (redis.RedisError, OSError) as exc:
            raise StoreUnavailable(f"redis: {type(exc).__name__}: {exc}") from exc

    def ping(self) -> None:
        self._call(self.client.ping)

    def authenticate(self, *, jti: str, session_id: str | None, user_id: int, now: float,
                     idle_timeout: float | None, rate: RateRequest | None) -> AuthState:
        keys = [self._key("rev", jti), self._key("s", session_id or "-"), self._key("u", user_id),
                self._key("rl", rate.key if rate else "-")]
        args = [self.prefix, _num(now), _num(idle_timeout), "1" if session_id is not None else "0", str(user_id),
                session_id or "", str(rate.limit) if rate else "", _num(rate.window) if rate else "",
                int((rate.window if rate else 0) + CLEANUP_GRACE)]
        reply = self._call(lambda: self._authenticate(keys=keys, args=args))
        status = reply[0]
        if status != "ok":
            return AuthState(status, None, None)
        username, role, tenant, active = reply[1:5]
        user = None
        if role is not None:
            user = UserRecord(user_id, username or "", role, tenant or "", active == "1")
        decision = _decision(reply[5:9]) if len(reply) > 5 else None
        return AuthState("ok", user, decision)

    def create_session(self, *, user_id: int, session_id: str, now: float, max_sessions: int | None,
                       idle_timeout: float | None, absolute_timeout: float | None,
                       refresh_jti: str) -> list[str]:
        deadline = None if absolute_timeout is None else now + absolute_timeout
        ttl = int((absolute_timeout if absolute_timeout is not None else NO_DEADLINE_TTL) + CLEANUP_GRACE)
        keys = [self._key("s", session_id), self._key("us", user_id), self.prefix + "seq"]
        args = [self.prefix, str(user_id), session_id, _num(now), "" if max_sessions is None else str(max_sessions),
                _num(idle_timeout), _num(deadline), refresh_jti, ttl]
        return list(self._call(lambda: self._create_session(keys=keys, args=args)))

    def rotate_refresh(self, *, session_id: str, user_id: int, presented_jti: str, new_jti: str, now: float,
                       idle_timeout: float | None, on_reuse: OnReuse = "end") -> RotateResult:
        keys = [self._key("s", session_id)]
        args = [self.prefix, str(user_id), session_id, _num(now), _num(idle_timeout), presented_jti, new_jti,
                on_reuse]
        return self._call(lambda: self._rotate(keys=keys, args=args))

    def end_session(self, session_id: str) -> bool:
        keys = [self._key("s", session_id)]
        return bool(self._call(lambda: self._end_session(keys=keys, args=[self.prefix, session_id])))

    def end_user_sessions(self, user_id: int, keep: str | None = None) -> list[str]:
        keys = [self._key("us", user_id)]
        return list(self._call(lambda: self._end_user_sessions(keys=keys, args=[self.prefix, str(user_id),
                                                                                keep or ""])))

    def list_sessions(self, user_id: int, now: float, idle_timeout: float | None) -> list[SessionInfo]:
        keys = [self._key("us", user_id)]
        flat = self._call(lambda: self._list_sessions(keys=keys, args=[self.prefix, str(user_id), _num(now),
                                                                        _num(idle_timeout)]))
        return [SessionInfo(flat[i], user_id, float(flat[i + 1]), float(flat[i + 2]), _float_or_none(flat[i + 3]))
                for i in range(0, len(flat), 4)]

    def get_session(self, session_id: str) -> SessionInfo | None:
        values = self._call(lambda: self.client.hmget(self._key("s", session_id),
                                                      ["uid", "created", "seen", "deadline"]))
        uid, created, seen, deadline = values
        if uid is None:
            return None
        return SessionInfo(session_id, int(uid), float(created), float(seen), _float_or_none(deadline))

    def revoke_jti(self, jti: str, until: float, now: float) -> None:
        ttl = int(max(1.0, until - now) + CLEANUP_GRACE)
        self._call(lambda: self.client.set(self._key("rev", jti), "1", ex=ttl))

    def put_user(self, record: UserRecord) -> None:
        key = self._key("u", record.user_id)
        mapping = {"username": record.username, "role": record.role, "tenant": record.tenant,
                   "active": "1" if record.active else "0"}

        def write() -> None:
            pipe = self.client.pipeline(transaction=True)
            pipe.hset(key, mapping=mapping)
            pipe.expire(key, USER_CACHE_TTL)
            pipe.execute()

        self._call(write)

    def drop_user(self, user_id: int) -> None:
        self._call(lambda: self.client.delete(self._key("u", user_id)))

    def hit(self, key: str, limit: int, window: float, now: float) -> RateDecision:
        args = [str(limit), _num(window), _num(now), int(window + CLEANUP_GRACE)]
        return _decision(self._call(lambda: self._rate(keys=[self._key("rl", key)], args=args)))

    def claim(self, key: str, until: float, now: float) -> bool:
        ttl = int(max(1.0, until - now) + CLEANUP_GRACE)
        return bool(self._call(lambda: self.client.set(self._key("mark", key), "1", nx=True, ex=ttl)))

    def advance(self, key: str, value: int, until: float, now: float) -> bool:
        ttl = int(max(1.0, until - now) + CLEANUP_GRACE)
        return bool(self._call(lambda: self._advance(keys=[self._key("mark", key)], args=[str(value), ttl])))

    def read_window(self, key: str) -> tuple[float, int] | None:
        start, count = self._call(lambda: self.client.hmget(self._key("rl", key), ["start", "count"]))
        return None if start is None else (float(start), int(count or 0))

    def write_window(self, key: str, start: float, count: int, window: float) -> None:
        name = self._key("rl", key)

        def write() -> None:
            pipe = self.client.pipeline(transaction=True)
            pipe.hset(name, mapping={"start": _num(start), "count": count})
            pipe.expire(name, int(window + CLEANUP_GRACE))
            pipe.execute()

        self._call(write)
