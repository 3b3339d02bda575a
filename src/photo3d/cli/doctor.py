"""``photo3d doctor``: which paper models, backends and keys this machine has, and what each
command would run instead (nothing is loaded or downloaded)."""

from __future__ import annotations

import argparse
import json

EPILOG = """\
examples:
  photo3d doctor                 # plain report
  photo3d doctor --json          # the same as JSON (models, backends, api, commands)
  PHOTO3D_CLIP=/models/clip-vit-base-patch32 photo3d doctor   # check a local copy
  photo3d doctor --trellis weights/TRELLIS-image-large --mvdiffusion weights/step1x3d

Weights are looked for where each loader reads them: its PHOTO3D_* variable, else the Hugging
Face cache (HF_HOME / HF_HUB_CACHE); pyiqa heads in the torch hub cache. API keys are reported as
set or not set, never printed.
"""


def register(subparsers) -> None:
    p = subparsers.add_parser("doctor", help="which paper models / backends are available here, and the stand-ins",
                              description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--trellis", metavar="DIR", help="a TRELLIS-image-large folder to check (generate --weights DIR)")
    p.add_argument("--photo3d-trellis", metavar="DIR", help="Photo3D's fine-tuned TRELLIS folder (--checkpoint DIR)")
    p.add_argument("--texgaussian", metavar="PATH", help="a TexGaussian checkpoint file or folder (feedforward --weights)")
    p.add_argument("--mvdiffusion", metavar="DIR", help="an SDXL + Step1X-3D adapter folder (mvdiffusion --model DIR)")
    p.set_defaults(_run=run, _outputs=None)  # reads only


def run(args: argparse.Namespace) -> int:
    from photo3d.doctor import diagnose

    report = diagnose({"trellis": args.trellis, "photo3d_trellis": args.photo3d_trellis,
                       "texgaussian": args.texgaussian, "mvdiffusion": args.mvdiffusion})
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.format())
    return 0
