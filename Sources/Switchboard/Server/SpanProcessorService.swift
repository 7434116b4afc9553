import ServiceLifecycle
import Telemetry

/// Runs the batch span processor for the life of the service group; on shutdown it exports what is
/// still queued (the server has drained by then, so every request's spans are in).
public struct SpanProcessorService: Service {
    let processor: BatchSpanProcessor

    public init(processor: BatchSpanProcessor) {
        self.processor = processor
    }

    public func run() async throws {
        async let loop: Void = self.processor.run()
        try? await gracefulShutdown()
        await self.processor.shutdown()
        await loop
    }
}
