import Foundation

/// The shared store's schema: SQLite's migrations, translated to PostgreSQL's types (so both stores have the
/// same tables and columns, and the admin API and the reports read both alike), then what only several
/// replicas need. `switchboard_schema.version` says which have run.
///
/// Replicas that start together must not run a migration twice: each takes `pg_advisory_xact_lock` first, in
/// the transaction that runs the migrations, so the others wait, then find the work done. Append only.
enum PostgresMigrations {
    /// Any number, as long as it is this one: the advisory lock every replica takes before migrating.
    static let lockID: Int64 = 0x5357_4254_4348  // "SWBTCH"

    static let all: [String] = [
        // 1 and 2: SQLite's, in PostgreSQL's types. A later SQLite migration is appended here the same way,
        // after 3: a version that shipped keeps its number.
        Self.postgresDialect(StoreMigrations.all[0]),
        Self.postgresDialect(StoreMigrations.all[1]),
        // 3: what replicas share beyond records.
        // - governance_state.version: bumped by every change to a key or team, so replicas that poll know when
        //   to reload (LISTEN/NOTIFY tells them sooner).
        // - replicas: each replica's heartbeat; a replica unseen for 15 s holds no request slots.
        // - spend_batches: the id of every spend batch written, so a batch retried after a lost answer is
        //   written once.
        // - rate_windows and requests_in_flight: the rate-limit counters, per scope ('key:<hash>' or
        //   'team:<id>') and minute of the database's clock, and per scope and replica.
        """
        CREATE TABLE governance_state (id BIGINT PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL DEFAULT 0);
        INSERT INTO governance_state (id) VALUES (1);
        CREATE TABLE replicas (instance_id TEXT PRIMARY KEY, seen_at TIMESTAMPTZ NOT NULL);
        CREATE TABLE spend_batches (
            batch_id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, written_at TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE TABLE rate_windows (
            scope TEXT NOT NULL, minute BIGINT NOT NULL,
            requests BIGINT NOT NULL DEFAULT 0, tokens BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (scope, minute)
        );
        CREATE TABLE requests_in_flight (
            scope TEXT NOT NULL, instance_id TEXT NOT NULL, count BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (scope, instance_id)
        );

        -- Admits one request under every scope's limits or none: takes each scope's transaction lock (so
        -- concurrent admissions of a scope queue here, from every replica, at a minute's turn too), checks them
        -- all, then counts the request
        -- in each. A limit of -1 is none. Returns refused = 0 and the minute counted in, or the 1-based index of
        -- the first scope refused, which limit and the count that refused it.
        CREATE FUNCTION switchboard_admit(
            scopes TEXT[], rpm BIGINT[], tpm BIGINT[], parallel BIGINT[], reserve BIGINT, instance TEXT
        ) RETURNS TABLE (refused INT, reason TEXT, current BIGINT, window_minute BIGINT)
        LANGUAGE plpgsql AS $$
        DECLARE
            now_minute BIGINT := floor(extract(epoch FROM clock_timestamp()) / 60);
            i INT;
            w rate_windows%ROWTYPE;
            flying BIGINT;
        BEGIN
            FOR i IN 1..cardinality(scopes) LOOP
                PERFORM pg_advisory_xact_lock(hashtext(scopes[i]));
                INSERT INTO rate_windows (scope, minute) VALUES (scopes[i], now_minute) ON CONFLICT DO NOTHING;
                SELECT * INTO w FROM rate_windows r WHERE r.scope = scopes[i] AND r.minute = now_minute;
                IF parallel[i] >= 0 THEN
                    SELECT COALESCE(SUM(f.count), 0) INTO flying FROM requests_in_flight f
                        JOIN replicas p ON p.instance_id = f.instance_id
                        WHERE f.scope = scopes[i] AND p.seen_at > now() - interval '15 seconds';
                    IF flying >= parallel[i] THEN
                        RETURN QUERY SELECT i, 'parallel'::TEXT, flying, now_minute; RETURN;
                    END IF;
                END IF;
                IF rpm[i] >= 0 AND w.requests >= rpm[i] THEN
                    RETURN QUERY SELECT i, 'rpm'::TEXT, w.requests, now_minute; RETURN;
                END IF;
                IF tpm[i] >= 0 AND w.tokens >= tpm[i] THEN
                    RETURN QUERY SELECT i, 'tpm'::TEXT, w.tokens, now_minute; RETURN;
                END IF;
            END LOOP;
            UPDATE rate_windows r SET requests = r.requests + 1, tokens = r.tokens + reserve
                WHERE r.scope = ANY(scopes) AND r.minute = now_minute;
            INSERT INTO requests_in_flight AS f (scope, instance_id, count)
                SELECT s, instance, 1 FROM unnest(scopes) AS s
                ON CONFLICT (scope, instance_id) DO UPDATE SET count = f.count + 1;
            RETURN QUERY SELECT 0, NULL::TEXT, 0::BIGINT, now_minute;
        END $$;

        -- Ends an admitted request: frees its slots and settles its tokens in the minute it was counted in
        -- (what it used in place of what was reserved). Takes the scopes' locks in admission's order first, so
        -- the two never wait on each other's rows.
        CREATE FUNCTION switchboard_release(
            scopes TEXT[], instance TEXT, counted_minute BIGINT, reserved BIGINT, used BIGINT
        ) RETURNS VOID LANGUAGE plpgsql AS $$
        DECLARE
            i INT;
        BEGIN
            FOR i IN 1..cardinality(scopes) LOOP
                PERFORM pg_advisory_xact_lock(hashtext(scopes[i]));
            END LOOP;
            UPDATE requests_in_flight f SET count = GREATEST(f.count - 1, 0)
                WHERE f.scope = ANY(scopes) AND f.instance_id = instance;
            UPDATE rate_windows r SET tokens = GREATEST(r.tokens - reserved + used, 0)
                WHERE r.scope = ANY(scopes) AND r.minute = counted_minute;
        END $$;
        """,
    ]

    static var latestVersion: Int { self.all.count }

    /// An SQLite migration in PostgreSQL's types: SQLite's REAL is a double, its INTEGER 64 bits.
    static func postgresDialect(_ sqlite: String) -> String {
        sqlite.replacingOccurrences(of: #"\bREAL\b"#, with: "DOUBLE PRECISION", options: .regularExpression)
            .replacingOccurrences(of: #"\bINTEGER\b"#, with: "BIGINT", options: .regularExpression)
    }

    /// A migration's statements, one by one: postgres-nio sends each as a prepared statement, which holds one.
    /// Splits at `;` ending a line, except inside a `$$`-quoted function body.
    static func statements(of migration: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var inBody = false
        for line in migration.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("--") { continue }
            current += line + "\n"
            if line.components(separatedBy: "$$").count % 2 == 0 { inBody.toggle() }
            if !inBody, line.hasSuffix(";") {
                statements.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { statements.append(rest) }
        return statements
    }
}
