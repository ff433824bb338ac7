"""The three notes back-ends behind one interface (app.notes.engine.NotesBackend):

- local: a GGUF model run in this process by llama-cpp-python; nothing leaves the computer;
- ollama: an Ollama server the user runs (on this computer by default);
- openai: any OpenAI-compatible endpoint the user chose, with its key from the keyring. The
  transcript is sent there: the only back-end that may send it off the computer.

Each answer is constrained by the JSON schema the engine gives: a grammar built from it for
the local model, Ollama's `format`, and `response_format: json_schema` for OpenAI-compatible
endpoints. Each back-end streams its answer so that a cancel stops it within a token or two.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import httpx

from app.errors import NotesBackendFailed, NotesUnavailable, ValidationError
from app.notes.local_models import resolve_local_model

if TYPE_CHECKING:
    from app.notes.engine import NotesBackend
    from app.settings import Settings

log = logging.getLogger(__name__)

REMOTE_CONTEXT_TOKENS = 8192
REMOTE_TIMEOUT_S = 300.0  # a slow model on a busy server may think for minutes
LOCAL_THREADS = 2


@dataclass(frozen=True)
class NotesOptions:
    """What the settings say about notes; the OpenAI-compatible key is read from the keyring
    only when that back-end is opened, so it never sits in an object that may be printed."""

    auto: bool = True
    backend: str = "local"
    model: str = "auto"
    ollama_url: str = "http://127.0.0.1:11434"
    ollama_model: str = ""
    openai_url: str = ""
    openai_model: str = ""
    allow_download: bool = False  # the recommended local model may be downloaded

    @classmethod
    def from_settings(cls, settings: Settings) -> NotesOptions:
        return cls(settings.notes_auto, settings.notes_backend, settings.notes_model, settings.ollama_url,
                   settings.ollama_model, settings.openai_url, settings.openai_model)


def _cancelled(event: threading.Event | None) -> bool:
    return event is not None and event.is_set()


def _messages(system: str, prompt: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": prompt}]


class LocalBackend:
    """A GGUF model loaded once per back-end, answering under a grammar made from the schema."""

    name = "local"

    def __init__(self, setting: str, *, allow_download: bool = False, threads: int = LOCAL_THREADS) -> None:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise NotesUnavailable("Local meeting notes need llama-cpp-python: run scripts/setup.sh") from None
        model = resolve_local_model(setting, allow_download=allow_download)
        self.model = model.name
        self.context_tokens = model.context_tokens
        try:
            self._llama = Llama(model_path=str(model.path), n_ctx=model.context_tokens, n_threads=threads,
                                n_threads_batch=threads, chat_format=model.chat_format, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise NotesBackendFailed(f"The notes model {model.path} could not be loaded: {exc}") from exc

    def complete(self, system: str, prompt: str, schema: dict[str, Any], max_tokens: int,
                 cancelled: threading.Event | None) -> str:
        from llama_cpp import LlamaGrammar

        grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
        stream = self._llama.create_chat_completion(messages=_messages(system, prompt),  # type: ignore[arg-type]
                                                    grammar=grammar, max_tokens=max_tokens, temperature=0.0,
                                                    repeat_penalty=1.1, stream=True)
        parts: list[str] = []
        for chunk in cast(Iterator[dict[str, Any]], stream):
            if _cancelled(cancelled):
                break
            parts.append(chunk["choices"][0]["delta"].get("content") or "")
        return "".join(parts)


class OllamaBackend:
    """An Ollama server: POST /api/chat with `format` set to the schema."""

    name = "ollama"

    def __init__(self, url: str, model: str) -> None:
        import ollama

        if not model.strip():
            raise NotesUnavailable("Choose the Ollama model that makes notes in Settings > Notes")
        self.model = model.strip()
        self.context_tokens = REMOTE_CONTEXT_TOKENS
        self._url = url
        self._client = ollama.Client(host=url, timeout=REMOTE_TIMEOUT_S)

    def complete(self, system: str, prompt: str, schema: dict[str, Any], max_tokens: int,
                 cancelled: threading.Event | None) -> str:
        import ollama

        parts = []
        try:
            for chunk in self._client.chat(self.model, _messages(system, prompt), stream=True, format=schema,
                                           options={"num_ctx": self.context_tokens, "num_predict": max_tokens,
                                                    "temperature": 0.2}):
                if _cancelled(cancelled):
                    break
                parts.append(chunk.message.content or "")
        except ollama.ResponseError as exc:
            raise NotesBackendFailed(f"The Ollama server at {self._url} refused model {self.model}: {exc.error}",
                                     details={"backend": self.name}) from exc
        except (ConnectionError, httpx.HTTPError) as exc:
            raise NotesBackendFailed(f"The Ollama server at {self._url} did not answer ({type(exc).__name__}); "
                                     "is it running?", details={"backend": self.name}) from exc
        return "".join(parts)


class OpenAIBackend:
    """An OpenAI-compatible endpoint: POST {url}/chat/completions, streamed, with
    `response_format` of type json_schema."""

    name = "openai"

    def __init__(self, url: str, model: str, key: str | None) -> None:
        if not url.strip() or not model.strip():
            raise NotesUnavailable("Set the OpenAI-compatible endpoint's address and model in Settings > Notes")
        from app.remote import is_loopback  # app.remote reads the API's models, which read this

        self._url = url.strip().rstrip("/")
        if key and self._url.lower().startswith("http://") and not is_loopback(urlsplit(self._url).hostname or ""):
            # Every request carries the key: over plain http to another computer anyone on the
            # way could read it (and the transcript).
            raise NotesUnavailable(f"The OpenAI-compatible endpoint {self._url} is plain http:// to another "
                                   "computer and would receive the key readable: use its https:// address")
        self.model = model.strip()
        self.context_tokens = REMOTE_CONTEXT_TOKENS
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(headers=headers, timeout=REMOTE_TIMEOUT_S)

    def complete(self, system: str, prompt: str, schema: dict[str, Any], max_tokens: int,
                 cancelled: threading.Event | None) -> str:
        body = {"model": self.model, "messages": _messages(system, prompt), "max_tokens": max_tokens,
                "temperature": 0.2, "stream": True,
                "response_format": {"type": "json_schema",
                                    "json_schema": {"name": "meeting_notes", "strict": True, "schema": schema}}}
        parts = []
        try:
            with self._client.stream("POST", f"{self._url}/chat/completions", json=body) as response:
                if response.status_code != 200:
                    response.read()
                    raise NotesBackendFailed(f"The endpoint {self._url} answered HTTP {response.status_code}: "
                                             f"{_error_text(response)}", details={"backend": self.name})
                for delta in _stream_deltas(response.iter_lines()):
                    if _cancelled(cancelled):
                        break
                    parts.append(delta)
        except httpx.HTTPError as exc:
            raise NotesBackendFailed(f"The endpoint {self._url} did not answer ({type(exc).__name__})",
                                     details={"backend": self.name}) from exc
        return "".join(parts)


def _error_text(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
        message = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        message = None
    return str(message or response.reason_phrase)[:300]


def _stream_deltas(lines: Iterator[str]) -> Iterator[str]:
    """The content pieces of a chat completion's SSE stream."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        try:
            choices = json.loads(payload).get("choices") or []
        except (ValueError, AttributeError):
            continue
        for choice in choices:
            content = (choice.get("delta") or {}).get("content")
            if content:
                yield content


def open_backend(options: NotesOptions, backend: str | None = None) -> NotesBackend:
    """The back-end `backend` names (default: the setting), ready to answer. Loading the
    local model takes seconds: call it off the event loop."""
    from app.notes.models import BACKENDS
    from app.secrets import openai_key

    name = backend or options.backend
    if name == "local":
        return LocalBackend(options.model, allow_download=options.allow_download)
    if name == "ollama":
        return OllamaBackend(options.ollama_url, options.ollama_model)
    if name == "openai":
        return OpenAIBackend(options.openai_url, options.openai_model, openai_key())
    raise ValidationError(f"Unknown notes back-end {name!r}; expected one of {', '.join(BACKENDS)}", field="backend")
