import CSQLite
import Foundation

/// One connection to an SQLite database file, for the embedded store.
///
/// Not thread-safe by itself: the store that owns it serializes every use (SQLite's own serialization would
/// lock as well, but a statement's bind-step-reset sequence must not interleave with another's). Opened in
/// WAL mode, so readers never wait for the batch writer, with a busy timeout for a second process (the
/// `switchboard keys` command working on the file while a gateway runs).
///
/// `@unchecked Sendable` because its owner hands it between tasks only inside a `Mutex`, whose closures the
/// compiler cannot see are the sole users.
final class SQLiteConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    let path: String

    /// Opens (creating when missing) the database at `path`, readable and writable by its owner only: it
    /// holds key hashes and the spend log.
    init(path: String) throws(SQLiteError) {
        self.path = path
        if path != ":memory:", !FileManager.default.fileExists(atPath: path) {
            // SQLite creates the file with the process umask; create it first with 0600. Its -wal and -shm
            // files take the database file's permissions.
            let descriptor = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else {
                throw SQLiteError(code: SQLITE_CANTOPEN, message: "cannot create \(path): \(String(cString: strerror(errno)))")
            }
            close(descriptor)
        }
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &self.handle, flags, nil)
        guard status == SQLITE_OK else {
            let message = self.handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(self.handle)
            self.handle = nil
            throw SQLiteError(code: status, message: "cannot open \(path): \(message)")
        }
        sqlite3_busy_timeout(self.handle, 5_000)
        try self.execute("PRAGMA journal_mode = WAL")
        // In WAL mode NORMAL loses no committed transaction on a process crash, only on power loss.
        try self.execute("PRAGMA synchronous = NORMAL")
        try self.execute("PRAGMA foreign_keys = ON")
    }

    deinit {
        sqlite3_close_v2(self.handle)
    }

    /// Runs one or more statements that take no parameters.
    func execute(_ sql: String) throws(SQLiteError) {
        var error: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(self.handle, sql, nil, nil, &error)
        guard status == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? self.lastMessage
            sqlite3_free(error)
            throw SQLiteError(code: status, message: message)
        }
    }

    /// A prepared statement for `sql`, with `parameters` bound in order.
    func prepare(_ sql: String, _ parameters: [StoreValue] = []) throws(SQLiteError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let status = sqlite3_prepare_v2(self.handle, sql, -1, &statement, nil)
        guard status == SQLITE_OK, let statement else { throw SQLiteError(code: status, message: self.lastMessage) }
        let prepared = SQLiteStatement(statement: statement, connection: self)
        try prepared.bind(parameters)
        return prepared
    }

    /// Runs `sql` with `parameters` and returns every row.
    func query(_ sql: String, _ parameters: [StoreValue] = []) throws(SQLiteError) -> [StoreRow] {
        let statement = try self.prepare(sql, parameters)
        var rows: [StoreRow] = []
        while let row = try statement.step() { rows.append(row) }
        return rows
    }

    /// Runs `sql` with `parameters` for its effect; returns the number of rows it changed.
    @discardableResult
    func run(_ sql: String, _ parameters: [StoreValue] = []) throws(SQLiteError) -> Int {
        let statement = try self.prepare(sql, parameters)
        _ = try statement.step()
        return Int(sqlite3_changes(self.handle))
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func transaction<Value>(_ body: () throws -> Value) throws -> Value {
        try self.execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try self.execute("COMMIT")
            return value
        } catch {
            try? self.execute("ROLLBACK")
            throw error
        }
    }

    var lastMessage: String { String(cString: sqlite3_errmsg(self.handle)) }
}

/// A failed SQLite call: its result code and message.
struct SQLiteError: Error, CustomStringConvertible {
    let code: Int32
    let message: String

    var description: String { "sqlite error \(self.code): \(self.message)" }
}
