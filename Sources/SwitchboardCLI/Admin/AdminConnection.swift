import ArgumentParser
import Foundation
import Logging
import NIOCore
import Switchboard
import Upstream

/// Where `switchboard keys|teams` send their admin API calls: a running gateway, or — when none answers —
/// the database itself, served for the one call by the same admin API in this process on a loopback port, so
/// both ways validate and answer alike. An SQLite file is only opened when no gateway answers: a gateway
/// caches its keys and would not see a change made behind its back. (Replicas on PostgreSQL would: every
/// change is announced to them.)
struct AdminOptions: ParsableArguments {
    @Option(help: "The gateway's address (default: $SWITCHBOARD_URL, else the config's host and port, else http://127.0.0.1:4000).")
    var gateway: String?

    @Option(help: "The master key (default: $SWITCHBOARD_MASTER_KEY, $LITELLM_MASTER_KEY, else the config's).")
    var masterKey: String?

    @Option(help: "The configuration the gateway runs with: its address, master key and database.")
    var config: String?

    @Option(help: "Work on this database directly instead of a running gateway: an SQLite file's path, or postgresql://….")
    var database: String?

    @Flag(help: "Print the admin API's JSON instead of a table.")
    var json = false

    /// Sends one admin API call; returns the answer's JSON, or fails with the API's error message.
    func call(_ method: String, _ path: String, body: [String: Any]? = nil) async throws -> Any {
        let environment = ProcessInfo.processInfo.environment
        let configuration = try self.configuration(environment)
        let masterKey = self.masterKey ?? environment["SWITCHBOARD_MASTER_KEY"] ?? environment["LITELLM_MASTER_KEY"]
            ?? configuration?.masterKey
        let url = self.gateway ?? environment["SWITCHBOARD_URL"]
            ?? configuration.map { "http://\($0.server.host == "0.0.0.0" ? "127.0.0.1" : $0.server.host):\($0.server.port)" }
            ?? "http://127.0.0.1:4000"
        let payload = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let client = UpstreamClient(configuration: .init(connectTimeout: .seconds(2), idleTimeout: .seconds(30), proxy: .none))
        do {
            let answer = try await self.call(method, path, payload: payload, url: url, masterKey: masterKey, database: configuration?.database, client: client)
            await client.shutdown()
            return answer
        } catch {
            await client.shutdown()
            throw error
        }
    }

    private func call(
        _ method: String, _ path: String, payload: Data?, url: String, masterKey: String?, database configured: StoreLocation?,
        client: UpstreamClient
    ) async throws -> Any {
        if self.database == nil, await Self.answers(url, client: client) {
            guard let masterKey else { throw ValidationError("the admin API takes the master key: pass --master-key or set SWITCHBOARD_MASTER_KEY") }
            return try Self.parse(try await Self.send(method, url + path, body: payload, key: masterKey, client: client))
        }
        guard let database = try self.database.map({ try StoreLocation(url: $0, plainPath: true) }) ?? configured else {
            throw ValidationError("no gateway answers at \(url), and there is no database to open: pass --gateway, --config or --database")
        }
        if self.database == nil {
            FileHandle.standardError.write(Data("no gateway answers at \(url); working on \(database)\n".utf8))
        }
        return try Self.parse(
            try await Self.inProcess(database: database, client: client) { base, key in
                try await Self.send(method, base + path, body: payload, key: key, client: client)
            }
        )
    }

    private func configuration(_ environment: [String: String]) throws -> GatewayConfiguration? {
        guard let path = self.config else { return nil }
        return try ConfigurationSource(path: path).load(environment: environment).0.configuration
    }

    private static func answers(_ url: String, client: UpstreamClient) async -> Bool {
        guard let response = try? await client.execute(UpstreamRequest(url: url + "/health", timeout: .seconds(2))) else { return false }
        _ = try? await response.collectBody(upTo: 1 << 16)
        return response.status == 200
    }

    private static func parse(_ bytes: Data) throws -> Any {
        try JSONSerialization.jsonObject(with: bytes)
    }

    /// The answer's body; an error answer throws its message.
    private static func send(_ method: String, _ url: String, body: Data?, key: String, client: UpstreamClient) async throws -> Data {
        var request = UpstreamRequest(method: method, url: url, headers: ["authorization": "Bearer \(key)"], timeout: .seconds(30))
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = ByteBuffer(bytes: body)
        }
        let response = try await client.execute(request)
        let bytes = Data(try await response.collectBody(upTo: 64 << 20).readableBytesView)
        let json = try? JSONSerialization.jsonObject(with: bytes)
        guard response.status == 200 else {
            let message = ((json as? [String: Any])?["error"] as? [String: Any])?["message"] as? String ?? String(decoding: bytes, as: UTF8.self)
            throw AdminError(status: response.status, message: message)
        }
        return bytes
    }

    /// Runs `body` against the admin API of `database`, served on a loopback port for the call.
    private static func inProcess(
        database: StoreLocation, client: UpstreamClient, _ body: @escaping @Sendable (String, String) async throws -> Data
    ) async throws -> Data {
        let key = "sk-cli-" + UUID().uuidString
        let yaml = """
            model_list: [{model_name: "*", litellm_params: {model: mock/echo}}]
            general_settings: {master_key: "\(key)"}
            switchboard: {host: 127.0.0.1, port: 0}
            """
        var configuration = try ConfigurationLoader(environment: [:]).load(yaml: yaml).configuration
        configuration.database = database
        let logger = Logger(label: "switchboard.cli", factory: { _ in SwiftLogNoOpLogHandler() })
        guard let keys = try await KeyDirectory.open(configuration, instanceID: "switchboard-cli", logger: logger, asReplica: false) else {
            throw AdminError(status: 0, message: "no database to open")
        }
        let gateway = Gateway(
            configuration: configuration, upstream: client, observers: [],
            logger: logger, keys: keys
        )
        let (ports, port) = AsyncStream.makeStream(of: Int.self)
        let application = gateway.makeApplication { channel in
            port.yield(channel.localAddress?.port ?? 0)
        }
        return try await withThrowingTaskGroup(of: Data?.self) { group in
            group.addTask {
                try await application.runService()
                return nil
            }
            var listening = ports.makeAsyncIterator()
            guard let bound = await listening.next() else { throw AdminError(status: 0, message: "the admin API did not start") }
            defer { group.cancelAll() }
            let answer = try await body("http://127.0.0.1:\(bound)", key)
            try await keys.flush()
            return answer
        }
    }
}

/// The admin API refused a call: its status and message, printed as they are.
struct AdminError: Error, CustomStringConvertible {
    let status: Int
    let message: String
    var description: String { "\(self.status): \(self.message)" }
}
