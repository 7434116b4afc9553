/// Compact JSON written straight into bytes, for what the gateway sends upstream.
///
/// `JSONEncoder` builds a tree of boxed values before it writes one byte; on a Claude-Code-sized
/// Gemini request that was a quarter of the gateway's time. Here commas are placed by one flag:
/// a value, key or opening bracket that follows a finished value gets one first. Slashes and
/// non-ASCII are not escaped; integral numbers are written without a fraction.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    private var needsComma = false

    init(capacity: Int = 1024) {
        self.bytes.reserveCapacity(capacity)
    }

    /// Writes `body` inside `{` … `}`.
    mutating func object(_ body: (inout JSONWriter) throws -> Void) rethrows {
        self.open(UInt8(ascii: "{"))
        try body(&self)
        self.close(UInt8(ascii: "}"))
    }

    /// Writes `body` inside `[` … `]`.
    mutating func array(_ body: (inout JSONWriter) throws -> Void) rethrows {
        self.open(UInt8(ascii: "["))
        try body(&self)
        self.close(UInt8(ascii: "]"))
    }

    mutating func key(_ name: String) {
        self.separate()
        self.writeQuoted(name)
        self.bytes.append(UInt8(ascii: ":"))
        self.needsComma = false
    }

    mutating func string(_ value: String) {
        self.separate()
        self.writeQuoted(value)
        self.needsComma = true
    }

    mutating func number(_ value: Double) {
        self.separate()
        if value.rounded() == value, abs(value) < 1e15 {
            self.writeInteger(Int64(value))
        } else {
            self.bytes.append(contentsOf: value.description.utf8)
        }
        self.needsComma = true
    }

    mutating func integer(_ value: Int) {
        self.separate()
        self.writeInteger(Int64(value))
        self.needsComma = true
    }

    mutating func bool(_ value: Bool) {
        self.separate()
        self.bytes.append(contentsOf: value ? Self.trueBytes : Self.falseBytes)
        self.needsComma = true
    }

    mutating func null() {
        self.separate()
        self.bytes.append(contentsOf: Self.nullBytes)
        self.needsComma = true
    }

    mutating func value(_ value: JSONValue) {
        switch value {
        case .null: self.null()
        case .bool(let bool): self.bool(bool)
        case .number(let number): self.number(number)
        case .string(let string): self.string(string)
        case .array(let items):
            self.array { writer in
                for item in items { writer.value(item) }
            }
        case .object(let fields):
            self.object { writer in
                for (key, field) in fields {
                    writer.key(key)
                    writer.value(field)
                }
            }
        }
    }

    mutating func value(_ value: some JSONWritable) {
        value.write(to: &self)
    }

    /// The bytes, as text; for tests and logs.
    var text: String { String(decoding: self.bytes, as: UTF8.self) }

    private mutating func open(_ bracket: UInt8) {
        self.separate()
        self.bytes.append(bracket)
        self.needsComma = false
    }

    private mutating func close(_ bracket: UInt8) {
        self.bytes.append(bracket)
        self.needsComma = true
    }

    private mutating func separate() {
        if self.needsComma { self.bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func writeInteger(_ value: Int64) {
        if value >= 0 && value < 10 {
            self.bytes.append(UInt8(ascii: "0") + UInt8(value))
        } else {
            self.bytes.append(contentsOf: String(value).utf8)
        }
    }

    /// Appends `text` quoted, escaping only what JSON requires: runs of plain bytes are copied whole.
    private mutating func writeQuoted(_ text: String) {
        self.bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var runStart = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                self.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                self.writeEscape(byte)
                runStart = index + 1
            }
            self.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        self.bytes.append(UInt8(ascii: "\""))
    }

    private mutating func writeEscape(_ byte: UInt8) {
        self.bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): self.bytes.append(byte)
        case 0x0A: self.bytes.append(UInt8(ascii: "n"))
        case 0x0D: self.bytes.append(UInt8(ascii: "r"))
        case 0x09: self.bytes.append(UInt8(ascii: "t"))
        case 0x08: self.bytes.append(UInt8(ascii: "b"))
        case 0x0C: self.bytes.append(UInt8(ascii: "f"))
        default:
            self.bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            self.bytes.append(Self.hexDigits[Int(byte >> 4)])
            self.bytes.append(Self.hexDigits[Int(byte & 0xF)])
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)
    private static let nullBytes = Array("null".utf8)
}

/// A type that writes itself as JSON with a ``JSONWriter``.
protocol JSONWritable {
    func write(to writer: inout JSONWriter)
}

extension JSONWriter {
    /// `"key": value`, or nothing when `value` is nil, as `Encodable`'s `encodeIfPresent` does.
    mutating func field(_ key: String, _ value: String?) {
        guard let value else { return }
        self.key(key)
        self.string(value)
    }

    mutating func field(_ key: String, _ value: Int?) {
        guard let value else { return }
        self.key(key)
        self.integer(value)
    }

    mutating func field(_ key: String, _ value: Double?) {
        guard let value else { return }
        self.key(key)
        self.number(value)
    }

    mutating func field(_ key: String, _ value: Bool?) {
        guard let value else { return }
        self.key(key)
        self.bool(value)
    }

    mutating func field(_ key: String, _ value: JSONValue?) {
        guard let value else { return }
        self.key(key)
        self.value(value)
    }

    mutating func field(_ key: String, _ value: (some JSONWritable)?) {
        guard let value else { return }
        self.key(key)
        value.write(to: &self)
    }

    mutating func field(_ key: String, _ values: [some JSONWritable]?) {
        guard let values else { return }
        self.key(key)
        self.array { writer in
            for value in values { value.write(to: &writer) }
        }
    }

    mutating func field(_ key: String, _ values: [String]?) {
        guard let values else { return }
        self.key(key)
        self.array { writer in
            for value in values { writer.string(value) }
        }
    }
}
