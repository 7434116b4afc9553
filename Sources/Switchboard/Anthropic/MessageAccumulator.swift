/// Folds a stream of events into the one message a non-streaming client expects.
struct MessageAccumulator {
    private var message: AnthropicMessageResponse?
    private var blocks: [Int: PartialBlock] = [:]

    private enum PartialBlock {
        case text(String)
        case thinking(String, signature: String)
        case toolUse(id: String, name: String, json: String)
        case serverToolUse(id: String, name: String, json: String)
        /// A block that arrives whole in its start event.
        case complete(AnthropicResponseBlock)
    }

    /// Applies one event. An `error` event throws it.
    mutating func apply(_ event: AnthropicEvent) throws {
        switch event {
        case .messageStart(let start):
            self.message = start
        case .contentBlockStart(let index, let block):
            switch block {
            case .text(let text): self.blocks[index] = .text(text)
            case .thinking(let thinking, let signature): self.blocks[index] = .thinking(thinking, signature: signature)
            case .toolUse(let id, let name, _): self.blocks[index] = .toolUse(id: id, name: name, json: "")
            case .serverToolUse(let id, let name, _): self.blocks[index] = .serverToolUse(id: id, name: name, json: "")
            case .webSearchToolResult: self.blocks[index] = .complete(block)
            }
        case .contentBlockDelta(let index, let delta):
            switch (self.blocks[index], delta) {
            case (.text(let text), .text(let more)): self.blocks[index] = .text(text + more)
            case (.thinking(let thinking, let signature), .thinking(let more)):
                self.blocks[index] = .thinking(thinking + more, signature: signature)
            case (.thinking(let thinking, _), .signature(let signature)):
                self.blocks[index] = .thinking(thinking, signature: signature)
            case (.toolUse(let id, let name, let json), .inputJSON(let more)):
                self.blocks[index] = .toolUse(id: id, name: name, json: json + more)
            case (.serverToolUse(let id, let name, let json), .inputJSON(let more)):
                self.blocks[index] = .serverToolUse(id: id, name: name, json: json + more)
            default:
                break
            }
        case .contentBlockStop:
            break
        case .messageDelta(let stopReason, let stopSequence, let usage):
            self.message?.stopReason = stopReason
            self.message?.stopSequence = stopSequence
            self.message?.usage = usage
        case .messageStop, .ping:
            break
        case .error(let error):
            throw error
        }
    }

    /// The message so far, blocks in index order.
    func result() throws -> AnthropicMessageResponse {
        guard var message = self.message else {
            throw AnthropicError.api("the upstream stream ended before message_start")
        }
        message.content = try self.blocks.keys.sorted().map { index in
            switch self.blocks[index]! {
            case .text(let text): return .text(text)
            case .thinking(let thinking, let signature): return .thinking(thinking: thinking, signature: signature)
            case .toolUse(let id, let name, let json):
                let input = json.isEmpty ? JSONValue.object([:]) : try JSONValue.parse(json)
                return .toolUse(id: id, name: name, input: input)
            case .serverToolUse(let id, let name, let json):
                let input = json.isEmpty ? JSONValue.object([:]) : try JSONValue.parse(json)
                return .serverToolUse(id: id, name: name, input: input)
            case .complete(let block):
                return block
            }
        }
        return message
    }
}
