import NIOCore
import NIOHTTPTypes

/// Holds a streamed response's flushes until the event loop finishes what it has queued, so parts
/// written together leave in one `writev`.
///
/// Hummingbird flushes every part of a streamed response on its own: the head, each body chunk.
/// When the parts are ready together — a short stream whose upstream answer arrived in one read —
/// that was four socket writes and four wake-ups of the client for one answer. A flush here is
/// deferred to a task queued behind the writes already waiting on the loop; the end of a response
/// is flushed at once, because the client is waiting for it and nothing can follow it in the turn.
/// Netty ships the same idea as `FlushConsolidationHandler`.
final class FlushConsolidationHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var flushIsPending = false
    private var responseHasEnded = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = self.unwrapOutboundIn(data) { self.responseHasEnded = true }
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        if self.responseHasEnded {
            self.responseHasEnded = false
            self.flushIsPending = false
            context.flush()
        } else if !self.flushIsPending {
            self.flushIsPending = true
            let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            context.eventLoop.execute {
                bound.value.handler.flushIfPending(context: bound.value.context)
            }
        }
    }

    /// Closing fails writes that were never flushed, so what is held leaves first.
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        self.flushIfPending(context: context)
        context.close(mode: mode, promise: promise)
    }

    private func flushIfPending(context: ChannelHandlerContext) {
        guard self.flushIsPending else { return }
        self.flushIsPending = false
        context.flush()
    }
}
