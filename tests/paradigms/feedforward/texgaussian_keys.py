"""Test oracle: the tensor names and shapes of TexGaussian's released PBR checkpoint.

Written out from the released architecture (ymxbj/TexGaussian ``core/options.py`` Objaverse
preset and ``core/octree_unet.py``), independently of photo3d's module code: 64-channel base,
multipliers (1, 2, 4, 8, 8), 2 ResNet blocks per down level, 3 per up level, cross-attention
(kdim = vdim = 768, so separate q/k/v projections) on down levels 3-4, the mid block and up
levels 0-1, 4 input channels (ND) and 10 outputs (7 + 3 material). ocnn layouts:
``OctreeConv.weights [27, Cin, Cout]``, ``bias [Cout]``; ``OctreeGroupNorm.weights/bias [1, C]``;
``Conv1x1.linear`` an ``nn.Linear``. The CLIP text tower follows OpenAI CLIP ViT-L/14 naming.
"""

from __future__ import annotations

BASE, MULT, CTX = 64, (1, 2, 4, 8, 8), 768
DOWN_ATTN, UP_ATTN = (False, False, False, True, True), (True, True, False, False, False)


def _conv(prefix: str, cin: int, cout: int) -> dict:
    return {f"{prefix}.weights": (27, cin, cout), f"{prefix}.bias": (cout,)}


def _norm(prefix: str, c: int) -> dict:
    return {f"{prefix}.weights": (1, c), f"{prefix}.bias": (1, c)}


def _resnet(prefix: str, cin: int, cout: int) -> dict:
    out = {**_norm(f"{prefix}.norm1", cin), **_conv(f"{prefix}.conv1", cin, cout),
           **_norm(f"{prefix}.norm2", cout), **_conv(f"{prefix}.conv2", cout, cout)}
    if cin != cout:
        out.update({f"{prefix}.shortcut.linear.weight": (cout, cin), f"{prefix}.shortcut.linear.bias": (cout,)})
    return out


def _attn(prefix: str, dim: int) -> dict:
    return {f"{prefix}.cross_norm.weight": (dim,), f"{prefix}.cross_norm.bias": (dim,),
            f"{prefix}.cross_attn.q_proj_weight": (dim, dim), f"{prefix}.cross_attn.k_proj_weight": (dim, CTX),
            f"{prefix}.cross_attn.v_proj_weight": (dim, CTX), f"{prefix}.cross_attn.in_proj_bias": (3 * dim,),
            f"{prefix}.cross_attn.out_proj.weight": (dim, dim), f"{prefix}.cross_attn.out_proj.bias": (dim,)}


def released_unet_shapes() -> dict[str, tuple[int, ...]]:
    """``{key: shape}`` of the U-Net (no ``model.`` prefix)."""
    ch = [BASE * m for m in MULT]
    keys = _conv("conv_in", 4, ch[0])
    prev = ch[0]
    for lvl, c in enumerate(ch):
        for j in range(2):
            keys.update(_resnet(f"down_blocks.{lvl}.nets.{j}", prev if j == 0 else c, c))
            if DOWN_ATTN[lvl]:
                keys.update(_attn(f"down_blocks.{lvl}.attns.{j}", c))
        if lvl < 4:
            keys.update(_conv(f"down_blocks.{lvl}.downsample", c, c))
        prev = c
    for j in range(3):
        keys.update(_resnet(f"mid_block.nets.{j}", ch[-1], ch[-1]))
    for j in range(2):
        keys.update(_attn(f"mid_block.attns.{j}", ch[-1]))
    # decoder: per level the skips it concatenates, in the order they are consumed
    skips = [ch[0]] + [c for lvl, c in enumerate(ch) for _ in range(3 if lvl < 4 else 2)]
    up = ch[::-1]
    x = up[0]
    for lvl, c in enumerate(up):
        for j in range(3):
            cin = x + skips.pop()
            keys.update(_resnet(f"up_blocks.{lvl}.nets.{j}", cin, c))
            if UP_ATTN[lvl]:
                keys.update(_attn(f"up_blocks.{lvl}.attns.{j}", c))
            x = c
        if lvl < 4:
            keys.update(_conv(f"up_blocks.{lvl}.upsample", c, c))
    keys.update(_norm("norm_out", ch[0]))
    keys.update(_conv("conv_out", ch[0], 10))
    keys.update(_conv("conv", 10, 10))
    return keys


def clip_l14_text_shapes() -> dict[str, tuple[int, ...]]:
    """OpenAI CLIP ViT-L/14 text tower (visual deleted), as ``text_encoder.model.*`` holds it."""
    w, keys = 768, {"token_embedding.weight": (49408, 768), "positional_embedding": (77, 768),
                    "ln_final.weight": (768,), "ln_final.bias": (768,), "text_projection": (768, 768),
                    "logit_scale": ()}
    for i in range(12):
        p = f"transformer.resblocks.{i}"
        keys.update({f"{p}.attn.in_proj_weight": (3 * w, w), f"{p}.attn.in_proj_bias": (3 * w,),
                     f"{p}.attn.out_proj.weight": (w, w), f"{p}.attn.out_proj.bias": (w,),
                     f"{p}.ln_1.weight": (w,), f"{p}.ln_1.bias": (w,), f"{p}.ln_2.weight": (w,), f"{p}.ln_2.bias": (w,),
                     f"{p}.mlp.c_fc.weight": (4 * w, w), f"{p}.mlp.c_fc.bias": (4 * w,),
                     f"{p}.mlp.c_proj.weight": (w, 4 * w), f"{p}.mlp.c_proj.bias": (w,)})
    return keys


def released_checkpoint_meta(with_text: bool = True) -> dict:
    """The full wrapper state dict as meta tensors: ``model.*``, ``ema_model.*`` (+ ``text_encoder.model.*``)."""
    import torch

    unet = released_unet_shapes()
    out = {f"{copy}.{k}": torch.empty(s, device="meta") for copy in ("model", "ema_model") for k, s in unet.items()}
    if with_text:
        out.update({f"text_encoder.model.{k}": torch.empty(s, device="meta") for k, s in clip_l14_text_shapes().items()})
    return out
