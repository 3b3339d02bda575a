"""Adam with one second moment per parameter tensor: texels step in proportion to their gradient.

Why not plain Adam for a texture pyramid
    Adam divides every parameter's step by the running RMS of *its own* gradient, so each texel of
    a fine pyramid level moves by about ``lr`` per step whatever its gradient: a texel that one
    pixel of one view barely touches moves as fast as one at the centre of a feature. Feature
    losses back-propagated through a CNN give fine texels small gradients of random sign, which
    Adam turns into full-size random steps: colour speckle. Measured on the demo asset
    (``benchmarks/speckle_diagnosis.py``), this is the main cause of the speckle.

``LevelAdam``
    keeps Adam's per-texel first moment (momentum) and bias correction, but its second moment is
    the mean squared gradient over the whole tensor (one pyramid level: one scalar per level).
    Each level still gets a step of about ``lr`` at its typical texel, so coarse levels fix
    colour in a few steps as before, while within a level the step is proportional to the
    gradient: texels the views hardly constrain hardly move.
"""

from __future__ import annotations

import torch


class LevelAdam(torch.optim.Optimizer):
    """Adam whose second-moment estimate is shared by all elements of a parameter tensor.

    Args:
        params: parameters (one tensor per pyramid level, for textures).
        lr: step of a typical element (the RMS gradient's), like Adam's.
        betas: ``(beta1, beta2)`` as in Adam.
        eps: added to the root of the second moment.
        adaptive: ``True``: the second moment is a running mean, as in Adam (every level keeps
            stepping by ~``lr``); ``False``: it is measured on the first step and then kept, which
            makes this momentum SGD with one learning rate per level (steps shrink as the
            gradients do).

    Example:
        >>> p = torch.nn.Parameter(torch.zeros(4))
        >>> opt = LevelAdam([p], lr=0.1)
        >>> p.grad = torch.tensor([1.0, 0.1, 0.0, -1.0])
        >>> opt.step()
        >>> [round(v, 3) for v in p.tolist()]  # steps proportional to the gradient
        [-0.141, -0.014, 0.0, 0.141]
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-12,
                 adaptive: bool = True):
        if lr < 0:
            raise ValueError(f"lr must be >= 0, got {lr}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "adaptive": adaptive})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["m"] = torch.zeros_like(p)
                    state["v"] = torch.zeros((), dtype=p.dtype, device=p.device)
                state["step"] += 1
                t = state["step"]
                state["m"].mul_(b1).add_(g, alpha=1 - b1)
                if group["adaptive"] or t == 1:
                    state["v"].mul_(b2).add_(g.square().mean(), alpha=1 - b2)
                    state["v_hat"] = state["v"] / (1 - b2**t)
                m_hat = state["m"] / (1 - b1**t)
                v_hat = state["v_hat"]
                p.add_(m_hat / (v_hat.sqrt() + group["eps"]), alpha=-group["lr"])
        return loss
