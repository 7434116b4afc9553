import CSQLite

/// A prepared statement of one ``SQLiteConnection``, finalized when it goes.
final class SQLiteStatement {
    private let statement: OpaquePointer
    /// Kept so the connection outlives its statements.
    private let connection: SQLiteConnection

    init(statement: OpaquePointer, connection: SQLiteConnection) {
        self.statement = statement
        self.connection = connection
    }

    deinit {
        sqlite3_finalize(self.statement)
    }

    /// Makes the statement ready to run again (its bindings stay until rebound).
    func reset() throws(SQLiteError) {
        let status = sqlite3_reset(self.statement)
        guard status == SQLITE_OK else { throw SQLiteError(code: status, message: self.connection.lastMessage) }
    }

    /// Binds `values` to the parameters `?1`, `?2`, … in order.
    func bind(_ values: [StoreValue]) throws(SQLiteError) {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32 =
                switch value {
                case .null: sqlite3_bind_null(self.statement, index)
                case .integer(let integer): sqlite3_bind_int64(self.statement, index, integer)
                case .real(let real): sqlite3_bind_double(self.statement, index, real)
                case .text(let text): csqlite_bind_text(self.statement, index, text, Int32(text.utf8.count))
                }
            guard status == SQLITE_OK else { throw SQLiteError(code: status, message: self.connection.lastMessage) }
        }
    }

    /// The next row, or nil when the statement is done.
    func step() throws(SQLiteError) -> StoreRow? {
        let status = sqlite3_step(self.statement)
        switch status {
        case SQLITE_ROW:
            return self.row()
        case SQLITE_DONE:
            return nil
        default:
            throw SQLiteError(code: status, message: self.connection.lastMessage)
        }
    }

    private func row() -> StoreRow {
        var values: [String: StoreValue] = [:]
        for column in 0..<sqlite3_column_count(self.statement) {
            let name = String(cString: sqlite3_column_name(self.statement, column))
            switch sqlite3_column_type(self.statement, column) {
            case SQLITE_INTEGER: values[name] = .integer(sqlite3_column_int64(self.statement, column))
            case SQLITE_FLOAT: values[name] = .real(sqlite3_column_double(self.statement, column))
            case SQLITE_TEXT: values[name] = .text(String(cString: sqlite3_column_text(self.statement, column)))
            default: values[name] = .null
            }
        }
        return StoreRow(values: values)
    }
}
