import NIOCore

/// One server-sent event: its `event:` name, when it has one, and its `data`.
struct ServerSentEvent: Equatable {
    var name: String?
    var data: String
}

/// Splits a byte stream of server-sent events into events, however the bytes are chunked. Accepts
/// `\n\n` and `\r\n\r\n` separators (Gemini sends the latter). Works on bytes throughout: a stream's
/// events are parsed once per chunk, so string splitting (grapheme by grapheme) would cost per byte.
struct ServerSentEventDecoder {
    private var pending: [UInt8] = []

    /// Every event completed by `chunk`.
    mutating func append(_ chunk: ByteBuffer) -> [ServerSentEvent] {
        self.pending.append(contentsOf: chunk.readableBytesView)
        var events: [ServerSentEvent] = []
        var start = 0
        var index = 0
        let count = self.pending.count
        while index < count {
            if self.pending[index] == Self.lineFeed {
                // An event ends at an empty line: "\n\n" or "\n\r\n".
                var next = index + 1
                if next < count, self.pending[next] == Self.carriageReturn { next += 1 }
                if next < count, self.pending[next] == Self.lineFeed {
                    if let event = Self.event(in: self.pending[start..<index]) { events.append(event) }
                    start = next + 1
                    index = next + 1
                    continue
                }
            }
            index += 1
        }
        self.pending.removeFirst(start)
        return events
    }

    /// A last event not followed by an empty line.
    mutating func finish() -> ServerSentEvent? {
        defer { self.pending.removeAll() }
        return Self.event(in: self.pending[...])
    }

    private static let lineFeed = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")

    /// The event in `block`; nil when it has no data (a comment, or a lone `event:` line).
    private static func event(in block: ArraySlice<UInt8>) -> ServerSentEvent? {
        var name: String?
        var dataLines: [ArraySlice<UInt8>] = []
        var lineStart = block.startIndex
        while lineStart < block.endIndex {
            let lineEnd = block[lineStart...].firstIndex(of: Self.lineFeed) ?? block.endIndex
            var line = block[lineStart..<lineEnd]
            if line.last == Self.carriageReturn { line = line.dropLast() }
            if line.starts(with: "data:".utf8) {
                var value = line.dropFirst(5)
                if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
                dataLines.append(value)
            } else if line.starts(with: "event:".utf8) {
                let value = line.dropFirst(6).drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
                name = String(decoding: value, as: UTF8.self)
            }
            lineStart = lineEnd + 1
        }
        guard let first = dataLines.first else { return nil }
        if dataLines.count == 1 { return ServerSentEvent(name: name, data: String(decoding: first, as: UTF8.self)) }
        return ServerSentEvent(name: name, data: String(decoding: Array(dataLines.joined(separator: [Self.lineFeed])), as: UTF8.self))
    }
}
