import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

@testable import Switchboard

@Suite("Flush consolidation")
struct FlushConsolidationHandlerTests {
    private func makeChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(FlushConsolidationHandler())
        return channel
    }

    private func writeAndFlush(_ part: HTTPResponsePart, on channel: EmbeddedChannel) {
        channel.write(part, promise: nil)
        channel.flush()
    }

    private func sent(on channel: EmbeddedChannel) throws -> [String] {
        var parts: [String] = []
        while let part = try channel.readOutbound(as: HTTPResponsePart.self) {
            switch part {
            case .head(let head): parts.append("head \(head.status.code)")
            case .body(let buffer): parts.append("body \(String(buffer: buffer))")
            case .end: parts.append("end")
            }
        }
        return parts
    }

    @Test("parts flushed in one turn of the loop leave together, after the turn")
    func partsOfOneTurnLeaveTogether() throws {
        let channel = try self.makeChannel()
        self.writeAndFlush(.head(HTTPResponse(status: .ok)), on: channel)
        self.writeAndFlush(.body(ByteBuffer(string: "event one")), on: channel)
        self.writeAndFlush(.body(ByteBuffer(string: "event two")), on: channel)
        #expect(try self.sent(on: channel) == [])

        channel.embeddedEventLoop.run()
        #expect(try self.sent(on: channel) == ["head 200", "body event one", "body event two"])

        self.writeAndFlush(.body(ByteBuffer(string: "a later chunk")), on: channel)
        channel.embeddedEventLoop.run()
        #expect(try self.sent(on: channel) == ["body a later chunk"])
    }

    @Test("the end of a response is flushed at once, with everything held before it")
    func endLeavesAtOnce() throws {
        let channel = try self.makeChannel()
        self.writeAndFlush(.head(HTTPResponse(status: .ok)), on: channel)
        self.writeAndFlush(.body(ByteBuffer(string: "only event")), on: channel)
        self.writeAndFlush(.end(nil), on: channel)
        #expect(try self.sent(on: channel) == ["head 200", "body only event", "end"])

        // The task queued for the first flush finds nothing left to do.
        channel.embeddedEventLoop.run()
        #expect(try self.sent(on: channel) == [])

        // The next response on the connection is held again.
        self.writeAndFlush(.head(HTTPResponse(status: .ok)), on: channel)
        #expect(try self.sent(on: channel) == [])
        channel.embeddedEventLoop.run()
        #expect(try self.sent(on: channel) == ["head 200"])
    }

    @Test("closing sends what is held instead of dropping it")
    func closeFlushesFirst() throws {
        let channel = try self.makeChannel()
        self.writeAndFlush(.head(HTTPResponse(status: .ok)), on: channel)
        self.writeAndFlush(.body(ByteBuffer(string: "last words")), on: channel)
        try channel.close().wait()
        #expect(try self.sent(on: channel) == ["head 200", "body last words"])
    }
}
