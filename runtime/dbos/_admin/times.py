"""Times and durations as a person types them on the command line: `2026-05-01`,
`2026-05-01T12:00`, epoch milliseconds, or a duration ago (`2h`, `30d`), which is what one
means by "since" far more often than a date."""

from __future__ import annotations

from datetime import datetime, timezone

from .._config import parse_duration
from .._db.records import now_ms
from .._error import DBOSException
from .connect import AdminError


def duration_sec(text: str, what: str) -> float:
    try:
        return parse_duration(text, what)
    except DBOSException as exc:
        raise AdminError(str(exc)) from None


def epoch_ms(text: str, what: str) -> int:
    """Epoch ms from an ISO-8601 time (local unless it names a zone), a bare epoch-ms number,
    or a duration before now."""
    value = text.strip()
    if value.isdigit() and len(value) >= 10:
        return int(value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        pass
    else:
        if parsed.tzinfo is None:
            parsed = parsed.astimezone()  # as local time
        return int(parsed.astimezone(timezone.utc).timestamp() * 1000)
    try:
        ago = parse_duration(value, what)
    except DBOSException:
        raise AdminError(
            f"invalid {what} {text!r}: expected an ISO time (2026-05-01T12:00), epoch "
            "milliseconds, or a duration ago (2h, 30d)"
        ) from None
    return now_ms() - int(ago * 1000)
