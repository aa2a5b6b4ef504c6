"""A client for OpenAI-compatible servers (vLLM, llama.cpp's server, llama-cpp-python's server,
Ollama, TGI, LM Studio): the transport under the server backends of the generator and embedder roles.

A server spec is `openai:<base URL>[#<model>]`, e.g. `openai:http://127.0.0.1:8080/v1#qwen2.5-coder-1.5b`.
Without a model name the server's first listed model is used. The API key comes from the
environment (`RAG_LLM_API_KEY`, `RAG_EMBEDDER_API_KEY`), is sent as a bearer token, and is never
written into a message, a log line or an answer's models block.

Every failure a user will meet is one `ModelError` line that says what to do: the server is down,
the key is wrong, the model is unknown, the prompt is longer than the server's context, the server
is silent for longer than `timeout` seconds. Only connection errors (nothing was sent) are retried,
with exponential backoff: a request the server has seen is never sent twice.

    >>> parse_spec("openai:http://127.0.0.1:8080/v1#qwen")
    ('http://127.0.0.1:8080/v1', 'qwen')
    >>> parse_spec("openai:https://example.org/v1/")
    ('https://example.org/v1', '')
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

from .errors import ModelError

PREFIX = "openai:"


def is_server_spec(spec: str) -> bool:
    return isinstance(spec, str) and spec.startswith(PREFIX)


def parse_spec(spec: str) -> tuple[str, str]:
    """(base URL without a trailing slash, model name or "") of an `openai:` spec."""
    rest = spec[len(PREFIX):] if spec.startswith(PREFIX) else spec
    url, _, model = rest.partition("#")
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ModelError(f"{spec!r} is not a server spec: write openai:http://HOST:PORT/v1#MODEL")
    return url, model.strip()


class ServerClient:
    """One server: JSON requests and streamed server-sent events, with the errors and retries above.
    Thread-safe: httpx's client keeps a pool of connections, one per concurrent request."""

    def __init__(self, spec: str, role: str, key_env: tuple[str, ...], timeout: float = 60.0, retries: int = 3,
                 backoff: float = 0.5):
        import httpx

        self.spec = spec
        self.url, self.model = parse_spec(spec)
        self.role = role                      # "LLM" | "embedding", for messages
        self.key_env = key_env
        key = next((os.environ[k] for k in key_env if os.environ.get(k)), "")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self._http = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                                  limits=httpx.Limits(max_connections=64, max_keepalive_connections=16))
        self._model_checked = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:          # never the headers: they hold the key
        return f"ServerClient({self.url!r}, model={self.model!r})"

    # -- the model, checked once -------------------------------------------------------------------
    def resolve_model(self) -> str:
        """The model name to send; checked against the server's /models list on first use, so a
        typo is one clear line instead of a server's odd reply (or, on single-model servers, no error)."""
        with self._lock:
            if self._model_checked:
                return self.model
            response = self._request("GET", "/models")
            if response.status_code == 404:            # a server without the listing: trust the setting
                self._model_checked = True
                return self.model
            self._raise_for(response)
            try:
                served = [m["id"] for m in response.json().get("data", [])]
            except (ValueError, KeyError, TypeError, AttributeError):
                served = []
            if not self.model and served:
                self.model = served[0]
            elif served and self.model not in served:
                raise ModelError(f"the {self.role} server at {self.url} has no model {self.model!r} "
                                 f"(it serves: {', '.join(served)}): fix the name after '#' in the setting")
            self._model_checked = True
            return self.model

    # -- requests ----------------------------------------------------------------------------------
    def post_json(self, path: str, body: dict) -> dict:
        response = self._request("POST", path, json=body)
        self._raise_for(response)
        try:
            return response.json()
        except ValueError:
            raise ModelError(f"the {self.role} server at {self.url} answered {path} with something that is not "
                             "JSON: is this an OpenAI-compatible server?") from None

    def stream_events(self, path: str, body: dict) -> Iterator[dict]:
        """The `data:` objects of a server-sent event stream, until `[DONE]` or the end."""
        import httpx

        with self._send_streaming(path, body) as response:
            if response.status_code >= 400:
                response.read()
                self._raise_for(response)
            events = 0
            try:
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    events += 1
                    try:
                        event = json.loads(data)
                    except ValueError:
                        continue
                    if isinstance(event, dict) and event.get("error"):
                        raise ModelError(f"the {self.role} server at {self.url} stopped with an error: "
                                         f"{_message(event)}")
                    yield event
            except httpx.ReadTimeout:
                raise ModelError(f"the {self.role} server at {self.url} sent nothing for {self.timeout:g} s: "
                                 "it may be overloaded; try again, or raise server_timeout") from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.NetworkError):
                raise ModelError(f"the {self.role} server at {self.url} closed the connection in the middle of "
                                 "the answer: check that it is running, then ask again") from None
            # a stream must end with [DONE]; servers that fail inside a stream (llama-cpp-python does,
            # for a prompt longer than its context) just end it after the HTTP 200
            if events == 0:
                raise ModelError(f"the {self.role} server at {self.url} ended the stream without an answer; its log "
                                 "says why (a prompt longer than its context is one cause: lower k or prompt_budget)")
            raise ModelError(f"the {self.role} server at {self.url} stopped in the middle of the answer: "
                             "check that it is running, then ask again")

    def _send_streaming(self, path: str, body: dict):
        import contextlib

        @contextlib.contextmanager
        def opened():
            request = self._http.build_request("POST", self.url + path, json=body)
            response = self._sent(lambda: self._http.send(request, stream=True))
            try:
                yield response
            finally:
                response.close()

        return opened()

    def _request(self, method: str, path: str, **kwargs):
        return self._sent(lambda: self._http.request(method, self.url + path, **kwargs))

    def _sent(self, send):
        """`send()`'s response; a connection error (nothing reached the server) is retried with
        exponential backoff, anything else becomes one line at once."""
        import httpx

        for attempt in range(self.retries + 1):
            try:
                return send()
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if attempt == self.retries:
                    raise ModelError(self._unreachable()) from None
                time.sleep(self.backoff * 2 ** attempt)
            except httpx.TimeoutException:
                raise ModelError(f"the {self.role} server at {self.url} did not answer within {self.timeout:g} s: "
                                 "it may be overloaded; raise server_timeout") from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.NetworkError):
                raise ModelError(f"the {self.role} server at {self.url} closed the connection: "
                                 "check that it is running, then try again") from None
        raise AssertionError("unreachable")   # pragma: no cover

    def _unreachable(self) -> str:
        return (f"cannot reach the {self.role} server at {self.url} (tried {self.retries + 1} times): "
                "start it, or fix the address in the setting")

    def _raise_for(self, response) -> None:
        status = response.status_code
        if status < 400:
            return
        message = _message(_json_or_text(response))
        low = message.lower()
        if status in (401, 403):
            raise ModelError(f"the {self.role} server at {self.url} refused the API key (HTTP {status}): "
                             f"set {self.key_env[0]} to a key it accepts")
        if "context" in low and any(w in low for w in ("length", "exceed", "window", "too long", "maximum")):
            raise ModelError(f"the prompt is longer than the {self.role} server's context ({message[:160]}): "
                             "lower k or prompt_budget, or give the server a larger context")
        if status == 404 and "model" in low:
            raise ModelError(f"the {self.role} server at {self.url} has no model {self.model!r} ({message[:160]}): "
                             "fix the name after '#' in the setting")
        raise ModelError(f"the {self.role} server at {self.url} answered HTTP {status}"
                         + (f" ({message[:200]})" if message else "") + ": see the server's log")


def _json_or_text(response):
    try:
        return response.json()
    except ValueError:
        return response.text


def _message(body) -> str:
    """The human part of an error body, whatever the server's dialect."""
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body.get("message", "")))
        if isinstance(error, dict):
            error = error.get("message", "") or json.dumps(error)
        return " ".join(str(error).split())
    return " ".join(str(body).split())
