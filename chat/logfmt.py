"""One structured log line per event: `event=connect room=lobby user=alice`.

Every connect, disconnect, refusal, rate limit and error goes through
`log_event`, so operators can grep and parse one format (logfmt). Callers pass
names, codes and numbers only: never message text, cookies or tokens.
"""

import logging

_NEEDS_QUOTES = frozenset(' "=\\\n\r\t')


def _value(value: object) -> str:
    text = "-" if value is None else str(value)
    if text and not _NEEDS_QUOTES.intersection(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r") + '"'


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
        logger.log(level, format_event(event, **fields))
