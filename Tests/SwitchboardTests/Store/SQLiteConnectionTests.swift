import Foundation
import Testing

@testable import Switchboard

@Suite("The embedded store's SQLite file: permissions, WAL, migrations")
struct SQLiteConnectionTests {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-\(UUID().uuidString).db").path
    }

    @Test("a new database file is its owner's only (0600) and in WAL mode")
    func fileModeAndWAL() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let connection = try SQLiteConnection(path: path)
        try StoreMigrations.migrate(connection)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try connection.query("PRAGMA journal_mode").first?.string("journal_mode") == "wal")
        if FileManager.default.fileExists(atPath: path + "-wal") {
            #expect(try FileManager.default.attributesOfItem(atPath: path + "-wal")[.posixPermissions] as? Int == 0o600)
        }
    }

    @Test("migrations bring an empty file to the latest version once; reopening runs none")
    func migrations() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try StoreMigrations.migrate(SQLiteConnection(path: path)) == 0)
        let reopened = try SQLiteConnection(path: path)
        #expect(try StoreMigrations.migrate(reopened) == StoreMigrations.latestVersion)
        let tables = try reopened.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").compactMap { $0.string("name") }
        #expect(tables == ["gateway_budget", "keys", "spend_logs", "teams"])
        #expect(try reopened.query("SELECT spend FROM gateway_budget").first?.double("spend") == 0)
    }

    @Test("a file from a newer build is refused, not rewritten")
    func newerSchema() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let connection = try SQLiteConnection(path: path)
        try connection.execute("PRAGMA user_version = \(StoreMigrations.latestVersion + 1)")
        #expect(throws: SQLiteError.self) { try StoreMigrations.migrate(connection) }
    }

    @Test("values round-trip through bound parameters; a failing transaction leaves nothing")
    func valuesAndTransactions() async throws {
        let connection = try SQLiteConnection(path: ":memory:")
        try connection.execute("CREATE TABLE t (a TEXT, b INTEGER, c REAL, d TEXT)")
        try connection.run("INSERT INTO t VALUES (?, ?, ?, ?)", [.text("héllo ✓ 'quoted'"), .integer(Int64.max), .real(0.125), .null])
        let row = try #require(try connection.query("SELECT * FROM t").first)
        #expect(row.string("a") == "héllo ✓ 'quoted'")
        #expect(row.int("b") == Int.max)
        #expect(row.double("c") == 0.125)
        #expect(row.values["d"] == .null)

        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try connection.transaction {
                try connection.run("INSERT INTO t (a) VALUES ('gone')")
                throw Abort()
            }
        }
        #expect(try connection.query("SELECT count(*) AS n FROM t").first?.int("n") == 1)
        #expect(throws: SQLiteError.self) { try connection.run("INSERT INTO nowhere VALUES (1)") }
    }
}
