import Foundation
import NIOSSL
import PostgresNIO

/// `general_settings.database_url` when it names PostgreSQL: `postgresql://user:password@host:port/database`,
/// with libpq's `sslmode` (`disable`, `prefer` — the default —, `require`, `verify-ca`, `verify-full`) and
/// `connect_timeout` (seconds) in the query.
public struct PostgresDatabaseURL: Sendable, Hashable {
    public enum TLSMode: String, Sendable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String?
    var tls: TLSMode
    var connectTimeout: Duration

    /// Parses `text`; nil when it is not a `postgres://` or `postgresql://` URL. Throws what is wrong with one.
    init?(_ text: String) throws(PostgresURLError) {
        guard text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") else { return nil }
        guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty else {
            throw PostgresURLError("expected postgresql://user:password@host:port/database")
        }
        self.host = host
        self.port = components.port ?? 5432
        guard let user = components.user, !user.isEmpty else { throw PostgresURLError("the URL names no user (postgresql://USER:password@host/database)") }
        self.user = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        let path = components.path.drop { $0 == "/" }
        self.database = path.isEmpty ? nil : String(path)
        self.tls = .prefer
        self.connectTimeout = .seconds(10)
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw PostgresURLError("sslmode must be one of disable, prefer, require, verify-ca, verify-full; got \(item.value ?? "")")
                }
                self.tls = mode
            case "connect_timeout":
                guard let seconds = item.value.flatMap(Int.init), seconds > 0 else {
                    throw PostgresURLError("connect_timeout must be a whole number of seconds; got \(item.value ?? "")")
                }
                self.connectTimeout = .seconds(seconds)
            default:
                throw PostgresURLError("unknown parameter \(item.name) (this build reads sslmode and connect_timeout)")
            }
        }
    }

    /// The URL without its password, for logs and errors.
    public var redacted: String {
        "postgresql://\(self.user)@\(self.host):\(self.port)/\(self.database ?? "")"
    }

    func clientConfiguration(poolSize: Int) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: self.host, port: self.port, username: self.user, password: self.password, database: self.database, tls: self.clientTLS
        )
        configuration.options.maximumConnections = poolSize
        configuration.options.minimumConnections = min(2, poolSize)
        configuration.options.connectTimeout = self.connectTimeout
        return configuration
    }

    /// One connection outside the pool, to see whether the server answers (``PostgresGovernanceStore/probe()``).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch (self.tls, self.tlsConfiguration) {
            case (.disable, _), (_, nil): .disable
            case (.prefer, let configuration?): .prefer(try NIOSSLContext(configuration: configuration))
            case (_, let configuration?): .require(try NIOSSLContext(configuration: configuration))
            }
        var configuration = PostgresConnection.Configuration(
            host: self.host, port: self.port, username: self.user, password: self.password, database: self.database, tls: tls
        )
        configuration.options.connectTimeout = .seconds(self.connectTimeout.components.seconds)
        return configuration
    }

    private var clientTLS: PostgresClient.Configuration.TLS {
        switch (self.tls, self.tlsConfiguration) {
        case (.disable, _), (_, nil): .disable
        case (.prefer, let configuration?): .prefer(configuration)
        case (_, let configuration?): .require(configuration)
        }
    }

    /// As libpq reads `sslmode`: `prefer` and `require` encrypt without checking the server's certificate,
    /// `verify-ca` checks its chain, `verify-full` its name too; nil for `disable`.
    private var tlsConfiguration: TLSConfiguration? {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch self.tls {
        case .disable: return nil
        case .prefer, .require: tls.certificateVerification = .none
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: break
        }
        return tls
    }
}

/// What is wrong with a PostgreSQL URL.
public struct PostgresURLError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
