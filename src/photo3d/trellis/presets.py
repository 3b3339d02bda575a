"""Network configurations and sampler settings (torch-free): TRELLIS-image-large's and a tiny one.

``TRELLIS_IMAGE_LARGE`` holds the numbers of the published configs (microsoft/TRELLIS
``configs/generation/ss_flow_img_dit_L_16l8_fp16.json``, ``slat_flow_img_dit_L_64l8p2_fp16.json``,
``configs/vae/ss_vae_conv3d_16l8_fp16.json``, ``slat_vae_enc_dec_gs_swin8_B_64l8_fp16.json``),
in the ``{"name", "args"}`` form of the checkpoints' ``ckpts/<name>.json``. A real weights folder
is always read from its own JSON files; these presets document the published model, size the
synthetic checkpoints of the tests and the equivalence benchmark, and are what ``TINY`` scales down.

Sampler defaults follow TRELLIS-image-large's ``pipeline.json``: Euler flow sampling, 25 steps,
guidance ``(1 + s) v_c - s v_u`` with s = 7.5 (structure) / 3.0 (SLAT) applied for t in
[0.5, 0.95], time rescale 3.0, sigma_min 1e-5. They were not re-read from the hub here (no hub
access); a weights folder's own ``pipeline.json`` always wins over them.
"""

from __future__ import annotations

import copy

# pipeline.json model keys of the four networks this package implements
NETWORK_KEYS = ("sparse_structure_flow_model", "sparse_structure_decoder", "slat_flow_model", "slat_decoder_gs")

SLAT_NORMALIZATION = {
    "mean": [-2.1687545776367188, -0.004347046371549368, -0.13352349400520325, -0.08418072760105133,
             -0.5271206498146057, 0.7238689064979553, -1.1414450407028198, 1.2039363384246826],
    "std": [2.377650737762451, 2.386378288269043, 2.124418020248413, 2.1748552322387695,
            2.663944721221924, 2.371192216873169, 2.6217446327209473, 2.684523105621338],
}

SAMPLERS = {
    "sparse_structure_sampler": {"name": "FlowEulerGuidanceIntervalSampler", "args": {"sigma_min": 1e-5},
                                 "params": {"steps": 25, "cfg_strength": 7.5, "cfg_interval": [0.5, 0.95],
                                            "rescale_t": 3.0}},
    "slat_sampler": {"name": "FlowEulerGuidanceIntervalSampler", "args": {"sigma_min": 1e-5},
                     "params": {"steps": 25, "cfg_strength": 3.0, "cfg_interval": [0.5, 0.95], "rescale_t": 3.0}},
}

GS_REPRESENTATION = {
    "lr": {"_xyz": 1.0, "_features_dc": 1.0, "_opacity": 1.0, "_scaling": 1.0, "_rotation": 0.1},
    "perturb_offset": True, "voxel_size": 1.5, "num_gaussians": 32, "2d_filter_kernel_size": 0.1,
    "3d_filter_kernel_size": 9e-4, "scaling_bias": 4e-3, "opacity_bias": 0.1, "scaling_activation": "softplus",
}

TRELLIS_IMAGE_LARGE = {
    "sparse_structure_flow_model": {"name": "SparseStructureFlowModel", "args": {
        "resolution": 16, "in_channels": 8, "out_channels": 8, "model_channels": 1024, "cond_channels": 1024,
        "num_blocks": 24, "num_heads": 16, "mlp_ratio": 4, "patch_size": 1, "pe_mode": "ape",
        "qk_rms_norm": True, "use_fp16": True}},
    "sparse_structure_decoder": {"name": "SparseStructureDecoder", "args": {
        "out_channels": 1, "latent_channels": 8, "num_res_blocks": 2, "num_res_blocks_middle": 2,
        "channels": [512, 128, 32], "use_fp16": True}},
    "slat_flow_model": {"name": "SLatFlowModel", "args": {
        "resolution": 64, "in_channels": 8, "out_channels": 8, "model_channels": 1024, "cond_channels": 1024,
        "num_blocks": 24, "num_heads": 16, "mlp_ratio": 4, "patch_size": 2, "num_io_res_blocks": 2,
        "io_block_channels": [128], "pe_mode": "ape", "qk_rms_norm": True, "use_fp16": True}},
    "slat_decoder_gs": {"name": "SLatGaussianDecoder", "args": {
        "resolution": 64, "model_channels": 768, "latent_channels": 8, "num_blocks": 12, "num_heads": 12,
        "mlp_ratio": 4, "attn_mode": "swin", "window_size": 8, "use_fp16": True,
        "representation_config": GS_REPRESENTATION}},
}

# DINOv2 ViT-L/14 with 4 registers at 518^2 (torch.hub dinov2_vitl14_reg): 1 + 4 + 37^2 tokens of 1024
DINOV2_TOKENS = (1374, 1024)

def _scaled(base: dict, changes: dict) -> dict:
    out = copy.deepcopy(base)
    for key, args in changes.items():
        out[key]["args"].update(args)
    return out


# A 16^3 voxel grid, widths 32-64 and one or two blocks: seconds on a CPU, same code paths.
TINY = _scaled(TRELLIS_IMAGE_LARGE, {
    "sparse_structure_flow_model": {"resolution": 4, "model_channels": 64, "cond_channels": 32, "num_blocks": 2,
                                    "num_heads": 4, "mlp_ratio": 2, "use_fp16": False},
    "sparse_structure_decoder": {"num_res_blocks": 1, "num_res_blocks_middle": 1, "channels": [32, 16, 8],
                                 "use_fp16": False},
    "slat_flow_model": {"resolution": 16, "model_channels": 64, "cond_channels": 32, "num_blocks": 2, "num_heads": 4,
                        "mlp_ratio": 2, "io_block_channels": [16], "use_fp16": False},
    "slat_decoder_gs": {"resolution": 16, "model_channels": 32, "num_blocks": 2, "num_heads": 2, "mlp_ratio": 2,
                        "window_size": 4, "use_fp16": False,
                        "representation_config": {**GS_REPRESENTATION, "num_gaussians": 4}},
})

# transformers Dinov2WithRegistersConfig of the conditioner: ViT-L/14 with 4 registers at 518^2 (the
# published facebook/dinov2-with-registers-large), and a 1-layer tiny one (1374 tokens of 32)
DINOV2 = {
    "trellis-image-large": {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "mlp_ratio": 4,
                            "image_size": 518, "patch_size": 14, "num_register_tokens": 4},
    "tiny": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "mlp_ratio": 2,
             "image_size": 518, "patch_size": 14, "num_register_tokens": 4},
}

PRESETS = {"trellis-image-large": TRELLIS_IMAGE_LARGE, "tiny": TINY}


def preset(name: str) -> dict:
    """A deep copy of the named preset (``"trellis-image-large"`` or ``"tiny"``)."""
    if name not in PRESETS:
        raise ValueError(f"unknown TRELLIS preset {name!r}; choose from {sorted(PRESETS)}")
    return copy.deepcopy(PRESETS[name])
