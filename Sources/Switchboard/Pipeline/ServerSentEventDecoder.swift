import Foundation
import NIOCore

/// One server-sent event: its `event:` name, when it has one, and its `data`.
struct ServerSentEvent: Equatable {
    var name: String?
    var data: String
}

/// Splits a byte stream of server-sent events into events, however the bytes are chunked. Accepts
/// `\n\n` and `\r\n\r\n` separators (Gemini sends the latter).
struct ServerSentEventDecoder {
    private var pending: [UInt8] = []

    /// Every event completed by `chunk`.
    mutating func append(_ chunk: ByteBuffer) -> [ServerSentEvent] {
        self.pending.append(contentsOf: chunk.readableBytesView)
        var events: [ServerSentEvent] = []
        var start = 0
        var index = 0
        let bytes = self.pending
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                // An event ends at an empty line: "\n\n" or "\n\r\n".
                var next = index + 1
                if next < bytes.count, bytes[next] == UInt8(ascii: "\r") { next += 1 }
                if next < bytes.count, bytes[next] == UInt8(ascii: "\n") {
                    if let event = Self.event(in: bytes[start..<index]) { events.append(event) }
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

    /// The event in `block`; nil when it has no data (a comment, or a lone `event:` line).
    private static func event(in block: ArraySlice<UInt8>) -> ServerSentEvent? {
        let text = String(decoding: block, as: UTF8.self)
        var name: String?
        var lines: [Substring] = []
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            var line = line
            if line.hasSuffix("\r") { line = line.dropLast() }
            if line.hasPrefix("event:") {
                name = line.dropFirst(6).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard line.hasPrefix("data:") else { continue }
            line = line.dropFirst(5)
            if line.hasPrefix(" ") { line = line.dropFirst() }
            lines.append(line)
        }
        return lines.isEmpty ? nil : ServerSentEvent(name: name, data: lines.joined(separator: "\n"))
    }
}
