"""The evaluation harness behind ``photo3d eval``.

``run_eval`` scores every item of every method with the suite's per-item metrics, caches Inception
features for FID/KID, then aggregates with bootstrap CIs and, with two or more methods, compares
each method with the first one (paired differences + the VLM judge's win rate).

Output folder (files are written atomically and the two ``.jsonl`` logs are appended one complete
row at a time, so an interrupted run leaves only complete results; a row cut short by a crash is
dropped when the log is read again):

* ``suite.json``     the suite (with its cameras); a rerun with another suite is refused.
* ``results.jsonl``  one row per (method, item): metric values or unavailable records, appended
  as each item finishes (linear in the number of items).
* ``judge.jsonl``    one row per judged pair, appended the same way.
* ``results.json``   metric definitions and models, per-method aggregates, set metrics, comparisons.
* ``media/``         rig grids (and held-out views, reference grids, GLBs) for the report.
* ``cache/``         Inception features per item.

Resumable: items already in ``results.jsonl`` (and pairs in ``judge.jsonl``) are skipped. The
folder is locked while a run writes into it. An item that cannot be loaded (a broken asset) is
skipped with its reason (a warning, and ``results.json["skipped_items"]``); a rerun retries it.
"""

from __future__ import annotations

import datetime
import functools
import io
import re
import warnings
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from photo3d.cameras import heldout_cameras, rig_cameras
from photo3d.errors import InputError, Photo3DError
from photo3d.eval.bootstrap import bootstrap_ci, bootstrap_indices_ci, paired_difference
from photo3d.eval.metrics import EvalItem, build_metrics, is_unavailable, unavailable
from photo3d.eval.metrics.base import from_jsonable, to_jsonable
from photo3d.eval.sources import MethodSource, discover, reference_grid, reference_image
from photo3d.eval.suite import Suite, load_prompts
from photo3d.grid import compose_grid, split_grid
from photo3d.imaging.resample import resize
from photo3d.io import append_jsonl, atomic_write_bytes, atomic_write_json, load_image, read_jsonl, save_image
from photo3d.io.output import open_output
from photo3d.io.text import expect_object, read_json

MEDIA_VIEW_PX = 256  # per-view size of the grids kept for the report


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


class Harness:
    """One evaluation run into ``out_dir`` (see the module docstring).

    Args:
        methods: ``[(name or None, folder)]``; a ``photo3d enhance`` folder yields two methods.
        suite: what to measure.
        out_dir: results folder.
        clip_scorer: optional ready CLIP scorer (tests); judge_client: optional OpenAI-like client.
        features: optional feature extractor for FID/KID, ``[B, 3, H, W] -> [B, D]`` with a ``name``
            attribute (default: the offline Inception); its name is recorded as the model.
    """

    def __init__(
        self,
        methods: list[tuple[str | None, str | Path]],
        suite: Suite,
        out_dir: str | Path,
        clip_scorer=None,
        judge_client=None,
        progress: bool = True,
        features=None,
    ) -> None:
        self.suite, self.out = suite, Path(out_dir)
        self.sources: list[MethodSource] = [s for name, path in methods for s in discover(path, name)]
        names = [s.name for s in self.sources]
        if len(set(names)) != len(names):
            raise InputError(f"method names must be unique, got {names}; name them with --method NAME=DIR")
        self.metrics = build_metrics(suite.metrics, suite.clip_model, clip_scorer)
        self.prompts = load_prompts(suite.prompts)
        self.want_features = any(m in suite.metrics for m in ("fid", "kid"))
        self.judge_client = judge_client
        self.progress = progress
        self._inception = features

    # ---- bookkeeping -------------------------------------------------------------------------
    def _check_suite(self) -> None:
        path = self.out / "suite.json"
        doc = {
            "suite": self.suite.to_json(),
            "fingerprint": self.suite.fingerprint(),
            "cameras": {
                "rig": rig_cameras(self.suite.resolution).to_json(),
                "heldout": heldout_cameras(self.suite.resolution).to_json()
                if self.suite.cameras == "rig+heldout"
                else None,
            },
        }
        if path.is_file():
            old = expect_object(read_json(path, "suite record", f"delete {path} or choose a new output folder"), path)
            if old.get("fingerprint") != doc["fingerprint"]:
                raise InputError(
                    f"{self.out} holds results of a different suite ({old.get('fingerprint')} vs "
                    f"{doc['fingerprint']}); choose a new output folder"
                )
        atomic_write_json(path, doc)

    def _items(self, source: MethodSource) -> list[str]:
        ids = source.ids()
        wanted = set(self.suite.items)
        return [i for i in ids if i in wanted] if wanted else ids

    # ---- per item ----------------------------------------------------------------------------
    def _attach_references(self, item: EvalItem) -> None:
        if item.gt_views is None and (grid := reference_grid(self.suite, item.id)):
            item.gt_views = split_grid(load_image(grid, background=self.suite.background))
        if item.reference_image is None and (img := reference_image(self.suite, item.id)):
            item.reference_image = load_image(img, background=self.suite.background)
        if item.prompt is None:
            item.prompt = self.prompts.get(item.id)

    def _features(self, images: torch.Tensor) -> torch.Tensor:
        if self._inception is None:
            from photo3d.encoders.inception import InceptionFeatures

            self._inception = InceptionFeatures()
        return torch.cat([self._inception(images[i : i + 8]) for i in range(0, len(images), 8)])

    def _cache_features(self, key: str, item_id: str, images: torch.Tensor) -> None:
        path = self.out / "cache" / "features" / _safe(key) / f"{_safe(item_id)}.pt"
        if not path.is_file():
            buf = io.BytesIO()
            torch.save(self._features(images).half().float(), buf)
            atomic_write_bytes(path, buf.getvalue())

    def _load_features(self, key: str, item_id: str) -> torch.Tensor | None:
        path = self.out / "cache" / "features" / _safe(key) / f"{_safe(item_id)}.pt"
        return torch.load(path) if path.is_file() else None

    def _save_media(self, source: MethodSource, item: EvalItem) -> dict:
        media, folder = {}, self.out / "media" / _safe(source.name)
        small = _shrink(item.views)
        n_rig = item.n_rig
        if n_rig == 4:
            save_image(folder / f"{_safe(item.id)}.png", compose_grid(small[:4]))
            media["grid"] = f"media/{_safe(source.name)}/{_safe(item.id)}.png"
        if len(small) - n_rig == 8:
            save_image(folder / f"{_safe(item.id)}_heldout.png", compose_grid(small[n_rig:], 2, 4))
            media["heldout"] = f"media/{_safe(source.name)}/{_safe(item.id)}_heldout.png"
        if item.gt_views is not None and len(item.gt_views) == 4:
            ref = self.out / "media" / "_reference" / f"{_safe(item.id)}.png"
            if not ref.is_file():
                save_image(ref, compose_grid(_shrink(item.gt_views)))
            media["reference"] = f"media/_reference/{_safe(item.id)}.png"
        if item.glb and Path(item.glb).is_file():
            dst = folder / f"{_safe(item.id)}.glb"
            if not dst.is_file():
                atomic_write_bytes(dst, Path(item.glb).read_bytes())
            media["glb"] = f"media/{_safe(source.name)}/{_safe(item.id)}.glb"
        return media

    def _score(self, source: MethodSource, item_id: str) -> dict:
        item = source.load(item_id, self.suite)
        self._attach_references(item)
        values = {}
        for metric in self.metrics:
            values[metric.name] = metric(item)
        if self.want_features:
            self._cache_features(source.name, item_id, item.views)
            ref = (
                item.gt_views
                if item.gt_views is not None
                else (item.reference_image[None] if item.reference_image is not None else None)
            )
            if ref is not None:
                self._cache_features("_reference", item_id, ref)
        return {
            "method": source.name,
            "id": item_id,
            "n_views": len(item.views),
            "view_names": item.view_names,
            "metrics": values,
            "media": self._save_media(source, item),
            "suite": self.suite.fingerprint(),
        }

    # ---- the run -----------------------------------------------------------------------------
    def run(self) -> dict:
        """Score, aggregate, compare; writes the output folder and returns ``results.json``'s content."""
        with open_output(self.out, staged=False):  # one evaluation into a folder at a time
            self._check_suite()
            rows_path = self.out / "results.jsonl"
            rows = read_jsonl(rows_path)
            done = {(r["method"], r["id"]) for r in rows}
            todo = [(s, i) for s in self.sources for i in self._items(s) if (s.name, i) not in done]
            skipped = []
            for source, item_id in tqdm(todo, desc="eval", disable=not self.progress or not todo):
                try:
                    row = to_jsonable(self._score(source, item_id))
                except Photo3DError as exc:  # one broken asset: skip it with its reason, score the rest
                    skipped.append({"method": source.name, "id": item_id, "reason": str(exc)})
                    warnings.warn(f"{source.name}/{item_id} skipped: {exc}", stacklevel=2)
                    continue
                append_jsonl(rows_path, [row])  # after every item: a crash loses at most one item
                rows.append(row)
            if not rows:
                raise InputError(f"nothing was scored: {len(skipped)} item(s) failed, e.g. {skipped[0]['reason']}"
                                 if skipped else "nothing to score: the method folders hold no items")
            results = self._aggregate(rows)
            results["skipped_items"] = skipped
            atomic_write_json(self.out / "results.json", to_jsonable(results))
        return results

    def _aggregate(self, rows: list[dict]) -> dict:
        s = self.suite
        by_method = {src.name: {r["id"]: r for r in rows if r["method"] == src.name} for src in self.sources}
        methods = {}
        for src in self.sources:
            items = by_method[src.name]
            agg = {
                m.name: self._aggregate_metric([items[i]["metrics"].get(m.name) for i in sorted(items)])
                for m in self.metrics
            }
            methods[src.name] = {
                **src.describe(),
                "n_items": len(items),
                "metrics": agg,
                "set_metrics": self._set_metrics(src.name, sorted(items)),
            }
        definitions = {m.name: m.describe() for m in self.metrics}
        if self.want_features:
            from photo3d.encoders.inception import INCEPTION_FID_MODEL
            from photo3d.eval.metrics.distribution import FID_DEF, KID_DEF

            for name, text in (("fid", FID_DEF), ("kid", KID_DEF.format(subsets=s.kid_subsets))):
                if name in s.metrics:
                    definitions[name] = {
                        "definition": text,
                        "model": getattr(self._inception, "name", INCEPTION_FID_MODEL),
                        "higher_is_better": False,
                        "kind": "set",
                    }
        comparisons = [self._compare(self.sources[0].name, src.name, by_method) for src in self.sources[1:]]
        if "judge" in s.metrics:
            from photo3d.eval.judge import JUDGE_PROMPT

            definitions["judge"] = {
                "definition": "pairwise realism win rate of method B over A: (wins_B + 0.5 ties)"
                " / valid pairs; 2x2 rig grids shown in seeded random order; prompt: " + JUDGE_PROMPT,
                "model": f"{s.judge_model} via {s.judge_url or '(no endpoint)'}",
                "higher_is_better": True,
                "kind": "pairwise",
            }
        return {
            "photo3d_eval": 1,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "suite": s.to_json(),
            "suite_fingerprint": s.fingerprint(),
            "metrics": definitions,
            "methods": methods,
            "comparisons": comparisons,
            "rows": "results.jsonl",
        }

    def _aggregate_metric(self, values: list[Any]) -> dict:
        nums = [float(from_jsonable(v)) for v in values if v is not None and not is_unavailable(v)]
        reasons = sorted({v["reason"] for v in values if is_unavailable(v)})
        if not nums:
            return unavailable("; ".join(reasons) or "no items")
        out = bootstrap_ci(
            nums, n_resamples=self.suite.n_bootstrap, confidence=self.suite.confidence, seed=self.suite.seed
        )
        out["n_unavailable"] = len(values) - len(nums)
        return out

    def _feature_sets(self, method: str, ids: list[str]):
        fake, real = [], []
        for i in ids:
            f, r = self._load_features(method, i), self._load_features("_reference", i)
            if f is not None and r is not None:
                fake.append(f)
                real.append(r)
        return fake, real

    def _set_metrics(self, method: str, ids: list[str]) -> dict:
        if not self.want_features:
            return {}
        fake, real = self._feature_sets(method, ids)
        if len(fake) < 2:
            why = unavailable(
                f"FID/KID need at least 2 items with reference grids or images (have {len(fake)}); "
                "pass --references or --reference-images"
            )
            return {k: why for k in ("fid", "kid") if k in self.suite.metrics}
        from photo3d.eval.metrics.distribution import distribution_metrics

        point = distribution_metrics(
            torch.cat(real), torch.cat(fake), self.suite.kid_subsets, self.suite.seed
        )
        out = {}
        for name in ("fid", "kid"):
            if name not in self.suite.metrics:
                continue
            stat = self._set_statistic(name)
            out[name] = self._set_ci(  # the value and every resample come from the same estimator
                len(fake), lambda idx, f=stat: f(torch.cat([real[i] for i in idx]), torch.cat([fake[i] for i in idx]))
            )
        out["kid_subset_size"], out["n_reference_images"], out["n_render_images"] = (
            point.get("kid_subset_size"),
            point.get("n_reference"),
            point.get("n_renders"),
        )
        return out

    def _set_statistic(self, name: str):
        """``(real, fake) -> float``: the estimator of set metric ``name`` (value and resamples alike)."""
        from photo3d.eval.metrics.distribution import fid_from_features, kid_from_features

        if name == "fid":
            return fid_from_features
        return functools.partial(kid_from_features, subsets=self.suite.kid_subsets, seed=self.suite.seed)

    def _set_ci(self, n: int, statistic) -> dict:
        """Bootstrap over items for a set statistic: recentred, and only from MIN_ITEMS_FOR_CI items on."""
        from photo3d.eval.metrics.distribution import MIN_ITEMS_FOR_CI

        s = self.suite
        return bootstrap_indices_ci(n, statistic, s.n_bootstrap, s.confidence, s.seed,
                                    min_n=MIN_ITEMS_FOR_CI, recenter=True)

    def _compare(self, a: str, b: str, by_method: dict) -> dict:
        common = sorted(set(by_method[a]) & set(by_method[b]))
        s = self.suite
        diffs = {}
        for m in self.metrics:
            va = [by_method[a][i]["metrics"].get(m.name) for i in common]
            vb = [by_method[b][i]["metrics"].get(m.name) for i in common]
            keep = [
                k
                for k in range(len(common))
                if not is_unavailable(va[k])
                and not is_unavailable(vb[k])
                and va[k] is not None
                and vb[k] is not None
            ]
            if not keep:
                diffs[m.name] = unavailable("no item has this metric for both methods")
                continue
            diffs[m.name] = paired_difference(
                [float(from_jsonable(va[k])) for k in keep],
                [float(from_jsonable(vb[k])) for k in keep],
                s.n_bootstrap,
                s.confidence,
                s.seed,
            )
        if self.want_features:
            fa, ra = self._feature_sets(a, common)
            fb, _ = self._feature_sets(b, common)
            if len(fa) >= 2 and len(fa) == len(fb):

                def paired_stat(idx, f):  # B's distance to the reference minus A's, same items
                    real = torch.cat([ra[i] for i in idx])
                    return f(real, torch.cat([fb[i] for i in idx])) - f(real, torch.cat([fa[i] for i in idx]))

                for name in ("fid", "kid"):
                    if name in s.metrics:
                        stat = functools.partial(paired_stat, f=self._set_statistic(name))
                        diffs[name] = self._set_ci(len(fa), stat)
        out = {"a": a, "b": b, "n_common": len(common), "difference": "B - A", "metrics": diffs}
        if "judge" in s.metrics:
            out["judge"] = self._judge(a, b, by_method, common)
        return out

    def _judge(self, a: str, b: str, by_method: dict, common: list[str]) -> dict:
        from photo3d.eval.judge import JudgeConfig, PairwiseJudge, win_rate

        s = self.suite
        judge = PairwiseJudge(
            JudgeConfig(s.judge_url, s.judge_model, s.judge_api_key_env, s.seed), self.judge_client
        )
        reason = judge.reason()
        if reason:
            return unavailable(reason)
        path = self.out / "judge.jsonl"
        rows = read_jsonl(path)
        done = {(r["a"], r["b"], r["id"]) for r in rows}
        for item_id in tqdm(
            [i for i in common if (a, b, i) not in done], desc=f"judge {b} vs {a}", disable=not self.progress
        ):
            grids = []
            for m in (a, b):
                rel = by_method[m][item_id].get("media", {}).get("grid")
                if not rel:
                    break
                grids.append(load_image(self.out / rel))
            if len(grids) < 2:
                continue
            row = to_jsonable({"a": a, "b": b, **judge.judge_pair(item_id, grids[0], grids[1])})
            append_jsonl(path, [row])
            rows.append(row)
        common_ids = set(common)
        verdicts = [r for r in rows if r["a"] == a and r["b"] == b and r["id"] in common_ids]
        return {
            **win_rate(verdicts, s.n_bootstrap, s.seed),
            "config": {k: v for k, v in judge.config.describe().items() if k != "prompt"},
        }


def _shrink(views: torch.Tensor) -> torch.Tensor:
    if views.shape[-1] <= MEDIA_VIEW_PX:
        return views
    return resize(views.float(), MEDIA_VIEW_PX)


def run_eval(methods: list[tuple[str | None, str | Path]], suite: Suite, out_dir: str | Path, **kw) -> dict:
    """Evaluate ``methods`` on ``suite`` into ``out_dir``; see :class:`Harness`."""
    return Harness(methods, suite, out_dir, **kw).run()


__all__ = ["Harness", "run_eval"]
