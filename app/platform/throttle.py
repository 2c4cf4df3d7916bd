"""Sign-in throttling: growing waits per account and per address, counted atomically.

Every attempt is counted *before* the password is checked, in one Redis
script, so parallel guesses cannot all slip under the limit while the first
ones are still being checked. Three counters apply to an attempt:

- this account from this address (the usual case of someone guessing);
- this address, whatever the account (one address trying many accounts);
- this account, whatever the address (many addresses guessing one account),
  which does not apply from an address the account signed in from before: a
  stranger cannot keep the owner out by guessing from elsewhere.

Each counter's first attempts are free; from its limit on, the next attempt
has to wait 2, 4, 8, … seconds (up to LOGIN_LOCKOUT_MINUTES). An attempt made
while a wait is running is refused (429 with Retry-After) and not counted, so
hammering does not lengthen the wait. A correct password clears the account's
counter for that address and takes the attempt back from the others.
Counters forget after an hour without attempts.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from dataclasses import dataclass

from app.platform.errors import DomainError, TooManyRequests
from app.settings import get_settings

USUAL_ADDRESS_DAYS = 30
ADDRESS_FACTOR = 4  # an address or a whole account gets this many times the per-pair limit

_CLAIM = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limits = {tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])}
local cap = tonumber(ARGV[5])
local ttl = tonumber(ARGV[6])
local n = 3
if redis.call('HEXISTS', KEYS[4], ARGV[1]) == 1 then n = 2 end
local wait = 0
for i = 1, n do
  local nxt = tonumber(redis.call('HGET', KEYS[i], 'next') or '0')
  if nxt - now > wait then wait = nxt - now end
end
if wait > 0 then return {wait, n} end
for i = 1, n do
  local count = redis.call('HINCRBY', KEYS[i], 'n', 1)
  if count >= limits[i] then
    local d = math.min(cap, 1000 * 2 ^ (count - limits[i] + 1))
    redis.call('HSET', KEYS[i], 'next', string.format('%.0f', now + d))
  end
  redis.call('EXPIRE', KEYS[i], ttl)
end
return {0, n}
"""

_PASSED = """
redis.call('DEL', KEYS[1])
for i = 2, tonumber(ARGV[2]) do
  if tonumber(redis.call('HGET', KEYS[i], 'n') or '0') > 0 then redis.call('HINCRBY', KEYS[i], 'n', -1) end
end
redis.call('HSET', KEYS[4], ARGV[1], '1')
redis.call('EXPIRE', KEYS[4], ARGV[3])
return 1
"""


class SignInUnavailable(DomainError):
    """The attempt could not be counted, so it is not checked either."""

    status, code = 503, "unavailable"


def _h(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _wait_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = round(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt, counted (`claim`) before its password is checked."""

    action: str  # auth.login | customer.login: staff and customers count apart
    tenant_id: uuid.UUID
    name: str  # the username or email address tried
    ip: str

    def _keys(self) -> list[str]:
        base = f"shopfloor:signin:{self.action}"
        account = f"{base}:{self.tenant_id}:{_h(self.name)}"
        address = self.ip or "unknown"
        return [f"{account}:from:{_h(address)}", f"{base}:address:{_h(address)}", account, f"{account}:usual"]

    def claim(self) -> tuple[int, bool]:
        """Count this attempt: (0, usual) when it may go ahead, else (seconds
        to wait, usual) and it is not counted. `usual`: from an address the
        account signed in from before."""
        from app.platform.tasks import redis_conn

        s = get_settings()
        limit = max(1, s.login_max_failures)
        cap_ms = max(1, s.login_lockout_minutes) * 60_000
        try:
            wait_ms, n = redis_conn().eval(
                _CLAIM,
                4,
                *self._keys(),
                _h(self.ip or "unknown"),
                limit,
                limit * ADDRESS_FACTOR,
                limit * ADDRESS_FACTOR,
                cap_ms,
                max(3600, 2 * cap_ms // 1000),
            )  # type: ignore[misc]  # redis-py's eval is typed as possibly awaitable
        except Exception as exc:
            raise SignInUnavailable("sign-in is unavailable for a moment; please try again") from exc
        return (-(-int(wait_ms) // 1000), int(n) == 2)

    def refuse(self, wait: int) -> TooManyRequests:
        return TooManyRequests(
            f"too many failed sign-ins; try again in {_wait_words(wait)}",
            retry_after=wait,
        )

    def passed(self, usual: bool) -> None:
        """The password was right: forget this address's failures for the account."""
        from app.platform.tasks import redis_conn

        with contextlib.suppress(Exception):  # best effort: the counters forget on their own
            redis_conn().eval(
                _PASSED,
                4,
                *self._keys(),
                _h(self.ip or "unknown"),
                2 if usual else 3,
                USUAL_ADDRESS_DAYS * 24 * 3600,
            )
