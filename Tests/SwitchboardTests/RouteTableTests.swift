import Switchboard
import Testing

@Suite("Routing model names")
struct RouteTableTests {
    func table(_ yaml: String) throws -> RouteTable {
        RouteTable(configuration: try ConfigurationLoader(environment: [:]).load(yaml: yaml).configuration)
    }

    @Test("an exact name beats a wildcard; the most specific wildcard beats a broader one")
    func precedence() throws {
        let routes = try self.table("""
            model_list:
              - {model_name: "*", litellm_params: {model: mock/anything}}
              - {model_name: "claude-*", litellm_params: {model: mock/claude}}
              - {model_name: "claude-opus-*", litellm_params: {model: mock/opus}}
              - {model_name: "claude-opus-4-1", litellm_params: {model: mock/exact}}
            """)
        #expect(routes.resolve("claude-opus-4-1")?.upstreamModel == "exact")
        #expect(routes.resolve("claude-opus-4-5")?.upstreamModel == "opus")
        #expect(routes.resolve("claude-haiku-4-5")?.upstreamModel == "claude")
        #expect(routes.resolve("gpt-4o")?.upstreamModel == "anything")
    }

    @Test("a `*` in the provider model is filled with what the wildcard matched")
    func wildcardSubstitution() throws {
        let routes = try self.table("""
            model_list:
              - {model_name: "anthropic/*", litellm_params: {model: "anthropic/*", api_key: k}}
              - {model_name: "team-*-fast", litellm_params: {model: "mock/*-small"}}
            """)
        #expect(routes.resolve("anthropic/claude-sonnet-4-5")?.upstreamModel == "claude-sonnet-4-5")
        #expect(routes.resolve("team-red-fast")?.upstreamModel == "red-small")
        #expect(routes.resolve("team-red-slow") == nil)
        #expect(routes.resolve("claude") == nil)
    }

    @Test("an alias resolves to its target, keeping the name the client sent")
    func alias() throws {
        let routes = try self.table("""
            model_list:
              - {model_name: claude-sonnet-4-5, litellm_params: {model: mock/sonnet}}
            router_settings:
              model_group_alias: {claude-opus-4-1: claude-sonnet-4-5}
            """)
        let route = try #require(routes.resolve("claude-opus-4-1"))
        #expect(route.upstreamModel == "sonnet")
        #expect(route.requestedModel == "claude-opus-4-1")
        #expect(routes.concreteModelNames == ["claude-opus-4-1", "claude-sonnet-4-5"])
    }
}
