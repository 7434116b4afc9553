/// The embedded store's schema, as numbered migrations. The database's `PRAGMA user_version` says which
/// have run; opening a database runs the rest, each in its own transaction, so a file from any earlier
/// version is brought up to date and a crash mid-way leaves it at a whole version.
///
/// Append only: a migration that shipped never changes. Field names follow LiteLLM's (`key_alias`,
/// `max_budget`, `budget_duration`, `rpm_limit`, …) so its admin API maps onto the columns one to one.
enum StoreMigrations {
    static let all: [String] = [
        // 1: teams, virtual keys (their SHA-256 only), the gateway's own budget, and the spend log.
        """
        CREATE TABLE teams (
            team_id TEXT PRIMARY KEY,
            team_alias TEXT,
            models TEXT NOT NULL DEFAULT '[]',
            max_budget REAL,
            budget_duration TEXT,
            budget_reset_at REAL,
            spend REAL NOT NULL DEFAULT 0,
            rpm_limit INTEGER,
            tpm_limit INTEGER,
            max_parallel_requests INTEGER,
            blocked INTEGER NOT NULL DEFAULT 0,
            metadata TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE TABLE keys (
            token_hash TEXT PRIMARY KEY,
            key_name TEXT NOT NULL,
            key_alias TEXT UNIQUE,
            user_id TEXT,
            team_id TEXT REFERENCES teams(team_id) ON DELETE SET NULL,
            models TEXT NOT NULL DEFAULT '[]',
            max_budget REAL,
            budget_duration TEXT,
            budget_reset_at REAL,
            spend REAL NOT NULL DEFAULT 0,
            rpm_limit INTEGER,
            tpm_limit INTEGER,
            max_parallel_requests INTEGER,
            expires REAL,
            blocked INTEGER NOT NULL DEFAULT 0,
            metadata TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX keys_team ON keys(team_id);
        CREATE TABLE gateway_budget (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            spend REAL NOT NULL DEFAULT 0,
            budget_reset_at REAL
        );
        INSERT INTO gateway_budget (id) VALUES (1);
        CREATE TABLE spend_logs (
            request_id TEXT PRIMARY KEY,
            start_time REAL NOT NULL,
            end_time REAL NOT NULL,
            key_name TEXT,
            key_alias TEXT,
            team_id TEXT,
            user_id TEXT,
            model_group TEXT,
            deployment TEXT,
            provider TEXT,
            model TEXT,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cache_read_tokens INTEGER NOT NULL DEFAULT 0,
            cache_write_tokens INTEGER NOT NULL DEFAULT 0,
            thinking_tokens INTEGER NOT NULL DEFAULT 0,
            spend REAL NOT NULL DEFAULT 0,
            status INTEGER NOT NULL,
            error_type TEXT,
            session_id TEXT,
            duration_ms REAL NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX spend_logs_time ON spend_logs(start_time);
        CREATE INDEX spend_logs_key ON spend_logs(key_name, start_time);
        CREATE INDEX spend_logs_team ON spend_logs(team_id, start_time);
        CREATE INDEX spend_logs_session ON spend_logs(session_id);
        """,
        // 2: where a key or team was declared ('api', or 'config' for the config file's, which the file then
        // owns), and the first 12 hex digits of a key's hash on its spend-log rows: the `sk-...abcd` name shows
        // only 4 characters of the key, which thousands of keys share, so it cannot tell their rows apart.
        """
        ALTER TABLE keys ADD COLUMN source TEXT NOT NULL DEFAULT 'api';
        ALTER TABLE teams ADD COLUMN source TEXT NOT NULL DEFAULT 'api';
        ALTER TABLE spend_logs ADD COLUMN key_hash_prefix TEXT;
        CREATE INDEX spend_logs_key_hash ON spend_logs(key_hash_prefix, start_time);
        """,
    ]

    /// The version a database is at when every migration has run.
    static var latestVersion: Int { self.all.count }

    /// Runs the migrations `connection` has not had; returns the version it was at before.
    @discardableResult
    static func migrate(_ connection: SQLiteConnection) throws -> Int {
        let current = try connection.query("PRAGMA user_version").first?.int("user_version") ?? 0
        guard current <= Self.latestVersion else {
            throw SQLiteError(
                code: 0,
                message: "\(connection.path) is at schema version \(current), newer than this build's \(Self.latestVersion): "
                    + "it was written by a newer Switchboard"
            )
        }
        for version in (current + 1)..<(Self.latestVersion + 1) {
            try connection.transaction {
                try connection.execute(Self.all[version - 1])
                try connection.execute("PRAGMA user_version = \(version)")
            }
        }
        return current
    }
}
