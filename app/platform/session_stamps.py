"""Session stamps: how a long-lived watcher notices, cheaply, that its sign-in is gone.

A page's live-update watcher streams for up to an hour. Checking the session in
the database on every push would cost a query per open page per second, so
each change that can end or narrow a sign-in moves a small value in Redis
instead, and the watcher reads those values with one MGET per push:

- signing out writes `revoked` under the session's key (before the commit, so
  no push slips through between the commit and the stamp);
- a change of a user's roles or their deactivation bumps the user's counter
  (after the commit, so the watcher's re-check reads the new rights);
- a change of what the roles grant bumps a counter every watcher reads.

A watcher that sees a value move re-checks the session in the database once
and carries on with the new values, or stops. Expiry needs no stamp: the
watcher knows when its session runs out. Stamps expire on their own, well
after any session they could concern.
"""

from __future__ import annotations

import logging
import uuid

from app.settings import get_settings

log = logging.getLogger(__name__)

REVOKED = "revoked"
_SESSION = "shopfloor:auth:session:{}"
_USER = "shopfloor:auth:user:{}"
_EVERYONE = "shopfloor:auth:everyone"


def _ttl() -> int:
    """Longer than any session lives, so a stamp outlives what it guards."""
    return int(get_settings().session_ttl_hours * 3600) + 3600


def keys(session_id: uuid.UUID | None, user_id: uuid.UUID | None) -> list[str]:
    """The stamps a watcher of this sign-in reads, in a fixed order."""
    return [_SESSION.format(session_id), _USER.format(user_id), _EVERYONE]


def revoke_session(session_id: uuid.UUID) -> None:
    from app.platform.tasks import redis_conn

    try:
        redis_conn().set(_SESSION.format(session_id), REVOKED, ex=_ttl())
    except Exception as exc:  # Redis down: watchers fall back to the database (they cannot read stamps either)
        log.warning("session stamp not written: %s", exc)


def _bump(key: str) -> None:
    from app.platform.tasks import redis_conn

    try:
        pipe = redis_conn().pipeline()
        pipe.incr(key)
        pipe.expire(key, _ttl())
        pipe.execute()
    except Exception as exc:
        log.warning("session stamp not bumped: %s", exc)


def bump_user(user_id: uuid.UUID) -> None:
    """The user's rights or standing changed: their watchers re-check."""
    _bump(_USER.format(user_id))


def bump_everyone() -> None:
    """What roles grant changed: every watcher re-checks."""
    _bump(_EVERYONE)
