"""Base for loss modules that hold frozen encoders without registering them as sub-modules.

A loss module must not leak encoder weights into ``loss.parameters()`` (an optimizer built
from a model that contains the loss would otherwise pick up hundreds of millions of frozen
weights) nor into ``state_dict()`` (checkpoints would carry the encoders). The encoders are
stored as plain attributes; ``.to()`` / ``.cuda()`` / ``.half()`` on the loss still reach them.
"""

from __future__ import annotations

from torch import nn


class FrozenHolder(nn.Module):
    """``nn.Module`` holding encoders as unregistered attributes.

    Args:
        **encoders: attribute name -> encoder (set to eval, gradients off).
    """

    def __init__(self, **encoders) -> None:
        super().__init__()
        names = []
        for name, enc in encoders.items():
            if isinstance(enc, nn.Module):
                enc.eval()
                for p in enc.parameters():
                    p.requires_grad_(False)
            object.__setattr__(self, name, enc)  # bypass nn.Module registration on purpose
            names.append(name)
        self._encoder_names = tuple(names)

    def encoders(self) -> dict:
        """The held encoders by attribute name."""
        return {n: getattr(self, n) for n in self._encoder_names}

    def _apply(self, fn, recurse: bool = True):
        super()._apply(fn, recurse)
        seen = set()
        for enc in self.encoders().values():
            if isinstance(enc, nn.Module) and id(enc) not in seen:
                seen.add(id(enc))
                enc._apply(fn)
        return self
