import Yams

/// USD per million tokens for each model, from `config/prices.yaml`, with per-deployment overrides
/// in LiteLLM's `input_cost_per_token` / `output_cost_per_token`.
public struct PriceTable: Sendable {
    /// Prices of one model, USD per million tokens.
    public struct Price: Sendable, Equatable {
        public var input: Double
        public var output: Double
        public var cachedInput: Double?
        public var cacheWrite: Double?
        /// The tier for prompts over 200k tokens, where the model has one.
        public var longContext: Tier?

        public struct Tier: Sendable, Equatable {
            public var input: Double
            public var output: Double
            public var cachedInput: Double?
        }

        public init(input: Double, output: Double, cachedInput: Double? = nil, cacheWrite: Double? = nil, longContext: Tier? = nil) {
            self.input = input
            self.output = output
            self.cachedInput = cachedInput
            self.cacheWrite = cacheWrite
            self.longContext = longContext
        }

        /// The cost of `usage` in USD. The long-context tier applies to the whole request when the
        /// prompt (input, cached and cache-written tokens together) exceeds 200,000 tokens.
        public func cost(of usage: AnthropicUsage) -> Double {
            let prompt = usage.inputTokens + usage.cacheReadInputTokens + usage.cacheCreationInputTokens
            var input = self.input
            var output = self.output
            var cached = self.cachedInput ?? self.input
            if prompt > 200_000, let tier = self.longContext {
                input = tier.input
                output = tier.output
                cached = tier.cachedInput ?? tier.input
            }
            let write = self.cacheWrite ?? input
            let micros = Double(usage.inputTokens) * input + Double(usage.outputTokens) * output
                + Double(usage.cacheReadInputTokens) * cached + Double(usage.cacheCreationInputTokens) * write
            return micros / 1_000_000
        }
    }

    private var prices: [String: Price]

    public init(prices: [String: Price] = [:]) {
        self.prices = prices
    }

    /// The table in `yaml` (see `config/prices.yaml`).
    public init(yaml: String) throws {
        guard let root = try Yams.compose(yaml: yaml) else {
            self.init()
            return
        }
        var prices: [String: Price] = [:]
        for (model, entry) in try ConfigNode(node: root, path: "").mapping() {
            var price = Price(input: 0, output: 0)
            var sawInput = false
            var sawOutput = false
            for (key, value) in try entry.mapping() {
                switch key {
                case "input": price.input = try value.double(); sawInput = true
                case "output": price.output = try value.double(); sawOutput = true
                case "cached_input": price.cachedInput = try value.double()
                case "cache_write": price.cacheWrite = try value.double()
                case "above_200k":
                    var tier = Price.Tier(input: 0, output: 0)
                    for (tierKey, tierValue) in try value.mapping() {
                        switch tierKey {
                        case "input": tier.input = try tierValue.double()
                        case "output": tier.output = try tierValue.double()
                        case "cached_input": tier.cachedInput = try tierValue.double()
                        default: throw tierValue.error("expected input, output or cached_input")
                        }
                    }
                    price.longContext = tier
                default:
                    throw value.error("expected input, output, cached_input, cache_write or above_200k")
                }
            }
            guard sawInput, sawOutput else { throw entry.error("expected both input and output prices") }
            prices[model] = price
        }
        self.init(prices: prices)
    }

    /// The price of `model`: an exact entry, else the longest entry it extends with `-` (so
    /// `claude-sonnet-4-5-20250929` finds `claude-sonnet-4-5`).
    public func price(for model: String) -> Price? {
        let bare = model.hasPrefix("models/") ? String(model.dropFirst(7)) : model
        if let price = self.prices[bare] { return price }
        return self.prices.keys
            .filter { bare.hasPrefix($0 + "-") }
            .max { $0.count < $1.count }
            .flatMap { self.prices[$0] }
    }

    /// This table with the per-token overrides of `configuration`'s deployments applied, and a deployment
    /// whose id the table does not know priced as its `model_info.base_model` (an Azure deployment's name,
    /// a tuned model), as LiteLLM does.
    public func applying(overridesFrom configuration: GatewayConfiguration) -> PriceTable {
        var table = self
        for deployment in configuration.deployments {
            if table.price(for: deployment.upstreamModel) == nil, let base = deployment.baseModel,
                let price = table.price(for: base)
            {
                table.prices[deployment.upstreamModel] = price
            }
            let input = deployment.parameters["input_cost_per_token"]
            let output = deployment.parameters["output_cost_per_token"]
            guard input != nil || output != nil else { continue }
            var price = table.price(for: deployment.upstreamModel) ?? Price(input: 0, output: 0)
            if case .number(let perToken) = input { price.input = perToken * 1_000_000 }
            if case .number(let perToken) = output { price.output = perToken * 1_000_000 }
            price.longContext = nil
            table.prices[deployment.upstreamModel] = price
        }
        return table
    }
}

/// Puts the estimated cost on each finished record. A model with no price costs 0 and is marked unpriced,
/// so the gap shows on a counter instead of hiding in a zero. The mock is free unless its deployment names a
/// price (`input_cost_per_token`), as a rehearsal of budgets does.
struct PricingStage: ExchangeStage {
    let table: PriceTable

    func complete(_ record: inout ExchangeRecord) {
        guard let provider = record.provider, let model = record.upstreamModel else { return }
        guard let price = self.table.price(for: model) else {
            if provider != .mock { record.isPriced = false }
            return
        }
        record.costUSD = price.cost(of: record.usage)
    }
}
