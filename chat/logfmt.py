"""One structured log line per event: `event=connect room=lobby user=alice`.

Every connect, disconnect, refusal, rate limit and error goes through
`log_event`, so operators can grep and parse one format (logfmt). Callers pass
names, codes and numbers only: never message text, cookies or tokens.

The formatters write every line of the process (Django's, uvicorn's, ours)
either as pure logfmt (`ts=… level=info logger=chat.consumers event=connect
room=lobby`; other messages as `msg="…"`, a traceback escaped into it) or as
one JSON object per line (the event's fields as keys): CHAT_LOG_FORMAT.
"""

import logging
import re
from datetime import UTC, datetime

import orjson

_NEEDS_QUOTES = frozenset(' "=\\')
# Every control character (Unicode Cc: C0, DEL, C1), the line and paragraph
# separators, and the invisible format characters that reorder or hide text
# (bidi overrides, zero-width): written raw they forge log lines or hide
# what a terminal shows.
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]"
)
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_control(match: re.Match) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _value(value: object) -> str:
    text = "-" if value is None else str(value)
    if text and not _NEEDS_QUOTES.intersection(text) and not _CONTROL.search(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _CONTROL.sub(_escape_control, escaped) + '"'


def format_event(event: str, **fields: object) -> str:
    """`event=<event> key=value ...`, quoting values that need it."""
    return " ".join(
        [f"event={_value(event)}"]
        + [f"{key}={_value(value)}" for key, value in fields.items()]
    )


def log_event(
    logger: logging.Logger, event: str, level: int = logging.INFO, **fields: object
) -> None:
    if logger.isEnabledFor(level):
        logger.log(
            level,
            format_event(event, **fields),
            extra={"chat_event": {"event": event, **fields}},
        )


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.exc_info:
        text += "\n" + formatter.formatException(record.exc_info)
    return text


class LogfmtFormatter(logging.Formatter):
    """`ts=<ISO 8601> level=<level> logger=<name>` then the event's fields,
    or `msg="<text>"`: one parseable logfmt line per record."""

    def format(self, record: logging.LogRecord) -> str:
        head = (
            f"ts={_timestamp(record)} level={record.levelname.lower()} "
            f"logger={_value(record.name)}"
        )
        if getattr(record, "chat_event", None) is not None:
            return f"{head} {record.getMessage()}"  # already logfmt
        return f"{head} msg={_value(_text(self, record))}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, then the event's fields
    (or msg)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "chat_event", None)
        if fields is not None:
            line.update(fields)
        else:
            line["msg"] = _text(self, record)
        return orjson.dumps(line, default=str).decode()
