"""Test helpers that ship with the package (usable by downstream projects' tests too).

* :class:`~photo3d.testing.openai_server.FakeOpenAIServer`: a real local HTTP server speaking
  the OpenAI chat / images API, with injectable latency, faults and bad-edit modes.
* :mod:`photo3d.testing.caches`: weight caches (Hugging Face hub, pyiqa, CLIP) laid out as their
  owners write them, with placeholder files, for offline availability checks.
"""

from photo3d.testing.openai_server import (
    FakeOpenAIServer,
    Fault,
    default_chat_responder,
    fake_edit,
    fake_generation,
)

__all__ = ["FakeOpenAIServer", "Fault", "default_chat_responder", "fake_edit", "fake_generation"]
