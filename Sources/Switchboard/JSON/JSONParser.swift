import OrderedCollections

/// JSON text (RFC 8259) → ``JSONValue``, in one pass over the bytes.
///
/// Request bodies are parsed here rather than by `JSONDecoder`: on a Claude-Code-sized request
/// (≈85 KB, a dozen tool schemas) `JSONDecoder`'s per-node containers and thrown type probes cost
/// most of the gateway's time (docs/performance.md). Strings without escapes are copied in one step;
/// invalid UTF-8 is repaired with U+FFFD, as `String(decoding:)` does, rather than refused.
struct JSONParser {
    /// Deeper nesting is refused rather than risking the stack of a concurrency thread.
    static let maximumDepth = 512

    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    private var depth = 0

    private init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        let value = try parser.value()
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected text after the value") }
        return value
    }

    static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        var text = text
        let result = text.withUTF8 { utf8 in
            Result { () throws(JSONSyntaxError) in try Self.parse(UnsafeRawBufferPointer(utf8)) }
        }
        return try result.get()
    }

    private mutating func value() throws(JSONSyntaxError) -> JSONValue {
        guard self.index < self.bytes.count else { throw self.error("unexpected end of input") }
        switch self.bytes[self.index] {
        case UInt8(ascii: "\""): return .string(try self.string())
        case UInt8(ascii: "{"): return try self.object()
        case UInt8(ascii: "["): return try self.array()
        case UInt8(ascii: "t"): try self.literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try self.literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try self.literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try self.number())
        default: throw self.error("unexpected character")
        }
    }

    private mutating func object() throws(JSONSyntaxError) -> JSONValue {
        try self.enter()
        self.index += 1
        var object: JSONObject = [:]
        self.skipWhitespace()
        if self.consume(UInt8(ascii: "}")) {
            self.depth -= 1
            return .object(object)
        }
        while true {
            self.skipWhitespace()
            guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "\"") else {
                throw self.error("expected a string key")
            }
            let key = try self.string()
            self.skipWhitespace()
            guard self.consume(UInt8(ascii: ":")) else { throw self.error("expected ':'") }
            self.skipWhitespace()
            object[key] = try self.value()
            self.skipWhitespace()
            if self.consume(UInt8(ascii: ",")) { continue }
            guard self.consume(UInt8(ascii: "}")) else { throw self.error("expected ',' or '}'") }
            self.depth -= 1
            return .object(object)
        }
    }

    private mutating func array() throws(JSONSyntaxError) -> JSONValue {
        try self.enter()
        self.index += 1
        var array: [JSONValue] = []
        self.skipWhitespace()
        if self.consume(UInt8(ascii: "]")) {
            self.depth -= 1
            return .array(array)
        }
        while true {
            self.skipWhitespace()
            array.append(try self.value())
            self.skipWhitespace()
            if self.consume(UInt8(ascii: ",")) { continue }
            guard self.consume(UInt8(ascii: "]")) else { throw self.error("expected ',' or ']'") }
            self.depth -= 1
            return .array(array)
        }
    }

    private mutating func enter() throws(JSONSyntaxError) {
        self.depth += 1
        guard self.depth <= Self.maximumDepth else { throw self.error("nested more than \(Self.maximumDepth) levels deep") }
    }

    /// A string starting at its opening quote; the index ends past the closing one.
    ///
    /// Runs of plain bytes are copied whole; only escapes are decoded one by one. The loop works on
    /// locals, which the optimizer keeps in registers.
    private mutating func string() throws(JSONSyntaxError) -> String {
        let bytes = self.bytes
        var index = self.index + 1
        var runStart = index
        var unescaped: [UInt8] = []  // used only once an escape appears; empty arrays allocate nothing
        var sawEscape = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                self.index = index + 1
                let run = UnsafeRawBufferPointer(rebasing: bytes[runStart..<index])
                guard sawEscape else { return String(decoding: run, as: UTF8.self) }
                unescaped.append(contentsOf: run)
                return String(decoding: unescaped, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") {
                sawEscape = true
                unescaped.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
                self.index = index + 1
                try self.escape(into: &unescaped)
                index = self.index
                runStart = index
                continue
            }
            if byte < 0x20 {
                self.index = index
                throw self.error("control character in a string")
            }
            index += 1
        }
        self.index = index
        throw self.error("unterminated string")
    }

    private mutating func escape(into utf8: inout [UInt8]) throws(JSONSyntaxError) {
        guard self.index < self.bytes.count else { throw self.error("unterminated string") }
        let byte = self.bytes[self.index]
        self.index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = UInt32(try self.hexQuad())
            if (0xD800..<0xDC00).contains(scalar) {
                // A high surrogate; its low half must follow as another \u escape.
                if self.index + 1 < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "\\"),
                   self.bytes[self.index + 1] == UInt8(ascii: "u") {
                    self.index += 2
                    let low = UInt32(try self.hexQuad())
                    scalar = (0xDC00..<0xE000).contains(low) ? 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00) : 0xFFFD
                } else {
                    scalar = 0xFFFD
                }
            }
            utf8.append(contentsOf: UTF8.encode(Unicode.Scalar(scalar) ?? "\u{FFFD}")!)
        default:
            self.index -= 1
            throw self.error("invalid escape")
        }
    }

    private mutating func hexQuad() throws(JSONSyntaxError) -> UInt16 {
        guard self.index + 4 <= self.bytes.count else { throw self.error("unterminated \\u escape") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = self.bytes[self.index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw self.error("invalid \\u escape")
            }
            value = value << 4 | UInt16(digit)
            self.index += 1
        }
        return value
    }

    private mutating func number() throws(JSONSyntaxError) -> Double {
        let start = self.index
        var integer: Int64 = 0
        var digits = 0
        let negative = self.consume(UInt8(ascii: "-"))
        guard self.index < self.bytes.count, Self.isDigit(self.bytes[self.index]) else { throw self.error("invalid number") }
        if self.bytes[self.index] == UInt8(ascii: "0") {
            self.index += 1
        } else {
            while self.index < self.bytes.count, Self.isDigit(self.bytes[self.index]) {
                if digits < 18 { integer = integer * 10 + Int64(self.bytes[self.index] - UInt8(ascii: "0")) }
                digits += 1
                self.index += 1
            }
        }
        var isInteger = true
        if self.consume(UInt8(ascii: ".")) {
            isInteger = false
            guard self.digits() else { throw self.error("invalid number") }
        }
        if self.index < self.bytes.count, self.bytes[self.index] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            self.index += 1
            if !self.consume(UInt8(ascii: "+")) { _ = self.consume(UInt8(ascii: "-")) }
            guard self.digits() else { throw self.error("invalid number") }
        }
        // Integers of up to 15 digits are exact in a Double; anything else goes through the full parser.
        if isInteger && digits <= 15 { return Double(negative ? -integer : integer) }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.index]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw self.error("number out of range") }
        return value
    }

    /// Consumes one or more digits; false when there was none.
    private mutating func digits() -> Bool {
        let start = self.index
        while self.index < self.bytes.count, Self.isDigit(self.bytes[self.index]) { self.index += 1 }
        return self.index > start
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let (bytes, index) = (self.bytes, self.index)
        let matches = word.withUTF8Buffer { expected in
            index + expected.count <= bytes.count && expected.indices.allSatisfy { bytes[index + $0] == expected[$0] }
        }
        guard matches else { throw self.error("unexpected character") }
        self.index += word.utf8CodeUnitCount
    }

    private mutating func skipWhitespace() {
        while self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case 0x20, 0x0A, 0x0D, 0x09: self.index += 1
            default: return
            }
        }
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard self.index < self.bytes.count, self.bytes[self.index] == byte else { return false }
        self.index += 1
        return true
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    private func error(_ reason: String) -> JSONSyntaxError {
        JSONSyntaxError(reason: reason, offset: self.index)
    }
}

/// Text that is not JSON: what is wrong, and the byte offset where it was found.
struct JSONSyntaxError: Error, Equatable, CustomStringConvertible {
    var reason: String
    var offset: Int

    var description: String { "\(self.reason) at byte \(self.offset)" }
}
