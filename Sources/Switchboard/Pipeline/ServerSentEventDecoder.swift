import NIOCore

/// Splits a byte stream of server-sent events into the `data` of each event, however the bytes are
/// chunked. Accepts `\n\n` and `\r\n\r\n` separators (Gemini sends the latter).
struct ServerSentEventDecoder {
    private var pending: [UInt8] = []

    /// The data of every event completed by `chunk`.
    mutating func append(_ chunk: ByteBuffer) -> [String] {
        self.pending.append(contentsOf: chunk.readableBytesView)
        var events: [String] = []
        var start = 0
        var index = 0
        let bytes = self.pending
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                // An event ends at an empty line: "\n\n" or "\n\r\n".
                var next = index + 1
                if next < bytes.count, bytes[next] == UInt8(ascii: "\r") { next += 1 }
                if next < bytes.count, bytes[next] == UInt8(ascii: "\n") {
                    if let data = Self.data(of: bytes[start..<index]) { events.append(data) }
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

    /// The data of a last event not followed by an empty line.
    mutating func finish() -> String? {
        defer { self.pending.removeAll() }
        return Self.data(of: self.pending[...])
    }

    private static func data(of event: ArraySlice<UInt8>) -> String? {
        let text = String(decoding: event, as: UTF8.self)
        var lines: [Substring] = []
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            var line = line
            if line.hasSuffix("\r") { line = line.dropLast() }
            guard line.hasPrefix("data:") else { continue }
            line = line.dropFirst(5)
            if line.hasPrefix(" ") { line = line.dropFirst() }
            lines.append(line)
        }
        return lines.isEmpty ? nil : lines.joined(separator: "\n")
    }
}
