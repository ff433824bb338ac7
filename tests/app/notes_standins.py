"""Stand-ins for the remote notes services: a small HTTP server on 127.0.0.1 that speaks the
Ollama chat protocol (POST /api/chat, NDJSON stream) and the OpenAI chat completions protocol
(POST /v1/chat/completions, SSE stream). They stand in for a user's Ollama server and a
remote OpenAI-compatible endpoint, which cannot run in the tests; the client side (the
`ollama` package, httpx) is the real one over real HTTP.

Their "model" is a fixed rule, so the tests know what to expect: it reads the numbered
transcript lines of a map prompt and answers with the line where someone says "will" as an
action item, lines with "agreed" as decisions, and lines ending in "?" as open questions;
a reduce prompt is answered with every decision and question of the parts it is given. Each
answer fills the JSON schema of the request, as a schema-constrained model would.
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LINE = re.compile(r"^\[(\d+)\] ([^:]+): (.*)$", re.MULTILINE)


def rule_answer(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    """What the stand-in model answers to a map or reduce prompt under `schema`."""
    if "action_items" not in schema["properties"]:  # reduce: merge the parts
        parts = [json.loads(line) for line in prompt.splitlines() if line.startswith('{"part"')]
        return {"summary": f"A meeting in {len(parts)} parts: " + " ".join(p["summary"] for p in parts),
                "decisions": [d for p in parts for d in p["decisions"]],
                "open_questions": [q for p in parts for q in p["open_questions"]]}
    allowed = set(schema["properties"]["action_items"]["items"]["properties"]["line"]["enum"])
    lines = [(int(n), who, text) for n, who, text in LINE.findall(prompt) if int(n) in allowed]
    items = [{"owner": who, "task": text, "due": "Friday" if "Friday" in text else None, "line": n}
             for n, who, text in lines if " will " in f" {text} "]
    return {"summary": f"Lines {lines[0][0]} to {lines[-1][0]} were discussed.",
            "decisions": [text for _, _, text in lines if "agreed" in text],
            "action_items": items, "open_questions": [text for _, _, text in lines if text.endswith("?")]}


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class StandIn:
    """The server, what it was asked, and how it behaves."""

    key: str | None = None  # the OpenAI-compatible key it accepts (None: any)
    models: tuple[str, ...] = ("llama3.2",)  # the models the Ollama side has pulled
    delay_s: float = 0.0  # between streamed pieces: a slow model, to cancel mid-answer
    cut_after: int | None = None  # characters: a model whose token budget runs out mid-answer
    requests: list[Request] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def __enter__(self) -> StandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet test output
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                standin.requests.append(Request(self.path, dict(self.headers), body))
                if self.path == "/api/chat":
                    standin._ollama(self, body)
                elif self.path == "/v1/chat/completions":
                    standin._openai(self, body)
                else:
                    self._json(404, {"error": "not found"})

            def _json(self, status: int, data: dict[str, Any]) -> None:
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _pieces(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> list[str]:
        text = json.dumps(rule_answer(messages[-1]["content"], schema))[:self.cut_after]
        return [text[i:i + 16] for i in range(0, len(text), 16)]

    def _stream(self, handler: BaseHTTPRequestHandler, content_type: str, frames: list[bytes]) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.end_headers()
        try:
            for frame in frames:
                handler.wfile.write(frame)
                handler.wfile.flush()
                time.sleep(self.delay_s)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: a cancel

    def _ollama(self, handler: Any, body: dict[str, Any]) -> None:
        if body["model"] not in self.models:
            handler._json(404, {"error": f"model \"{body['model']}\" not found, try pulling it first"})
            return
        stamp = "2026-11-29T12:00:00Z"
        frames = [json.dumps({"model": body["model"], "created_at": stamp, "done": False,
                              "message": {"role": "assistant", "content": piece}}).encode() + b"\n"
                  for piece in self._pieces(body["messages"], body["format"])]
        frames.append(json.dumps({"model": body["model"], "created_at": stamp, "done": True, "done_reason": "stop",
                                  "message": {"role": "assistant", "content": ""}}).encode() + b"\n")
        self._stream(handler, "application/x-ndjson", frames)

    def _openai(self, handler: Any, body: dict[str, Any]) -> None:
        if self.key is not None and handler.headers.get("Authorization") != f"Bearer {self.key}":
            handler._json(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
            return
        schema = body["response_format"]["json_schema"]["schema"]
        frames = [b"data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": piece}}]}).encode() + b"\n\n"
                  for piece in self._pieces(body["messages"], schema)]
        frames.append(b"data: [DONE]\n\n")
        self._stream(handler, "text/event-stream", frames)
