"""User-facing errors.

Anything a user can fix (a missing file, a wrong option, absent weights) raises a subclass of
:class:`Photo3DError`. The CLI prints such errors as a single line and exits with status 2;
everything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import re


class Photo3DError(Exception):
    """Base class for errors caused by input or environment, not by a bug."""


class AssetError(Photo3DError):
    """An asset file cannot be read or is not a usable mesh."""


class ReferenceMismatchError(Photo3DError):
    """A reference grid / view folder / cameras file does not fit the asset or the rig."""


class UnreadableImageError(Photo3DError):
    """Bytes or a file that should hold an image do not decode.

    Args:
        source: the file (or what the bytes are), named in the message.
        reason: the decoder's complaint.
    """

    def __init__(self, source: object, reason: str) -> None:
        reason = re.sub(r" <_io\.\w+ object at 0x[0-9a-f]+>", "", reason)  # PIL names its in-memory buffer
        super().__init__(f"{source}: not a readable image ({reason})")
        self.source, self.reason = source, reason


class InputError(Photo3DError):
    """A tensor or value handed to a public function is malformed (shape, range, NaN)."""


class ConfigError(InputError, ValueError):
    """An option has a value of the wrong type, or a config file an unknown key."""


class CameraError(InputError, ValueError):
    """A camera is unusable: non-finite values, a focal length <= 0, a pose that is not a rotation."""


class MissingDependencyError(Photo3DError, ImportError):
    """An optional package is needed for the requested feature."""


class WeightsNotFoundError(Photo3DError):
    """Pretrained weights were requested but are not available locally."""


class CheckpointMismatchError(Photo3DError):
    """A checkpoint does not fit the network it is loaded into (missing / unexpected keys, shapes)."""


class UnsupportedModelError(InputError):
    """A checkpoint of a model family photo3d has no wrapper for (named, with the supported ones)."""
