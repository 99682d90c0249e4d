"""Ordered schema steps; ``PRAGMA user_version`` records how many have run.

Append new steps at the end, never edit a released one: an existing database replays only the
steps after its version, each in its own transaction, so a crash mid-upgrade leaves the last good
version behind.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the event log (installs, deletions, loads, routings) and installed models.
    """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts TEXT NOT NULL,
        kind TEXT NOT NULL,
        details TEXT NOT NULL
    );
    CREATE INDEX events_kind_ts ON events(kind, ts);
    CREATE TABLE installed_models (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        path TEXT NOT NULL,
        format TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        source TEXT NOT NULL,
        registered_by_path INTEGER NOT NULL DEFAULT 0,
        installed_at TEXT NOT NULL,
        last_used_at TEXT
    );
    """,
    # 2: chat history, so a conversation survives a restart.
    """
    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        model_id TEXT NOT NULL,
        started_at TEXT NOT NULL
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        content TEXT NOT NULL,
        created_at TEXT NOT NULL,
        tokens_per_second REAL,
        ttft_ms REAL
    );
    """,
    # 3: the hardware monitor's rolling usage history (bounded by HardwareHistory's retention).
    """
    CREATE TABLE hardware_samples (
        ts TEXT NOT NULL,
        metric TEXT NOT NULL,
        value REAL NOT NULL
    );
    CREATE INDEX hardware_samples_metric_ts ON hardware_samples(metric, ts);
    CREATE INDEX hardware_samples_ts ON hardware_samples(ts);
    """,
    # 4: the download queue: one row per requested variant, the record kept as JSON.
    """
    CREATE TABLE downloads (
        id TEXT PRIMARY KEY,
        model_id TEXT NOT NULL,
        variant_id TEXT NOT NULL,
        status TEXT NOT NULL,
        queued_at TEXT NOT NULL,
        record TEXT NOT NULL
    );
    CREATE INDEX downloads_status ON downloads(status, queued_at);
    """,
    # 5: answers from model registries (search pages, model details, variant lists), kept so a
    # repeated search is instant and an offline or rate-limited registry can still be browsed.
    """
    CREATE TABLE registry_cache (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        payload TEXT NOT NULL
    );
    CREATE INDEX registry_cache_fetched_at ON registry_cache(fetched_at);
    """,
    # 6: storage management, beside each installed model (deleted with it): how often and how
    # long it was loaded (for cleanup suggestions), and what its GGUF header says, kept so a
    # large library is not re-read on every refresh (``facts_size`` is the size the facts were
    # read at: a replaced file is read again). And files in other tools' libraries (Hugging
    # Face cache, Ollama, LM Studio) the user told lexitui to forget, so a rescan skips them.
    """
    CREATE TABLE model_details (
        model_id TEXT PRIMARY KEY REFERENCES installed_models(id) ON DELETE CASCADE,
        use_count INTEGER NOT NULL DEFAULT 0,
        total_seconds REAL NOT NULL DEFAULT 0,
        quantization TEXT,
        architecture TEXT,
        parameter_count INTEGER,
        context_length INTEGER,
        base_model TEXT,
        facts_size INTEGER
    );
    CREATE TABLE library_forgotten (
        path TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        forgotten_at TEXT NOT NULL
    );
    """,
    # 7: saved KV caches (context snapshots); the bytes are files in the snapshots folder.
    """
    CREATE TABLE context_snapshots (
        id TEXT PRIMARY KEY,
        model_id TEXT NOT NULL,
        file_name TEXT NOT NULL,
        token_count INTEGER NOT NULL,
        size_bytes INTEGER NOT NULL,
        label TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    CREATE INDEX context_snapshots_model ON context_snapshots(model_id, created_at);
    """,
    # 8: the performance profiler: one row per model, kept after the model is unloaded, so
    # tokens/s measured here refine the estimates the Discover area shows.
    """
    CREATE TABLE model_performance (
        model_id TEXT PRIMARY KEY,
        requests INTEGER NOT NULL DEFAULT 0,
        tokens INTEGER NOT NULL DEFAULT 0,
        tps_sum REAL NOT NULL DEFAULT 0,
        peak_tps REAL NOT NULL DEFAULT 0,
        ttft_sum_ms REAL NOT NULL DEFAULT 0,
        bench_tps REAL,
        bench_ttft_ms REAL,
        bench_at TEXT,
        updated_at TEXT NOT NULL
    );
    """,
    # 9: conversations of the Runtime area get a title and a system prompt, and remember when
    # they last changed, so the list of saved chats can be sorted and reopened.
    """
    ALTER TABLE conversations ADD COLUMN title TEXT NOT NULL DEFAULT '';
    ALTER TABLE conversations ADD COLUMN system_prompt TEXT NOT NULL DEFAULT '';
    ALTER TABLE conversations ADD COLUMN updated_at TEXT;
    CREATE INDEX conversations_updated ON conversations(updated_at);
    """,
    # 10: every request the router handled: the decision, tokens, latency and money. Amounts are
    # decimal strings (exact sums); NULL cost means the price was not known, never zero.
    """
    CREATE TABLE routed_requests (
        request_id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        provider_id TEXT NOT NULL,
        model_id TEXT NOT NULL,
        is_local INTEGER NOT NULL,
        strategy TEXT NOT NULL,
        reason TEXT NOT NULL,
        task TEXT NOT NULL,
        was_fallback INTEGER NOT NULL DEFAULT 0,
        success INTEGER NOT NULL DEFAULT 1,
        error TEXT,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        latency_ms REAL NOT NULL DEFAULT 0,
        ttft_ms REAL,
        cost_usd TEXT,
        avoided_usd TEXT,
        electricity_usd TEXT,
        energy_wh REAL,
        agent_id TEXT,
        workflow_id TEXT,
        source TEXT NOT NULL DEFAULT 'api',
        prompt_text TEXT
    );
    CREATE INDEX routed_requests_created ON routed_requests(created_at);
    """,
)

# The tables screens show, each with a version number that SQLite's own triggers bump on every
# row written, whichever process wrote it: reading the one small ``table_versions`` table tells
# a watcher what changed without reading the tables themselves (``store.changes``).
WATCHED_TABLES = (
    "events",
    "installed_models",
    "model_details",
    "downloads",
    "model_performance",
    "routed_requests",
)


def _versioned(tables: tuple[str, ...]) -> str:
    rows = ", ".join(f"('{name}')" for name in tables)
    steps = [
        "CREATE TABLE IF NOT EXISTS table_versions "
        "(name TEXT PRIMARY KEY, version INTEGER NOT NULL DEFAULT 0)",
        f"INSERT OR IGNORE INTO table_versions (name) VALUES {rows}",
    ]
    for name in tables:
        for action in ("INSERT", "UPDATE", "DELETE"):
            steps.append(
                f"CREATE TRIGGER IF NOT EXISTS {name}_{action.lower()}_version "
                f"AFTER {action} ON {name} BEGIN UPDATE table_versions "
                f"SET version = version + 1 WHERE name = '{name}'; END"
            )
    return ";\n".join(steps) + ";"


# 11: a change marker per shown table (above), so screens hear of other processes' writes.
MIGRATIONS += (_versioned(WATCHED_TABLES),)

# 12: the editions' daily counters (Hugging Face searches), per operating-system user and UTC day.
MIGRATIONS += (
    """
    CREATE TABLE edition_counters (
        user TEXT NOT NULL,
        counter TEXT NOT NULL,
        day TEXT NOT NULL,
        used INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user, counter, day)
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
