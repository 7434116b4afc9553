import NIOCore

/// Replaces the value of the top-level `"model"` field in raw JSON bytes, leaving every other byte as
/// the client sent it: the passthrough's promise of "byte for byte except the model name".
enum ModelFieldRewriter {
    /// `body` with its top-level `model` string set to `model`; nil when `body` has no such field.
    static func rewrite(_ body: ByteBuffer, model: String) -> ByteBuffer? {
        body.withUnsafeReadableBytes { bytes -> ByteBuffer? in
            guard let range = Self.locateModelValue(in: bytes) else { return nil }
            var output = ByteBuffer()
            output.reserveCapacity(bytes.count + model.utf8.count)
            output.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[..<range.lowerBound]))
            var quoted = JSONWriter(capacity: model.utf8.count + 2)
            quoted.string(model)
            output.writeBytes(quoted.bytes)
            output.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[range.upperBound...]))
            return output
        }
    }

    /// The byte range of the string literal (quotes included) that is the top-level `model` value.
    static func locateModelValue(in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        var scanner = Scanner(bytes: bytes)
        scanner.skipWhitespace()
        guard scanner.consume(UInt8(ascii: "{")) else { return nil }
        while true {
            scanner.skipWhitespace()
            guard let keyRange = scanner.scanString() else { return nil }
            scanner.skipWhitespace()
            guard scanner.consume(UInt8(ascii: ":")) else { return nil }
            scanner.skipWhitespace()
            let isModel = bytes[keyRange].elementsEqual(#""model""#.utf8)
            if isModel, scanner.peek == UInt8(ascii: "\"") { return scanner.scanString() }
            guard scanner.skipValue() else { return nil }
            scanner.skipWhitespace()
            guard scanner.consume(UInt8(ascii: ",")) else { return nil }
        }
    }

    /// `body` as Vertex AI's Anthropic endpoints want it: `anthropic_version` set to `version`, and the top-level
    /// `model` dropped (`rawPredict` names the model in its URL) or, when `model` is given, set to it
    /// (`count-tokens:rawPredict` reads it from the body). Every other member keeps the client's bytes.
    /// Nil when `body` is not a JSON object.
    static func vertexBody(_ body: ByteBuffer, version: String, model: String?) -> ByteBuffer? {
        body.withUnsafeReadableBytes { bytes -> ByteBuffer? in
            guard let members = Self.members(in: bytes) else { return nil }
            var head = JSONWriter(capacity: 128)
            head.field("anthropic_version", version)
            head.field("model", model)
            var output = ByteBuffer()
            output.reserveCapacity(bytes.count + 64)
            // Fields written outside an object: `"anthropic_version":…,"model":…`, for the object opened here.
            output.writeString("{")
            output.writeBytes(head.bytes)
            for member in members {
                let key = bytes[member.key]
                guard !key.elementsEqual(#""model""#.utf8), !key.elementsEqual(#""anthropic_version""#.utf8) else { continue }
                output.writeString(",")
                output.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[member.key.lowerBound..<member.value.upperBound]))
            }
            output.writeString("}")
            return output
        }
    }

    /// The top-level members of a JSON object: each key's range (quotes included) and its value's range.
    private static func members(in bytes: UnsafeRawBufferPointer) -> [(key: Range<Int>, value: Range<Int>)]? {
        var scanner = Scanner(bytes: bytes)
        scanner.skipWhitespace()
        guard scanner.consume(UInt8(ascii: "{")) else { return nil }
        var members: [(key: Range<Int>, value: Range<Int>)] = []
        scanner.skipWhitespace()
        if scanner.consume(UInt8(ascii: "}")) { return members }
        while true {
            scanner.skipWhitespace()
            guard let key = scanner.scanString() else { return nil }
            scanner.skipWhitespace()
            guard scanner.consume(UInt8(ascii: ":")) else { return nil }
            scanner.skipWhitespace()
            let start = scanner.position
            guard scanner.skipValue() else { return nil }
            var end = scanner.position
            while end > start, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[end - 1]) { end -= 1 }
            members.append((key, start..<end))
            scanner.skipWhitespace()
            if scanner.consume(UInt8(ascii: "}")) { return members }
            guard scanner.consume(UInt8(ascii: ",")) else { return nil }
        }
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        var peek: UInt8? { self.position < self.bytes.count ? self.bytes[self.position] : nil }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard self.peek == byte else { return false }
            self.position += 1
            return true
        }

        mutating func skipWhitespace() {
            while let byte = self.peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
                self.position += 1
            }
        }

        /// A string literal's range, quotes included.
        mutating func scanString() -> Range<Int>? {
            let start = self.position
            guard self.consume(UInt8(ascii: "\"")) else { return nil }
            while let byte = self.peek {
                self.position += 1
                if byte == UInt8(ascii: "\\") {
                    self.position += 1
                } else if byte == UInt8(ascii: "\"") {
                    return start..<self.position
                }
            }
            return nil
        }

        /// Skips one value of any type; strings are scanned so brackets inside them do not count.
        mutating func skipValue() -> Bool {
            var depth = 0
            repeat {
                guard let byte = self.peek else { return false }
                switch byte {
                case UInt8(ascii: "\""):
                    guard self.scanString() != nil else { return false }
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                    self.position += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    guard depth > 0 else { return true }  // end of the enclosing object
                    depth -= 1
                    self.position += 1
                case UInt8(ascii: ","):
                    if depth == 0 { return true }
                    self.position += 1
                default:
                    self.position += 1
                }
            } while depth > 0 || !(self.peek == UInt8(ascii: ",") || self.peek == UInt8(ascii: "}"))
            return true
        }
    }
}
