"""What each OpenAI model accepts: the one home of image-edit and chat parameter sets.

Facts from the installed ``openai`` client 3.57.0 (``openai/types/image_edit_params.py``,
``image_model.py``, ``chat/completion_create_params.py``), which documents the API:

* ``gpt-image-1`` was shut down on 2026-10-23 (the client names ``gpt-image-2.5-sunburst`` and
  ``gpt-image-2.5-flare`` as replacements); ``dall-e-2`` / ``dall-e-3`` were retired on
  2026-05-12. Requests to them fail.
* ``input_fidelity`` ("how much effort the model will exert to match the style and features ...
  of input images": structure preservation, what Photo3D's edit needs) takes ``high`` and
  ``low`` on ``gpt-image-1.5``, only ``low`` on ``gpt-image-1-mini``, and must be omitted for
  ``gpt-image-2``; the client documents it for no other model, so it is omitted for them too.
* ``response_format`` is unsupported by the GPT image models (they always answer base64): it is
  never sent.
* ``quality``: ``low``, ``medium``, ``high``, ``auto`` on the GPT image models; the 2.5 models
  also take ``xhigh`` and ``max``.
* Chat: ``max_tokens`` is deprecated and "not compatible with o-series models", which take
  ``max_completion_tokens``; reasoning models (o-series, GPT-5 and later, except the
  ``-chat-latest`` aliases) accept only the default temperature.

The default edit model is ``gpt-image-1.5``: current, and the only current GPT image model the
API documents with ``input_fidelity = "high"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BASE_QUALITIES = ("low", "medium", "high", "auto")


@dataclass(frozen=True)
class ImageModel:
    """One OpenAI image model's edit parameters.

    Attributes:
        name: the model id.
        input_fidelity: values it accepts; empty: the parameter must be omitted.
        qualities: ``quality`` values it accepts.
        shut_down: the date it stopped serving requests, if it has.
        replacement: what the client recommends instead.
    """

    name: str
    input_fidelity: tuple[str, ...] = ()
    qualities: tuple[str, ...] = BASE_QUALITIES
    shut_down: str | None = None
    replacement: str | None = None


_MODELS = [
    ImageModel("gpt-image-1.5", ("high", "low")),
    ImageModel("gpt-image-1-mini", ("low",)),
    ImageModel("gpt-image-2"),
    ImageModel("gpt-image-2-2026-04-21"),
    *(ImageModel(n, qualities=(*BASE_QUALITIES, "xhigh", "max"))
      for n in ("gpt-image-2.5-sunburst", "gpt-image-2.5-sunburst-2026-09-08",
                "gpt-image-2.5-flare", "gpt-image-2.5-flare-2026-09-08")),
    ImageModel("gpt-image-2.6-sunburst"),
    ImageModel("gpt-image-2.6-flare"),
    ImageModel("chatgpt-image-latest"),
    ImageModel("gpt-image-1", shut_down="2026-10-23", replacement="gpt-image-2.5-sunburst or gpt-image-2.5-flare"),
    ImageModel("dall-e-2", shut_down="2026-05-12", replacement="a GPT image model"),
    ImageModel("dall-e-3", shut_down="2026-05-12", replacement="a GPT image model"),
]
IMAGE_MODELS: dict[str, ImageModel] = {m.name: m for m in _MODELS}
DEFAULT_EDIT_MODEL = "gpt-image-1.5"
OPENAI_CHAT_MODEL = re.compile(r"^(gpt-|o\d|chatgpt-|codex-)")
REASONING_CHAT_MODEL = re.compile(r"^(o\d|gpt-[5-9])")


def is_openai_endpoint(base_url: str | None) -> bool:
    """True for api.openai.com (no base URL, or one on that host)."""
    return base_url is None or "api.openai.com" in base_url


def is_reasoning_model(model: str) -> bool:
    """OpenAI reasoning models: ``max_completion_tokens`` only, default temperature only."""
    return bool(REASONING_CHAT_MODEL.match(model)) and not model.endswith("-chat-latest")


def chat_parameters(model: str, temperature: float, max_tokens: int | None) -> dict:
    """The sampling parameters a chat call to ``model`` may carry (see the module docs)."""
    if is_reasoning_model(model):
        return {} if max_tokens is None else {"max_completion_tokens": max_tokens}
    out: dict = {"temperature": temperature}
    if max_tokens is not None:
        out["max_tokens"] = max_tokens
    return out


def edit_parameters(model: str, size: str | None, quality: str | None, input_fidelity: str) -> dict:
    """The optional ``images.edit`` parameters for ``model``.

    Args:
        model: the image model.
        size: ``"1024x1024"``... or ``None`` (the endpoint decides).
        quality: a quality value or ``None``.
        input_fidelity: ``"auto"`` (the highest the model accepts, omitted when it takes none),
            ``"none"`` (never sent), or ``"high"`` / ``"low"`` (sent as given).
    """
    out: dict = {}
    if size:
        out["size"] = size
    if quality:
        out["quality"] = quality
    known = IMAGE_MODELS.get(model)
    if input_fidelity == "auto":
        if known is not None and known.input_fidelity:
            out["input_fidelity"] = known.input_fidelity[0]
    elif input_fidelity != "none":
        out["input_fidelity"] = input_fidelity
    return out


def check_image_model(model: str, base_url: str | None, quality: str | None, input_fidelity: str,
                     where: str = "edit") -> None:
    """Refuse, before any call, an image setup (edit or generation) the OpenAI endpoint would reject.

    Other endpoints (``base_url`` elsewhere) serve their own models and are not checked.

    Raises:
        ConfigError: one line naming the key, the value and what to use instead.
    """
    from photo3d.errors import ConfigError

    if not is_openai_endpoint(base_url):
        return
    known = IMAGE_MODELS.get(model)
    current = ", ".join(n for n, m in IMAGE_MODELS.items() if m.shut_down is None)
    if known is None:
        raise ConfigError(f"{where}.model = {model!r}: not an OpenAI image model; choose one of {current} "
                          f"(default {DEFAULT_EDIT_MODEL}), or set {where}.base_url for another endpoint")
    if known.shut_down:
        raise ConfigError(f"{where}.model = {model!r}: shut down on {known.shut_down}; use {known.replacement}, "
                          f"or {DEFAULT_EDIT_MODEL} (the default, with input_fidelity = high)")
    if input_fidelity in ("high", "low") and input_fidelity not in known.input_fidelity:
        takes = f"takes only {', '.join(known.input_fidelity)}" if known.input_fidelity else "takes none"
        raise ConfigError(f"{where}.input_fidelity = {input_fidelity!r}: {model} {takes}; use 'auto' or 'none'")
    if quality and quality not in known.qualities:
        raise ConfigError(f"{where}.quality = {quality!r}: {model} takes {', '.join(known.qualities)}")


def check_chat_model(model: str, base_url: str | None, where: str = "rewrite") -> None:
    """Refuse a chat model that api.openai.com does not serve (e.g. a Llama id with no base URL).

    Raises:
        ConfigError: one line saying to set the stage's ``base_url`` or pick an OpenAI model.
    """
    from photo3d.errors import ConfigError

    if is_openai_endpoint(base_url) and not OPENAI_CHAT_MODEL.match(model):
        raise ConfigError(f"{where}.model = {model!r} is not served by api.openai.com: set {where}.base_url to "
                          "the OpenAI-compatible server that serves it (e.g. vLLM at http://localhost:8000/v1), "
                          f"use {where}.backend = 'transformers' for a local model, or choose an OpenAI chat "
                          "model such as gpt-5.4-mini")
