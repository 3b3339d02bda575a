"""A real, local, fake OpenAI-compatible HTTP server for tests, demos and benchmarks.

It speaks the parts of the OpenAI REST API that photo3d uses, over real HTTP on 127.0.0.1:

* ``GET  /v1/models``
* ``POST /v1/chat/completions``   answer = ``chat_responder(messages)`` (scriptable, e.g. a judge)
* ``POST /v1/images/generations`` a deterministic object-on-white PNG per prompt (``b64_json``)
* ``POST /v1/images/edits``       multipart upload; a deterministic "photoreal-ish" transform of
  the input (contrast, saturation, slight seeded noise on the foreground), or a deliberately
  bad edit in modes ``"mirror"`` / ``"shift"`` / ``"rescale"`` (applied per 2x2 grid cell)

Responses depend only on the request content (never on call order), so retried and resumed
runs see identical bytes. Latency (mean +- jitter) and a script of faults are injectable::

    with FakeOpenAIServer(latency=0.2, jitter=0.02, faults=["edits:429", "timeout"]) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="sk-test")
        ...
        assert srv.calls["edits"] == 2

Fault kinds (each consumes one matching request, in order): ``429`` (with ``Retry-After``),
``500``, ``503``, ``timeout`` (hangs ``hang_s``), ``drop`` (closes the connection without an
answer), ``truncated`` (half a PNG), ``nonimage`` (base64 of text), ``html`` (a 200 HTML page),
``policy`` (400 ``content_policy_violation``), ``404`` (``model_not_found``), ``401``.
Prefix a kind with an endpoint (``"edits:500"``, ``"chat:429"``, ``"generations:drop"``) to
target it; otherwise the next request of any endpoint takes it. ``quota`` answers 429 with code
``insufficient_quota`` (billing, not a rate limit); ``429date`` sends ``Retry-After`` as an HTTP
date.

With ``strict_params=True`` the server answers as the OpenAI API does to parameters a model does
not take (:data:`PARAMETER_RULES`, written from the API reference in the ``openai`` client 3.57.0,
independently of :mod:`photo3d.data.api_models`): GPT image models refuse ``response_format``,
``input_fidelity`` is taken only by ``gpt-image-1.5`` (``high``/``low``) and ``gpt-image-1-mini``
(``low``), shut-down models are not found, and reasoning chat models refuse ``max_tokens`` and
any temperature but 1.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

import numpy as np
from PIL import Image

ENDPOINTS = {"/v1/chat/completions": "chat", "/v1/images/generations": "generations",
             "/v1/images/edits": "edits", "/v1/models": "models"}
EDIT_MODES = ("photoreal", "identity", "mirror", "shift", "rescale")
FAULT_KINDS = ("429", "429date", "quota", "500", "503", "timeout", "drop", "truncated", "nonimage", "html", "policy",
               "404", "401")
# model -> what the API refuses (strict_params); see the module docstring
PARAMETER_RULES: dict[str, dict] = {
    "gpt-image-1.5": {"input_fidelity": ("high", "low"), "response_format": False},
    "gpt-image-1-mini": {"input_fidelity": ("low",), "response_format": False},
    "gpt-image-2": {"input_fidelity": None, "response_format": False},
    "gpt-image-2.5-sunburst": {"input_fidelity": None, "response_format": False},
    "gpt-image-2.5-flare": {"input_fidelity": None, "response_format": False},
    "gpt-image-1": {"shut_down": "2026-10-23"},
    "dall-e-2": {"shut_down": "2026-05-12"},
    "dall-e-3": {"shut_down": "2026-05-12"},
    "o3": {"reasoning": True}, "o4-mini": {"reasoning": True}, "gpt-5": {"reasoning": True},
    "gpt-5-mini": {"reasoning": True}, "gpt-5.4-mini": {"reasoning": True},
}


@dataclass
class Fault:
    """One scripted fault.

    Attributes:
        kind: one of :data:`FAULT_KINDS`.
        endpoint: ``"chat"``, ``"generations"``, ``"edits"``, ``"models"`` or ``None`` (any).
        retry_after: seconds sent in ``Retry-After`` for 429/503.
        hang_s: how long a ``timeout`` fault stalls before closing.
    """

    kind: str
    endpoint: str | None = None
    retry_after: float | None = 0.05
    hang_s: float = 3.0

    @classmethod
    def parse(cls, spec: str | Fault) -> Fault:
        """``"429"`` or ``"edits:429"`` -> :class:`Fault`."""
        if isinstance(spec, Fault):
            return spec
        endpoint, _, kind = spec.rpartition(":")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        return cls(kind=kind, endpoint=endpoint or None)


def default_chat_responder(messages: Sequence[dict]) -> str:
    """Deterministic object-centric rewrite of the last user message (stands in for an LLM)."""
    user = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
    if isinstance(user, list):  # multimodal content parts
        user = " ".join(p.get("text", "") for p in user if isinstance(p, dict))
    words = [w.strip(",.;:!?\"'()") for w in str(user).split()][:6]
    subject = " ".join(w for w in words if w) or "object"
    if subject.split()[0].lower() not in ("a", "an", "the"):
        subject = "a " + subject
    return f"{subject}, realistic materials and surface texture, soft studio lighting, real camera shot, white background"


class FakeOpenAIServer:
    """Threaded HTTP server on ``127.0.0.1:<free port>`` speaking a subset of the OpenAI API.

    Args:
        latency: mean seconds each request waits before answering.
        jitter: half-width of the uniform spread around ``latency``.
        seed: seeds the latency draws.
        faults: scripted faults (strings like ``"edits:429"`` or :class:`Fault`).
        edit_mode: ``"photoreal"`` (default), ``"identity"``, ``"mirror"``, ``"shift"``, ``"rescale"``.
        chat_responder: ``callable(messages) -> str`` producing the assistant's answer.
        api_key: if set, requests must carry ``Authorization: Bearer <api_key>`` (else 401).
        models: ids listed by ``GET /v1/models``; other model ids get 404 when ``strict_models``.
        strict_models: reject unknown model ids with 404 ``model_not_found``.
        edit_modes: modes for the next edit calls, one per call, before ``edit_mode`` applies
            again (e.g. ``["mirror"]``: the first edit is bad, re-edits are fine).
        strict_params: refuse parameters a model does not take, as the API does
            (:data:`PARAMETER_RULES`).

    Attributes:
        calls: requests received per endpoint (``chat``, ``generations``, ``edits``, ``models``),
            faulted ones included.
        served: successful (200) answers per endpoint: the "paid" calls.
        requests: ``(endpoint, model, status)`` per request, in arrival order.
        bodies: the parameters of each request (form fields or JSON, files left out), in order.
    """

    def __init__(self, latency: float = 0.0, jitter: float = 0.0, seed: int = 0,
                 faults: Iterable[str | Fault] = (), edit_mode: str = "photoreal",
                 chat_responder: Callable[[Sequence[dict]], str] | None = None, api_key: str | None = None,
                 models: Sequence[str] = ("gpt-image-1.5", "gpt-image-2", "gpt-4o-mini", "gpt-5.4-mini", "fake-llm",
                                          "fake-t2i"),
                 strict_models: bool = False, edit_modes: Sequence[str] = (), strict_params: bool = False) -> None:
        if edit_mode not in EDIT_MODES:
            raise ValueError(f"edit_mode must be one of {EDIT_MODES}, got {edit_mode!r}")
        self.latency, self.jitter = float(latency), float(jitter)
        self.edit_mode = edit_mode
        self.edit_modes = list(edit_modes)
        self.chat_responder = chat_responder or default_chat_responder
        self.api_key = api_key
        self.models = list(models)
        self.strict_models = strict_models
        self.strict_params = strict_params
        self.calls: Counter = Counter()
        self.served: Counter = Counter()
        self.requests: list[tuple[str, str | None, int]] = []
        self.bodies: list[dict] = []
        self._faults: list[Fault] = [Fault.parse(f) for f in faults]
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self, port: int = 0) -> FakeOpenAIServer:
        """Bind ``port`` on 127.0.0.1 (0 = a free one) and serve in a daemon thread."""
        handler = type("Handler", (_Handler,), {"server_ref": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (hanging requests are released)."""
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1`` (pass as ``base_url`` to ``openai.OpenAI``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting ------------------------------------------------------------------------------
    def add_faults(self, *faults: str | Fault) -> None:
        """Append faults to the script."""
        with self._lock:
            self._faults.extend(Fault.parse(f) for f in faults)

    @property
    def pending_faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def reset_counts(self) -> None:
        with self._lock:
            self.calls.clear()
            self.served.clear()
            self.requests.clear()

    def _take_fault(self, endpoint: str) -> Fault | None:
        with self._lock:
            for i, f in enumerate(self._faults):
                if f.endpoint in (None, endpoint):
                    return self._faults.pop(i)
        return None

    def _next_edit_mode(self) -> str:
        with self._lock:
            return self.edit_modes.pop(0) if self.edit_modes else self.edit_mode

    def _delay(self) -> float:
        with self._lock:
            return max(0.0, self.latency + self.jitter * (2 * self._rng.random() - 1))

    def _record(self, endpoint: str, model: str | None, status: int) -> None:
        with self._lock:
            self.requests.append((endpoint, model, status))
            if status == 200:
                self.served[endpoint] += 1


class _Handler(BaseHTTPRequestHandler):
    server_ref: FakeOpenAIServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self._dispatch(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._dispatch(self.rfile.read(length) if length else b"")

    def _dispatch(self, body: bytes) -> None:
        srv = self.server_ref
        endpoint = ENDPOINTS.get(self.path.split("?")[0].rstrip("/"))
        if endpoint is None:
            return self._json(404, _error(f"no route {self.path}", "invalid_request_error", "not_found"), None, None)
        with srv._lock:
            srv.calls[endpoint] += 1
        try:
            fields, files = self._parse(body)
        except ValueError:
            return self._json(400, _error("malformed request body", "invalid_request_error", None), endpoint, None)
        model = fields.get("model")
        with srv._lock:
            srv.bodies.append({k: v for k, v in fields.items() if k != "messages"})
        time.sleep(srv._delay())
        if srv.api_key is not None and self.headers.get("Authorization") != f"Bearer {srv.api_key}":
            return self._json(401, _error("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
                              endpoint, model)
        fault = srv._take_fault(endpoint)
        if fault is not None and self._fault(fault, endpoint, model):
            return
        if srv.strict_models and endpoint != "models" and model not in srv.models:
            return self._json(404, _error(f"The model `{model}` does not exist.", "invalid_request_error",
                                          "model_not_found"), endpoint, model)
        if srv.strict_params and endpoint != "models":
            refused = _refused(endpoint, model, fields)
            if refused is not None:
                return self._json(refused[0], refused[1], endpoint, model)
        if endpoint == "models":
            return self._json(200, {"object": "list", "data": [{"id": m, "object": "model", "created": 0,
                                                                "owned_by": "photo3d-fake"} for m in srv.models]},
                              endpoint, None)
        if endpoint == "chat":
            text = srv.chat_responder(fields.get("messages") or [])
            return self._json(200, {
                "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": model or "fake",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 0, "completion_tokens": len(text.split()),
                          "total_tokens": len(text.split())}}, endpoint, model)
        if endpoint == "generations":
            png = fake_generation(str(fields.get("prompt", "")), _size(fields.get("size"), 256))
        else:
            image = files.get("image") or files.get("image[]")
            if image is None:
                return self._json(400, _error("image is required", "invalid_request_error", None), endpoint, model)
            try:
                png = fake_edit(image, str(fields.get("prompt", "")), srv._next_edit_mode())
            except OSError:
                return self._json(400, _error("image is not a valid PNG", "invalid_request_error", None),
                                  endpoint, model)
        return self._json(200, {"created": 0, "data": [{"b64_json": base64.b64encode(png).decode("ascii")}]},
                          endpoint, model)

    def _fault(self, fault: Fault, endpoint: str, model: str | None) -> bool:
        """Serve ``fault``; True when the request is fully handled."""
        k = fault.kind
        if k in ("429", "503"):
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            self._json(int(k), _error("Rate limit reached" if k == "429" else "Service unavailable",
                                      "rate_limit_error" if k == "429" else "server_error", None), endpoint, model, headers)
        elif k == "429date":
            from email.utils import formatdate

            when = formatdate(time.time() + (fault.retry_after or 0.0) + 1.0, usegmt=True)  # whole seconds
            self._json(429, _error("Rate limit reached", "rate_limit_error", None), endpoint, model,
                       {"Retry-After": when})
        elif k == "quota":
            self._json(429, _error("You exceeded your current quota, please check your plan and billing details.",
                                   "insufficient_quota", "insufficient_quota"), endpoint, model)
        elif k == "500":
            self._json(500, _error("The server had an error while processing your request.", "server_error", None),
                       endpoint, model)
        elif k == "policy":
            self._json(400, _error("Your request was rejected as a result of our safety system.",
                                   "invalid_request_error", "content_policy_violation"), endpoint, model)
        elif k == "404":
            self._json(404, _error(f"The model `{model}` does not exist.", "invalid_request_error",
                                   "model_not_found"), endpoint, model)
        elif k == "401":
            self._json(401, _error("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
                       endpoint, model)
        elif k == "timeout":
            self.server_ref._stop.wait(fault.hang_s)
            self._drop(endpoint, model)
        elif k == "drop":
            self._drop(endpoint, model)
        elif k in ("truncated", "nonimage"):
            png = fake_generation("truncated", 64)
            data = png[: len(png) // 2] if k == "truncated" else b"this is not an image"
            self._json(200, {"created": 0, "data": [{"b64_json": base64.b64encode(data).decode("ascii")}]},
                       endpoint, model, record_status=299)
        elif k == "html":
            body = b"<html><body>502 Bad Gateway (but status 200)</body></html>"
            self.server_ref._record(endpoint, model, 299)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        return True

    def _drop(self, endpoint: str, model: str | None) -> None:
        self.server_ref._record(endpoint, model, 0)
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _parse(self, body: bytes) -> tuple[dict, dict[str, bytes]]:
        ctype = self.headers.get("Content-Type", "")
        if not body:
            return {}, {}
        if ctype.startswith("multipart/form-data"):
            msg = BytesParser(policy=email_policy).parsebytes(
                b"Content-Type: " + ctype.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body)
            fields, files = {}, {}
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True) or b""
                if part.get_filename() is not None:
                    files[name] = payload
                else:
                    fields[name] = payload.decode("utf-8")
            return fields, files
        try:
            return json.loads(body), {}
        except json.JSONDecodeError as exc:
            raise ValueError("bad JSON") from exc

    def _json(self, status: int, obj: dict, endpoint: str | None, model: str | None,
              headers: dict[str, str] | None = None, record_status: int | None = None) -> None:
        body = json.dumps(obj).encode("utf-8")
        if endpoint is not None:  # count before answering: a client that has the answer sees the count
            self.server_ref._record(endpoint, model, record_status or status)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


def _error(message: str, type_: str, code: str | None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _refused(endpoint: str, model: str | None, fields: dict) -> tuple[int, dict] | None:
    """``(status, body)`` the API answers to a parameter ``model`` does not take, else ``None``."""
    rules = PARAMETER_RULES.get(model or "", {})
    if rules.get("shut_down"):
        return 404, _error(f"The model `{model}` was shut down on {rules['shut_down']}.", "invalid_request_error",
                           "model_not_found")
    if endpoint in ("edits", "generations"):
        if "response_format" in fields and rules.get("response_format") is False:
            return 400, _error("Unknown parameter: 'response_format'.", "invalid_request_error",
                               "unknown_parameter", "response_format")
        if "input_fidelity" in fields and "input_fidelity" in rules:
            allowed = rules["input_fidelity"]
            if allowed is None:
                return 400, _error(f"input_fidelity is not supported for {model}.", "invalid_request_error",
                                   "unsupported_parameter", "input_fidelity")
            if fields["input_fidelity"] not in allowed:
                return 400, _error(f"Invalid value: '{fields['input_fidelity']}'. Supported values are: "
                                   + ", ".join(f"'{v}'" for v in allowed), "invalid_request_error",
                                   "invalid_value", "input_fidelity")
    if endpoint == "chat" and rules.get("reasoning"):
        if fields.get("max_tokens") is not None:
            return 400, _error("Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                               "'max_completion_tokens' instead.", "invalid_request_error", "unsupported_parameter",
                               "max_tokens")
        if fields.get("temperature") not in (None, 1, 1.0):
            return 400, _error(f"Unsupported value: 'temperature' does not support {fields['temperature']} with "
                               "this model. Only the default (1) value is supported.", "invalid_request_error",
                               "unsupported_value", "temperature")
    return None


def _size(spec, default: int) -> tuple[int, int]:
    try:
        w, h = str(spec).lower().split("x")
        return int(w), int(h)
    except (ValueError, AttributeError):
        return default, default


def _png(arr: np.ndarray) -> bytes:
    from photo3d.io import encode_png

    return encode_png(arr)


def _rng_for(*parts: bytes | str) -> np.random.Generator:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else p.encode("utf-8"))
    return np.random.default_rng(int.from_bytes(h.digest()[:8], "little"))


def fake_generation(prompt: str, size: tuple[int, int] | int = 256) -> bytes:
    """A deterministic PNG of one shaded blob on white, its colour and shape drawn from the prompt."""
    w, h = (size, size) if isinstance(size, int) else size
    rng = _rng_for("gen", prompt)
    colour = rng.uniform(0.15, 0.85, 3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = w * rng.uniform(0.45, 0.55), h * rng.uniform(0.45, 0.55)
    rx, ry = w * rng.uniform(0.2, 0.35), h * rng.uniform(0.2, 0.35)
    d = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2
    shade = np.clip(1.1 - 0.5 * ((xx - cx + rx * 0.4) ** 2 + (yy - cy + ry * 0.4) ** 2) / (rx * ry), 0.4, 1.0)
    img = np.ones((h, w, 3), np.float32)
    inside = d <= 1.0
    img[inside] = colour * shade[inside, None]
    return _png((img * 255 + 0.5).astype(np.uint8))


def fake_edit(image_png: bytes, prompt: str, mode: str = "photoreal") -> bytes:
    """The fake editor: a content-seeded transform of a (2x2 grid) PNG.

    ``photoreal`` keeps the geometry and changes only colours (contrast x1.15, saturation x1.2,
    +-1.5% noise on the foreground); ``mirror`` flips each cell left-right; ``shift`` moves each
    cell's content right by 8% of its width; ``rescale`` shrinks each cell's content to 80%
    about the cell centre; ``identity`` returns the input pixels.
    """
    from photo3d.imaging.masks import SILHOUETTE_WHITE_TOLERANCE
    from photo3d.io import decode_array

    arr = decode_array(image_png, "edit request")[..., :3].astype(np.float32) / 255.0
    rng = _rng_for("edit", image_png, prompt)
    fg = (arr < 1.0 - SILHOUETTE_WHITE_TOLERANCE).any(axis=2)  # the structure check's object rule
    if mode == "photoreal":
        mean = arr[fg].mean(axis=0) if fg.any() else np.full(3, 0.5, np.float32)
        out = (arr - mean) * 1.15 + mean
        grey = out.mean(axis=2, keepdims=True)
        out = grey + (out - grey) * 1.2 + rng.normal(0.0, 0.015, arr.shape)
        arr = np.where(fg[..., None], np.clip(out, 0.0, 0.93), arr)  # keep the foreground off pure white
    elif mode in ("mirror", "shift", "rescale"):
        arr = _per_cell(arr, mode)
    return _png((np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8))


def _per_cell(arr: np.ndarray, mode: str) -> np.ndarray:
    h, w = arr.shape[:2]
    out = np.ones_like(arr)
    ch, cw = h // 2, w // 2
    for r in range(2):
        for c in range(2):
            cell = arr[r * ch:(r + 1) * ch, c * cw:(c + 1) * cw]
            if mode == "mirror":
                new = cell[:, ::-1]
            elif mode == "shift":
                s = max(1, round(0.08 * cw))
                new = np.ones_like(cell)
                new[:, s:] = cell[:, :-s]
            else:
                pil = Image.fromarray((cell * 255 + 0.5).astype(np.uint8))
                sw, sh = max(1, int(cw * 0.8)), max(1, int(ch * 0.8))
                small = np.asarray(pil.resize((sw, sh), Image.BILINEAR)).astype(np.float32) / 255.0
                new = np.ones_like(cell)
                y0, x0 = (ch - sh) // 2, (cw - sw) // 2
                new[y0:y0 + sh, x0:x0 + sw] = small
            out[r * ch:(r + 1) * ch, c * cw:(c + 1) * cw] = new
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m photo3d.testing.openai_server [--port P] [--latency S]``: serve until Ctrl-C."""
    import argparse

    p = argparse.ArgumentParser(description="fake OpenAI-compatible server (chat, images, edits) for offline demos")
    p.add_argument("--latency", type=float, default=0.0)
    p.add_argument("--jitter", type=float, default=0.0)
    p.add_argument("--edit-mode", default="photoreal", choices=EDIT_MODES)
    p.add_argument("--port", type=int, default=0, help="0 = any free port")
    args = p.parse_args(argv)
    srv = FakeOpenAIServer(latency=args.latency, jitter=args.jitter, edit_mode=args.edit_mode)
    srv.start(port=args.port)
    print(f"serving on {srv.base_url}  (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
