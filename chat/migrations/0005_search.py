"""Search indexes (chat/services/search.py), kept by the database itself in
the transaction that stores, edits or deletes a message.

PostgreSQL: a generated tsvector column (English stemming) with a GIN index,
and pg_trgm's trigram GIN index on the text for substrings. `CREATE EXTENSION
pg_trgm` needs a role allowed to create it (docs/deploy.md).
SQLite: FTS5 tables with external content (no second copy of the text), one
with the porter stemmer, one with the trigram tokenizer, kept by triggers.
"""

from django.db import migrations

POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE chat_message ADD COLUMN search tsvector GENERATED ALWAYS AS "
    "(to_tsvector('english', text)) STORED",
    "CREATE INDEX chat_message_search ON chat_message USING GIN (search)",
    "CREATE INDEX chat_message_text_trgm ON chat_message USING GIN (text gin_trgm_ops)",
]
POSTGRES_UNDO = [
    "DROP INDEX IF EXISTS chat_message_text_trgm",
    "DROP INDEX IF EXISTS chat_message_search",
    "ALTER TABLE chat_message DROP COLUMN IF EXISTS search",
]

_TABLES = {
    "chat_message_words": "porter unicode61 remove_diacritics 2",
    "chat_message_tri": "trigram",
}


def _sqlite() -> list[str]:
    statements = []
    for table, tokenizer in _TABLES.items():
        statements.append(
            f"CREATE VIRTUAL TABLE {table} USING fts5(text, content='chat_message', "
            f"content_rowid='id', tokenize='{tokenizer}')"
        )
        statements.append(
            f"INSERT INTO {table}(rowid, text) SELECT id, text FROM chat_message "
            "WHERE kind = 'message'"
        )
    add = "; ".join(
        f"INSERT INTO {t}(rowid, text) VALUES (new.id, new.text)" for t in _TABLES
    )
    remove = "; ".join(
        f"INSERT INTO {t}({t}, rowid, text) VALUES ('delete', old.id, old.text)"
        for t in _TABLES
    )
    statements += [
        "CREATE TRIGGER chat_message_search_ai AFTER INSERT ON chat_message "
        f"WHEN new.kind = 'message' BEGIN {add}; END",
        "CREATE TRIGGER chat_message_search_ad AFTER DELETE ON chat_message "
        f"WHEN old.kind = 'message' BEGIN {remove}; END",
        "CREATE TRIGGER chat_message_search_au AFTER UPDATE OF text ON chat_message "
        f"WHEN old.kind = 'message' BEGIN {remove}; {add}; END",
    ]
    return statements


SQLITE_UNDO = [
    "DROP TRIGGER IF EXISTS chat_message_search_ai",
    "DROP TRIGGER IF EXISTS chat_message_search_ad",
    "DROP TRIGGER IF EXISTS chat_message_search_au",
    *(f"DROP TABLE IF EXISTS {t}" for t in _TABLES),
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("chat", "0004_merge_unread_indexes_and_deleted_users")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES, "sqlite": _sqlite()}),
            _run({"postgresql": POSTGRES_UNDO, "sqlite": SQLITE_UNDO}),
        )
    ]
