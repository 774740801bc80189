"""Full-text search over the messages a user may read (`GET /api/v1/search`).

What is found: words with stemming ("deploys" finds "deployed"), and any
substring of at least three characters, which covers word fragments, URLs
and non-Latin text such as Chinese or Japanese, which has no spaces to split
words on. The indexes live in the database and are kept up to date in the
transaction that stores, edits or deletes a message:

- PostgreSQL: a generated `tsvector` column with a GIN index (words, English
  stemming) and a `pg_trgm` GIN index on the text (substrings);
- SQLite: two FTS5 tables kept by triggers, one with the porter stemmer
  (words), one with the trigram tokenizer (substrings).

(migrations/0005_search.py makes both.) Only rooms the user may read *at
query time* are searched (chat.domain.access.visible_rooms), and only messages that
are not deleted. So a room the user left, or a private room the user is not
in, never gives a result, a snippet or a count. Results come newest first,
as the protocol says, each with `highlights`: [start, end) character ranges
of the query's terms in the text, for the page to mark.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from chat.domain import access
from chat.domain.rooms import InvalidRoomName, canonical_room
from chat.models import Message
from chat.services.errors import BadRequest
from chat.store.actions import frames_by_pk

_FILTER = re.compile(r"^(from|in|has|before|after):(\S+)$", re.IGNORECASE)
_LINK = re.compile(r"https?://", re.IGNORECASE)
MAX_QUERY = 200  # characters


@dataclass
class Query:
    """A search box's text, split into its words and its filters."""

    text: str = ""
    sender: str | None = None
    room: str | None = None
    has: set[str] = field(default_factory=set)
    before: date | None = None
    after: date | None = None

    @property
    def terms(self) -> list[str]:
        return self.text.split()


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(
            f"{name}: needs a date as YYYY-MM-DD, not {value!r}."
        ) from None


def parse_query(q: str) -> Query:
    """`deploy from:alice in:dev has:link before:2026-12-01 after:2026-11-01`."""
    if len(q) > MAX_QUERY:
        raise BadRequest(f"The query is over {MAX_QUERY} characters.")
    if "\x00" in q:
        raise BadRequest("The query contains a NUL character (U+0000).")
    query = Query()
    words = []
    for token in q.split():
        found = _FILTER.match(token)
        if found is None:
            words.append(token)
            continue
        name, value = found.group(1).lower(), found.group(2)
        if name == "from":
            query.sender = value.lstrip("@").lower()
        elif name == "in":
            query.room = value.lstrip("#")
        elif name == "has":
            if value.lower() not in ("link", "file"):
                raise BadRequest(f"has:{value}: only has:link and has:file exist.")
            query.has.add(value.lower())
        elif name == "before":
            query.before = _day(value, "before")
        else:
            query.after = _day(value, "after")
    query.text = " ".join(words)
    return query


def _fts_phrase(text: str) -> str:
    """One FTS5 string (a phrase): quotes doubled, so input is never syntax."""
    return '"' + text.replace('"', '""') + '"'


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text_match(terms: list[str], indexed: bool = True) -> tuple[Q, dict[str, RawSQL]]:
    """Every term must be found, as a stemmed word or as a substring: the
    condition, over the annotations it names. On PostgreSQL, `indexed=False`
    words it so that no text index can serve it (the same test, row by row),
    for when another index (a sender's, a room's) narrows the rows better."""
    condition = Q()
    annotations: dict[str, RawSQL] = {}
    for i, term in enumerate(terms):
        if connection.vendor == "postgresql":
            sql = (
                "(search @@ plainto_tsquery('english', %s)"
                " OR text ILIKE %s ESCAPE '\\')"
            )
            if not indexed:
                sql = (
                    "(coalesce(search, ''::tsvector) @@ plainto_tsquery('english', %s)"
                    " OR coalesce(text, '') ILIKE %s ESCAPE '\\')"
                )
            params: tuple = (term, _like(term))
        elif connection.vendor == "sqlite":
            words = (
                f"{Message._meta.db_table}.id IN (SELECT rowid FROM"
                " chat_message_words WHERE chat_message_words MATCH %s)"
            )
            if len(term) >= 3:  # the trigram index needs three characters
                sql = (
                    f"({words} OR {Message._meta.db_table}.id IN (SELECT rowid"
                    " FROM chat_message_tri WHERE chat_message_tri MATCH %s))"
                )
                params = (_fts_phrase(term), _fts_phrase(term))
            else:
                sql = f"({words} OR text LIKE %s ESCAPE '\\')"
                params = (_fts_phrase(term), _like(term))
        else:  # another database: substrings only, unindexed
            condition &= Q(text__icontains=term)
            continue
        name = f"match_{i}"
        condition &= Q(**{name: True})
        annotations[name] = RawSQL(sql, params, output_field=BooleanField())
    return condition, annotations


def highlights(text: str, terms: list[str]) -> list[list[int]]:
    """[start, end) ranges where the terms (or a word starting like them)
    stand in `text`, case-insensitively, merged and in order."""
    lowered = text.lower()
    ranges: list[list[int]] = []
    for term in terms:
        needle = term.lower()
        stem = needle if needle in lowered else needle[: max(3, len(needle) - 2)]
        start = lowered.find(stem)
        while start >= 0 and stem:
            end = start + len(stem)
            while end < len(text) and text[end].isalnum():  # the whole word
                end += 1
            ranges.append([start, end])
            start = lowered.find(stem, end)
    ranges.sort()
    merged: list[list[int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def search(
    user,
    q: str,
    *,
    room: str | None = None,
    sender: str | None = None,
    limit: int | None = None,
) -> list[dict]:
    """The messages matching `q` in rooms `user` may read now, newest first."""
    query = parse_query(q or "")
    room = room or query.room
    sender = (sender or query.sender or "").lstrip("@").lower() or None
    if not query.terms and not (sender or room or query.has):
        raise BadRequest("Say what to search for: words, from:, in: or has:.")
    page_max = settings.CHAT_HISTORY_PAGE_MAX
    limit = 20 if limit is None else limit
    if not 1 <= limit <= page_max:
        raise BadRequest(f"limit must be between 1 and {page_max}.")

    rooms = access.visible_rooms(user)
    if room is not None:
        try:
            rooms = rooms.filter(name=canonical_room(room))
        except InvalidRoomName:
            return []  # as for a room that does not exist: nothing found
    # The readable rooms as a list of ids: a subquery here makes SQLite plan
    # the whole search around the rooms instead of the index's matches.
    room_ids = list(rooms.values_list("pk", flat=True))
    if not room_ids:
        return []
    found = Message.objects.filter(kind=Message.Kind.MESSAGE, deleted_at=None)
    if sender:
        # The sender's id, not a join: an index (user_id) both databases'
        # planners can combine with the text indexes'.
        senders = get_user_model().objects.filter(username__iexact=sender)
        authors = list(senders.values_list("pk", flat=True))
        if not authors:
            return []
        found = found.filter(user_id__in=authors)
    if "link" in query.has:
        found = found.filter(text__iregex=_LINK.pattern)
    if "file" in query.has:
        from chat.models import Attachment

        found = found.filter(
            Exists(
                Attachment.objects.filter(room=OuterRef("room"), seq=OuterRef("seq"))
            )
        )
    tz = timezone.get_current_timezone()
    if query.before:
        found = found.filter(created_at__lt=datetime.combine(query.before, time(), tz))
    if query.after:
        moment = datetime.combine(query.after, time.max, tz)
        found = found.filter(created_at__gt=moment)
    narrow = bool(sender) or len(room_ids) <= _FEW_ROOMS
    if connection.vendor == "sqlite" and not narrow:
        # Many rooms: newest first along the primary key, testing each row,
        # stops after a page. Left to itself SQLite reads every row of the
        # rooms through their index (chat_message_unread) and sorts them:
        # seconds for `has:link` or a two-letter word over a million.
        unindexed = found.alias(room_unindexed=F("room_id") + 0)
        everywhere = unindexed.filter(room_unindexed__in=room_ids)
    found = found.filter(room_id__in=room_ids)
    if query.terms and connection.vendor == "sqlite":
        rows = _sqlite_newest(found, query.terms, limit, narrow)
        if rows is not None:
            return _results(rows, query.terms)
    if query.terms and connection.vendor == "postgresql":
        return _results(_postgres_newest(found, query.terms, limit), query.terms)
    if connection.vendor == "sqlite" and not narrow:
        found = everywhere
    if query.terms:
        condition, annotations = _text_match(query.terms)
        found = found.alias(**annotations).filter(condition)
    # Newest first by id: ids are taken in insertion order, so this is the
    # order messages were stored in, and the primary key's index serves it.
    rows = list(found.order_by("-id").values_list("room__name", "pk")[:limit])
    return _results(rows, query.terms)


_RECENT = 5000  # PostgreSQL: the newest ids read in order before the indexes
_SAMPLE = 1000  # PostgreSQL: the newest ids that tell how common the terms are
_RARE = 20_000  # matches in all, under which the GIN indexes find them


def _postgres_newest(found, terms: list[str], limit: int) -> list:
    """On PostgreSQL: the newest `limit` hits in steps whose cost is bounded
    whatever the planner estimates.

    1. The newest `_RECENT` ids, walked backwards on the primary key, each
       row tested: a common word fills the page here and stops.
    2. If not, how many of the newest `_SAMPLE` ids match the text alone
       tells how common the terms are. Rare (under `_RARE` matches expected in all): the GIN
       indexes find every match below (bitmap scans: plain index scans are
       off for this statement), few to sort. Common (so filters, a room or
       a sender, are what keeps rows out): the text is tested row by row
       (a condition no text index serves), on the rows the planner finds
       best: the primary key backwards, or a room's or sender's index.

    Left to itself the planner walks the primary key for a rare word too
    (its estimate for `ILIKE '%word%'` is far above the truth), reading the
    whole table: 430 ms for "zanzibar" over a million messages. And it
    combines a sender's index with a common word's GIN scan, which reads
    200,000 entries to keep a few thousand."""
    top = Message.objects.order_by("-id").values("id")[:1]
    # The newest id inside the statement: a common word is one round trip.
    recent_floor = ExpressionWrapper(
        Subquery(top) - _RECENT, output_field=BigIntegerField()
    )
    condition, annotations = _text_match(terms)
    recent = found.filter(id__gt=recent_floor).alias(**annotations).filter(condition)
    rows = list(recent.order_by("-id").values_list("room__name", "pk")[:limit])
    if len(rows) == limit:
        return rows
    newest = top.values_list("id", flat=True).first()
    if newest is None or newest <= _RECENT:
        return rows
    # Step 1 saw every hit above its floor; one posted since may have moved
    # the newest id on, so step 2 starts below step 1's oldest hit.
    floor = min(pk for _, pk in rows) - 1 if rows else newest - _RECENT
    sample = Message.objects.filter(id__gt=newest - _SAMPLE).alias(**annotations)
    matching = sample.filter(condition).count()
    rare = matching * newest / _SAMPLE < _RARE
    condition, annotations = _text_match(terms, indexed=rare)
    older = found.filter(id__lte=floor).alias(**annotations).filter(condition)
    older = older.order_by("-id").values_list("room__name", "pk")
    if not rare:
        return rows + list(older[: limit - len(rows)])
    with transaction.atomic(), connection.cursor() as cursor:
        # For this statement only, also when search runs inside a caller's
        # transaction (where SET LOCAL would last until that one ends).
        cursor.execute(
            "SELECT current_setting('enable_indexscan'),"
            " set_config('enable_indexscan', 'off', true)"
        )
        (before, _) = cursor.fetchone()
        try:
            return rows + list(older[: limit - len(rows)])
        finally:
            cursor.execute("SELECT set_config('enable_indexscan', %s, true)", [before])


_FEW_ROOMS = 20  # SQLite: a search in up to this many rooms starts from theirs
_FIRST_CHUNK = 1000  # index matches per table in the first step, newest first
_GROWTH = 4  # each further step reads this many times more
_SCAN_MAX = 300_000  # past this many, one exact query answers instead
_INDEXES = ("chat_message_words", "chat_message_tri")


def _sqlite_newest(found, terms: list[str], limit: int, narrow: bool) -> list | None:
    """On SQLite: the newest `limit` hits, walking both FTS indexes' matches
    from the newest rowid down, a step at a time, and keeping those that the
    other conditions (rooms, deletions, filters) allow. A common word stops
    after the first step instead of sorting every match; a narrow filter
    (a few rooms, one sender) makes each step read more than the one before.

    A step reads each index's next chunk of matches (where it ends tells how
    far down both are complete), then asks for the hits among those matches
    in one statement. Usually the matches' ids go back as one JSON array
    (json_each), each looked up in the message table. With a `narrow`
    filter most matches are not kept, so the step instead gives SQLite the
    chunks as subqueries over that range of ids, against the few rows the
    room's or sender's index holds there; no id passes through Python.

    None when this walk does not apply (a term under three characters, which
    the trigram index cannot find) or would read too much."""
    if any(len(term) < 3 for term in terms):
        return None
    expression = " AND ".join(_fts_phrase(term) for term in terms)
    rows: list = []
    below: int | None = None
    chunk = _FIRST_CHUNK
    scanned = 0
    with connection.cursor() as cursor:
        while len(rows) < limit:
            ids: list[int] = []
            floor = None
            for table in _INDEXES:
                sql = (
                    f"SELECT rowid FROM {table} WHERE {table} MATCH %s"
                    f"{_below(below)} ORDER BY rowid DESC LIMIT %s"
                )
                params: list[str | int] = [expression, *_bound(below), chunk]
                if narrow:
                    cursor.execute(f"SELECT min(rowid), count(*) FROM ({sql})", params)
                    end, count = cursor.fetchone()
                else:
                    ids += (here := [row[0] for row in cursor.execute(sql, params)])
                    end, count = (here[-1] if here else None), len(here)
                scanned += count
                if count == chunk:  # more below: complete only above its end
                    floor = end if floor is None else max(floor, end)
            if narrow:
                step = found.filter(
                    **_span(floor, below), pk__in=_hits(expression, floor, below)
                )
            else:
                listed = [i for i in ids if floor is None or i >= floor]
                step = found.filter(pk__in=_listed(listed))
            step = step.order_by("-id").values_list("room__name", "pk")
            rows += list(step[: limit - len(rows)])
            if floor is None:
                break  # both indexes read to their ends
            if scanned > _SCAN_MAX:
                return None
            below = floor
            chunk *= _GROWTH
    return rows


def _bound(value: int | None) -> list[int]:
    return [] if value is None else [value]


def _span(floor: int | None, below: int | None) -> dict[str, int]:
    span = {} if floor is None else {"id__gte": floor}
    return span if below is None else {**span, "id__lt": below}


def _hits(expression: str, floor: int | None, below: int | None) -> RawSQL:
    """The ids either index matches in [floor, below)."""
    span = ("" if floor is None else " AND rowid >= %s") + _below(below)
    sql = " UNION ALL ".join(
        f"SELECT rowid FROM {table} WHERE {table} MATCH %s{span}" for table in _INDEXES
    )
    params = [expression, *_bound(floor), *_bound(below)]
    return RawSQL(sql, params * len(_INDEXES))


def _below(below: int | None) -> str:
    return "" if below is None else " AND rowid < %s"


def _listed(ids: list[int]) -> RawSQL:
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])


def _results(rows: list[tuple[str, int]], terms: list[str]) -> list[dict]:
    """The current state of each hit, in the order of `rows`."""
    frames = frames_by_pk([pk for _, pk in rows])
    results = []
    for _, pk in rows:
        frame = dict(frames[pk])
        frame["highlights"] = highlights(frame["message"], terms)
        results.append(frame)
    return results
