import Telemetry

/// Which requests are traced: never an excluded route; the others as the sampler decides.
///
/// Applied once, where a request's trace starts or continues, so the decision reaches every span,
/// exemplar and `traceparent` the request produces: an unsampled request still tells upstreams
/// (flags `00`), and its metrics carry no exemplar pointing at a trace that was never exported.
public struct TracePolicy: Sendable, Equatable {
    public var sampler: TraceSampler
    public var excludedRoutes: ExcludedRoutes

    public init(sampler: TraceSampler = .parentBasedAlwaysOn, excludedRoutes: ExcludedRoutes = .operational) {
        self.sampler = sampler
        self.excludedRoutes = excludedRoutes
    }

    /// `trace` (the caller's, from `traceparent`, or a new one) with the decision in its flag: never sampled
    /// for an excluded route, else as the sampler says.
    public func trace(_ trace: TraceContext, isExcluded: Bool) -> TraceContext {
        isExcluded ? trace.sampled(false) : self.sampler.sample(trace)
    }
}
