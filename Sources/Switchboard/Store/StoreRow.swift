/// A value bound to a statement or read from a row, in either backend.
enum StoreValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    init(_ value: Double?) { self = value.map { .real($0) } ?? .null }
}

/// One row of a result, by column name, whichever database it came from.
struct StoreRow: Sendable {
    let values: [String: StoreValue]

    func string(_ column: String) -> String? {
        if case .text(let text)? = self.values[column] { text } else { nil }
    }

    func int(_ column: String) -> Int? {
        switch self.values[column] {
        case .integer(let value)?: Int(value)
        case .real(let value)?: Int(exactly: value)
        default: nil
        }
    }

    func double(_ column: String) -> Double? {
        switch self.values[column] {
        case .integer(let value)?: Double(value)
        case .real(let value)?: value
        default: nil
        }
    }
}
