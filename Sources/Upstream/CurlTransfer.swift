import CCurl
import NIOCore
import Synchronization

/// One request on its way through curl: the easy handle, the buffers curl borrows from us, and the
/// state machine that bridges curl's callbacks to Swift concurrency.
///
/// Confinement: a transfer is built on the submitting thread and then handed to the loop thread
/// through the loop's locked command queue (which orders the two). From then on only the loop thread
/// touches it, which is what curl requires of an easy handle anyway. Hence `@unchecked Sendable`.
/// The caller's continuation and the body travel in the `add` command, not through the transfer, so
/// the submitting thread never writes to a transfer the loop may already be cancelling.
final class CurlTransfer: @unchecked Sendable {
    let request: UpstreamRequest
    let idleTimeout: Duration
    private(set) var easy: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    /// curl reads the body from here (CURLOPT_POSTFIELDS does not copy).
    private var bodyStorage: UnsafeMutableRawBufferPointer?
    private let errorBuffer: UnsafeMutablePointer<CChar>

    private var state = StateMachine()
    /// The response head as its lines arrive.
    private var headFields: [UpstreamHeaders.Field] = []
    private var httpVersion = "1.1"

    /// What the consumer's thread needs to know to skip waking the loop when there is nothing to do.
    let demand = DemandSignal()
    private var statistics: TransferStatistics?
    /// The last time a byte arrived, or the consumer asked for more after a pause.
    private var lastActivity = ContinuousClock.now
    /// The last heartbeat: an empty chunk yielded after `request.heartbeat` of silence.
    private var lastHeartbeat = ContinuousClock.now

    init(request: UpstreamRequest, idleTimeout: Duration) {
        self.request = request
        self.idleTimeout = idleTimeout
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        self.releaseHandle()
        self.errorBuffer.deallocate()
    }

    // MARK: - Loop thread

    /// Starts the transfer for `caller`: returns the easy handle to add to curl, or nil when the
    /// transfer must not run (a cancel came first, or curl refused the request), `caller` told why.
    func start(
        _ caller: Caller,
        configuration: UpstreamClient.Configuration,
        statistics: TransferStatistics
    ) -> UnsafeMutableRawPointer? {
        switch self.state.start(caller) {
        case .failCaller(let caller, let error):
            self.reject(caller, error)
            return nil
        case .addToCurl:
            return self.makeHandle(configuration: configuration, statistics: statistics)
        }
    }

    /// Creates and configures the easy handle. Returns nil, having failed the transfer, when curl
    /// refuses the request.
    private func makeHandle(
        configuration: UpstreamClient.Configuration,
        statistics: TransferStatistics
    ) -> UnsafeMutableRawPointer? {
        self.statistics = statistics
        guard let easy = curl_easy_init() else {
            self.finish(UpstreamError(kind: .other, message: "curl_easy_init failed"))
            return nil
        }
        self.easy = easy
        let userdata = Unmanaged.passUnretained(self).toOpaque()
        let request = self.request
        var result = CURLE_OK
        func set(_ code: CURLcode) { if result == CURLE_OK { result = code } }

        set(ccurl_easy_setopt_string(easy, CURLOPT_URL, request.url))
        set(ccurl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, self.errorBuffer))
        set(ccurl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        set(ccurl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1))
        set(ccurl_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS)))
        // Wait for an existing connection that can multiplex rather than opening another.
        set(ccurl_easy_setopt_long(easy, CURLOPT_PIPEWAIT, 1))
        let connectTimeout = request.connectTimeout ?? configuration.connectTimeout
        set(ccurl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, connectTimeout.milliseconds))
        if let timeout = request.timeout {
            // At least 1 ms: curl reads 0 as "no limit".
            set(ccurl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(1, timeout.milliseconds)))
        }
        if let caBundle = configuration.caBundlePath {
            set(ccurl_easy_setopt_string(easy, CURLOPT_CAINFO, caBundle))
        }
        let proxy = configuration.proxy.proxy(for: request.url)
        set(ccurl_easy_setopt_string(easy, CURLOPT_PROXY, proxy ?? ""))
        // A proxy's reply to CONNECT ("200 Connection established") would otherwise reach the header
        // callback first and be taken for the upstream's head.
        set(ccurl_easy_setopt_long(easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1))
        if let noProxy = configuration.proxy.noProxy {
            set(ccurl_easy_setopt_string(easy, CURLOPT_NOPROXY, noProxy))
        }

        switch request.method {
        case "GET": break
        case "HEAD": set(ccurl_easy_setopt_long(easy, CURLOPT_NOBODY, 1))
        case "POST": set(ccurl_easy_setopt_long(easy, CURLOPT_POST, 1))
        default: set(ccurl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method))
        }
        if let body = request.body {
            let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(body.readableBytes, 1), alignment: 1)
            body.withUnsafeReadableBytes { storage.copyMemory(from: $0) }
            self.bodyStorage = storage
            set(ccurl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.readableBytes)))
            set(ccurl_easy_setopt_pointer(easy, CURLOPT_POSTFIELDS, storage.baseAddress))
        }

        // An empty `Expect:` stops curl from waiting for `100 Continue` on larger bodies.
        var list = curl_slist_append(nil, "Expect:")
        for field in request.headers {
            list = curl_slist_append(list, "\(field.name): \(field.value)")
        }
        self.headerList = list
        set(ccurl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list))

        set(ccurl_easy_setopt_pointer(easy, CURLOPT_PRIVATE, userdata))
        set(ccurl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, userdata))
        set(ccurl_easy_setopt_write_callback(easy, CURLOPT_HEADERFUNCTION) { bytes, size, count, userdata in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
            return transfer.didReceiveHeaderLine(UnsafeRawBufferPointer(start: bytes, count: size * count))
        })
        set(ccurl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, userdata))
        set(ccurl_easy_setopt_write_callback(easy, CURLOPT_WRITEFUNCTION) { bytes, size, count, userdata in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
            return transfer.didReceiveBody(UnsafeRawBufferPointer(start: bytes, count: size * count))
        })

        guard result == CURLE_OK else {
            let code = Int(result.rawValue)
            self.finish(UpstreamError(kind: .invalidRequest, message: Self.describe(result), curlCode: code))
            self.releaseHandle()
            return nil
        }
        self.lastActivity = .now
        return easy
    }

    /// Records the consumer's demand; returns true when curl must be told to resume.
    func consumerWantsMore() -> Bool {
        guard self.state.consumerWantsMore() else { return false }
        self.lastActivity = .now
        return true
    }

    /// Whether no byte arrived for longer than the idle timeout while the consumer wanted one.
    func isIdle(at now: ContinuousClock.Instant) -> Bool {
        !self.state.isPaused && now - self.lastActivity > self.idleTimeout
    }

    /// When the loop must next look at this transfer: its idle timeout or its next heartbeat; nil
    /// while neither can fall due (paused for a slow consumer), so the loop does not spin on it.
    func nextDeadline() -> ContinuousClock.Instant? {
        let idleDeadline = self.state.isPaused ? nil : self.lastActivity + self.idleTimeout
        guard let beat = self.nextHeartbeat() else { return idleDeadline }
        return idleDeadline.map { min($0, beat) } ?? beat
    }

    /// Yields an empty chunk when the consumer has waited a heartbeat interval since the last byte or beat.
    func beatIfSilent(at now: ContinuousClock.Instant) {
        guard let due = self.nextHeartbeat(), now >= due, let source = self.state.flowingSource else { return }
        self.lastHeartbeat = now
        _ = self.yield(ByteBuffer(), to: source)
    }

    /// When the next heartbeat is due; nil when none can go out: no interval asked for, the head not
    /// delivered yet, or the consumer not waiting for bytes.
    private func nextHeartbeat() -> ContinuousClock.Instant? {
        guard let heartbeat = self.request.heartbeat, self.state.flowingSource != nil else { return nil }
        return max(self.lastActivity, self.lastHeartbeat) + heartbeat
    }

    /// The transfer ended in curl with `code`.
    func complete(with code: CURLcode) {
        self.finish(code == CURLE_OK ? nil : self.error(for: code))
    }

    /// Fails `caller` of a transfer that never reached curl (cancelled first, or the loop had stopped):
    /// marked ended first, so the body's end asks the loop for nothing.
    func reject(_ caller: Caller, _ error: UpstreamError) {
        self.demand.hasEnded.store(true, ordering: .releasing)
        caller.fail(error)
    }

    /// Ends the transfer, with `error` unless it completed: the waiting caller, or the body's
    /// consumer, hears of it. Ending a transfer that has not started keeps it from starting.
    func finish(_ error: UpstreamError?) {
        // Before the body can end: its consumer's `didTerminate` then knows there is nothing to cancel.
        self.demand.hasEnded.store(true, ordering: .releasing)
        switch self.state.finish(error) {
        case .none:
            break
        case .failCaller(let caller, let error):
            caller.fail(error)
        case .deliverHeadAndFinishBody(let caller):
            self.deliverHead(to: caller)
            caller.source.finish()
        case .finishBody(let source, let error):
            if let error { source.finish(error) } else { source.finish() }
        }
    }

    /// Frees the easy handle and what it borrowed. Call after removing it from the multi handle.
    func releaseHandle() {
        if let easy = self.easy {
            curl_easy_cleanup(easy)
            self.easy = nil
        }
        if let list = self.headerList {
            curl_slist_free_all(list)
            self.headerList = nil
        }
        self.bodyStorage?.deallocate()
        self.bodyStorage = nil
    }

    // MARK: - curl callbacks (loop thread)

    private func didReceiveHeaderLine(_ line: UnsafeRawBufferPointer) -> Int {
        self.lastActivity = .now
        guard self.state.isWaitingForHead else { return line.count }  // trailers, or nobody waiting
        var end = line.count
        while end > 0, line[end - 1] == UInt8(ascii: "\n") || line[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        if end == 0 {
            var status = 0
            ccurl_easy_getinfo_long(self.easy, CURLINFO_RESPONSE_CODE, &status)
            if (100..<200).contains(status) {  // an interim response; the real head follows
                self.headFields.removeAll()
            } else if let caller = self.state.headReceived() {
                self.deliverHead(to: caller)
            }
        } else if line.starts(with: "HTTP/".utf8) {
            let version = line[5..<end].prefix { $0 != UInt8(ascii: " ") }
            self.httpVersion = String(decoding: version, as: UTF8.self)
            self.headFields.removeAll()
        } else if let colon = line[..<end].firstIndex(of: UInt8(ascii: ":")) {
            // Byte-level: Foundation's trimming showed up in profiles of small requests.
            func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
            var valueStart = colon + 1
            while valueStart < end, isBlank(line[valueStart]) { valueStart += 1 }
            var valueEnd = end
            while valueEnd > valueStart, isBlank(line[valueEnd - 1]) { valueEnd -= 1 }
            self.headFields.append(
                .init(
                    name: String(decoding: UnsafeRawBufferPointer(rebasing: line[..<colon]), as: UTF8.self),
                    value: String(decoding: UnsafeRawBufferPointer(rebasing: line[valueStart..<valueEnd]), as: UTF8.self)
                )
            )
        }
        return line.count
    }

    private func didReceiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        let source: UpstreamBody.Producer.Source
        switch self.state.bytesReceived() {
        case .abort:
            return 0
        case .pause:
            // curl keeps these bytes and hands them over again once unpaused.
            self.statistics?.pauses.add(1, ordering: .relaxed)
            return Int(CURL_WRITEFUNC_PAUSE)
        case .yield(let flowing):
            source = flowing
        case .deliverHeadAndYield(let caller):
            self.deliverHead(to: caller)
            source = caller.source
        }
        self.lastActivity = .now
        // An empty chunk means "heartbeat" to the consumer; curl may also call with zero bytes.
        guard !bytes.isEmpty else { return 0 }
        return self.yield(ByteBuffer(bytes: bytes), to: source) ? bytes.count : 0
    }

    /// Hands `chunk` to the body's consumer; false when nobody will read it any more.
    private func yield(_ chunk: ByteBuffer, to source: UpstreamBody.Producer.Source) -> Bool {
        self.demand.beginYield()
        switch source.yield(chunk) {
        case .produceMore: self.demand.yieldContinued()
        case .stopProducing: if self.demand.yieldStopped() { self.state.consumerStopped() }
        case .dropped: return false
        }
        return true
    }

    private func deliverHead(to caller: Caller) {
        var status = 0
        ccurl_easy_getinfo_long(self.easy, CURLINFO_RESPONSE_CODE, &status)
        let response = UpstreamResponse(
            status: status,
            headers: UpstreamHeaders(self.headFields),
            httpVersion: self.httpVersion,
            body: caller.body
        )
        caller.continuation.resume(returning: response)
    }

    private func error(for code: CURLcode) -> UpstreamError {
        let detail = String(cString: self.errorBuffer)
        let message = detail.isEmpty ? Self.describe(code) : detail
        return UpstreamError(kind: Self.kind(of: code), message: message, curlCode: Int(code.rawValue))
    }

    private static func describe(_ code: CURLcode) -> String {
        String(cString: curl_easy_strerror(code))
    }

    private static func kind(of code: CURLcode) -> UpstreamError.Kind {
        switch code {
        case CURLE_COULDNT_CONNECT: .connectionRefused
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .dnsFailure
        case CURLE_OPERATION_TIMEDOUT: .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
            CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_CLIENTCERT:
            .tlsFailure
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING, CURLE_HTTP2,
            CURLE_HTTP2_STREAM:
            .connectionReset
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: .invalidRequest
        case CURLE_WRITE_ERROR, CURLE_ABORTED_BY_CALLBACK: .cancelled
        default: .other
        }
    }
}

/// Hears the body consumer's demand (on the consumer's thread) and passes it to the loop.
struct CurlTransferDelegate: NIOAsyncSequenceProducerDelegate {
    let loop: CurlMultiLoop
    let transfer: CurlTransfer

    func produceMore() {
        if self.transfer.demand.needsResume() {
            self.loop.submit(.resume(self.transfer))
        }
    }

    func didTerminate() {
        if !self.transfer.demand.hasEnded.load(ordering: .acquiring) {
            self.loop.submit(.cancel(self.transfer))
        }
    }
}

extension Duration {
    var milliseconds: Int {
        let (seconds, attoseconds) = self.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
