"""The request bodies the benchmark sends: one the size of a real Claude Code request, and a tiny one."""

import json


def _schema(properties, required):
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


TOOLS = [
    {"name": "Bash", "description": "Executes a bash command in a persistent shell session with optional timeout. " * 8,
     "input_schema": _schema({"command": {"type": "string", "description": "The command to execute"},
                              "timeout": {"type": "number", "description": "Optional timeout in milliseconds", "maximum": 600000},
                              "description": {"type": "string"}, "run_in_background": {"type": "boolean"}}, ["command"])},
    {"name": "Read", "description": "Reads a file from the local filesystem. " * 10,
     "input_schema": _schema({"file_path": {"type": "string"}, "offset": {"type": "number"}, "limit": {"type": "number"}}, ["file_path"])},
    {"name": "Edit", "description": "Performs exact string replacements in files. " * 10,
     "input_schema": _schema({"file_path": {"type": "string"}, "old_string": {"type": "string"}, "new_string": {"type": "string"},
                              "replace_all": {"type": "boolean", "default": False}}, ["file_path", "old_string", "new_string"])},
    {"name": "Write", "description": "Writes a file to the local filesystem. " * 10,
     "input_schema": _schema({"file_path": {"type": "string"}, "content": {"type": "string"}}, ["file_path", "content"])},
    {"name": "Glob", "description": "Fast file pattern matching tool. " * 10,
     "input_schema": _schema({"pattern": {"type": "string"}, "path": {"type": "string"}}, ["pattern"])},
    {"name": "Grep", "description": "A powerful search tool built on ripgrep. " * 10,
     "input_schema": _schema({"pattern": {"type": "string"}, "path": {"type": "string"}, "glob": {"type": "string"},
                              "output_mode": {"type": "string", "enum": ["content", "files_with_matches", "count"]},
                              "-i": {"type": "boolean"}, "head_limit": {"type": "number"}}, ["pattern"])},
    {"name": "WebFetch", "description": "Fetches content from a URL and processes it. " * 10,
     "input_schema": _schema({"url": {"type": "string", "format": "uri"}, "prompt": {"type": "string"}}, ["url", "prompt"])},
    {"name": "WebSearch", "description": "Searches the web. " * 10,
     "input_schema": _schema({"query": {"type": "string", "minLength": 2}, "allowed_domains": {"type": "array", "items": {"type": "string"}}}, ["query"])},
    {"name": "TodoWrite", "description": "Create and manage a structured task list. " * 10,
     "input_schema": _schema({"todos": {"type": "array", "items": {"type": "object", "properties": {
         "content": {"type": "string", "minLength": 1}, "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]},
         "activeForm": {"type": "string"}}, "required": ["content", "status", "activeForm"], "additionalProperties": False}}}, ["todos"])},
    {"name": "NotebookEdit", "description": "Replaces the contents of a cell in a Jupyter notebook. " * 8,
     "input_schema": _schema({"notebook_path": {"type": "string"}, "cell_id": {"type": "string"}, "new_source": {"type": "string"},
                              "cell_type": {"type": "string", "enum": ["code", "markdown"]},
                              "edit_mode": {"type": "string", "enum": ["replace", "insert", "delete"]}}, ["notebook_path", "new_source"])},
    {"name": "Task", "description": "Launch a new agent to handle complex, multi-step tasks autonomously. " * 8,
     "input_schema": _schema({"description": {"type": "string"}, "prompt": {"type": "string"}, "subagent_type": {"type": "string"}},
                             ["description", "prompt", "subagent_type"])},
    {"name": "ExitPlanMode", "description": "Prompts the user to exit plan mode. " * 8,
     "input_schema": _schema({"plan": {"type": "string"}}, ["plan"])},
]

SYSTEM = ("You are Claude Code, Anthropic's official CLI for Claude. You are an interactive CLI tool that helps users "
          "with software engineering tasks. Use the instructions below and the tools available to you. ") * 230


def large(model, stream):
    """About 90 KB: a long system prompt, 12 tools, 12 tool_use / tool_result turns."""
    messages = [{"role": "user", "content": [{"type": "text", "text": "Refactor the lookup function and run the tests."}]}]
    for turn in range(12):
        tool_id = f"toolu_{turn:024d}"
        messages.append({"role": "assistant", "content": [
            {"type": "text", "text": f"Step {turn}: reading the code before changing it."},
            {"type": "tool_use", "id": tool_id, "name": "Read", "input": {"file_path": f"/repo/src/module{turn}.py"}},
        ]})
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": tool_id, "content": ("def lookup(table, key):\n    return table.get(key)\n" * 40)},
        ]})
    messages.append({"role": "user", "content": "Now apply the change."})
    return {"model": model, "max_tokens": 32000, "stream": stream,
            "system": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.329; cc_entrypoint=cli;"},
                       {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}],
            "tools": TOOLS, "messages": messages}


def tiny(model, stream):
    return {"model": model, "max_tokens": 64, "stream": stream, "messages": [{"role": "user", "content": "hi"}]}


# nginx's canned Gemini answers.
GEMINI_JSON = json.dumps({
    "candidates": [{"content": {"role": "model", "parts": [{"text": "The lookup now uses a default and the tests pass. " * 4}]},
                    "finishReason": "STOP", "index": 0}],
    "usageMetadata": {"promptTokenCount": 22000, "candidatesTokenCount": 50, "totalTokenCount": 22050},
    "modelVersion": "gemini-2.5-flash",
})
GEMINI_SSE = "".join(
    "data: " + json.dumps(chunk) + "\r\n\r\n"
    for chunk in [
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "The lookup now uses a default"}]}}],
         "usageMetadata": {"promptTokenCount": 22000, "totalTokenCount": 22000}},
        {"candidates": [{"content": {"role": "model", "parts": [{"text": " and the tests pass."}]}}],
         "usageMetadata": {"promptTokenCount": 22000, "totalTokenCount": 22000}},
        {"candidates": [{"content": {"role": "model", "parts": [{"text": " Done."}]}, "finishReason": "STOP"}],
         "usageMetadata": {"promptTokenCount": 22000, "candidatesTokenCount": 20, "totalTokenCount": 22020}},
    ]
)

# nginx's canned Chat Completions answers (openai/ routes), as OpenAI sends them: one completion, or
# chunks with the role first, `usage: null` until a last chunk with no choices carries it, then [DONE].
_OPENAI_ID = {"id": "chatcmpl-bench", "created": 1767225600, "model": "gpt-4.1-2025-04-14", "system_fingerprint": "fp_bench"}
_OPENAI_USAGE = {"prompt_tokens": 22000, "completion_tokens": 20, "total_tokens": 22020,
                 "prompt_tokens_details": {"cached_tokens": 16000, "audio_tokens": 0},
                 "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                               "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}
OPENAI_JSON = json.dumps({
    **_OPENAI_ID, "object": "chat.completion",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "The lookup now uses a default and the tests pass. " * 4,
                                         "refusal": None, "annotations": []},
                 "logprobs": None, "finish_reason": "stop"}],
    "usage": {**_OPENAI_USAGE, "completion_tokens": 50, "total_tokens": 22050},
    "service_tier": "default",
})


def _openai_chunk(delta, finish_reason=None):
    return {**_OPENAI_ID, "object": "chat.completion.chunk", "service_tier": "default",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}], "usage": None}


OPENAI_SSE = "".join(
    "data: " + json.dumps(chunk) + "\n\n"
    for chunk in [
        _openai_chunk({"role": "assistant", "content": "", "refusal": None}),
        _openai_chunk({"content": "The lookup now uses a default"}),
        _openai_chunk({"content": " and the tests pass."}),
        _openai_chunk({"content": " Done."}),
        _openai_chunk({}, "stop"),
        {**_OPENAI_ID, "object": "chat.completion.chunk", "service_tier": "default", "choices": [], "usage": _OPENAI_USAGE},
    ]
) + "data: [DONE]\n\n"
