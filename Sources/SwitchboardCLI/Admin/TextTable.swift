import Foundation

/// Rows printed as aligned columns under a header, the way `kubectl get` does.
struct TextTable {
    let columns: [String]
    var rows: [[String]] = []

    var text: String {
        let widths = self.columns.indices.map { column in
            ([self.columns[column]] + self.rows.map { $0[column] }).map(\.count).max() ?? 0
        }
        return ([self.columns] + self.rows).map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }

    /// One column listing the strings of a JSON array.
    static func list(_ column: String, _ values: Any?) -> TextTable {
        TextTable(columns: [column], rows: ((values as? [String]) ?? []).map { [$0] })
    }

    /// A JSON boolean as a cell (JSONSerialization gives it as a number, indistinguishable from 0 and 1).
    static func flag(_ value: Any?) -> String {
        (value as? NSNumber).map { $0.boolValue ? "yes" : "no" } ?? "-"
    }

    /// A JSON field as a cell: text as it is, numbers without a needless `.0`, lists joined, null as `-`.
    static func cell(_ value: Any?) -> String {
        switch value {
        case let text as String: return text
        case let number as NSNumber:
            let double = number.doubleValue
            return double == double.rounded() && abs(double) < 1e15 ? String(Int(double)) : String(format: "%.4f", double)
        case let list as [Any]: return list.isEmpty ? "-" : list.map { Self.cell($0) }.joined(separator: ",")
        default: return "-"
        }
    }
}
