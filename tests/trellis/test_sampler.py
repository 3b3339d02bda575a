"""TRELLIS's flow sampler: rescaled times, (1 + s) v_c - s v_u guidance inside the interval, exact flows."""

from __future__ import annotations

import torch

from photo3d.trellis.sampler import SamplerParams, guided, guided_velocity, sample_flow, time_steps


def test_time_steps_rescale():
    assert time_steps(4) == [1.0, 0.75, 0.5, 0.25, 0.0]
    ts = time_steps(4, rescale_t=3.0)
    assert ts[0] == 1.0 and ts[-1] == 0.0
    assert abs(ts[2] - 3 * 0.5 / (1 + 2 * 0.5)) < 1e-12  # r t / (1 + (r - 1) t)
    assert all(a > b for a, b in zip(ts, ts[1:])) and ts[1] > 0.75  # more steps near t = 1


def test_guidance_formula_and_interval():
    calls = []

    def model(x, t, cond):
        calls.append((float(t[0]), float(cond.flatten()[0])))
        return x * 0 + cond.flatten()[0]  # v_c = 2 (cond), v_u = 0.5 ("neg" condition)

    cond, neg = torch.full((1, 3), 2.0), torch.full((1, 3), 0.5)
    assert float(guided(torch.tensor(2.0), torch.tensor(0.5), 3.0)) == 4 * 2.0 - 3 * 0.5
    v = guided_velocity(model, cond, neg, 3.0, (0.5, 0.95))
    x = torch.zeros(4)
    assert float(v(x, 0.7)[0]) == 6.5 and calls == [(700.0, 2.0), (700.0, 0.5)]  # network sees 1000 t
    calls.clear()
    assert float(v(x, 0.3)[0]) == 2.0 and float(v(x, 0.97)[0]) == 2.0 and len(calls) == 2  # no guidance outside
    assert float(guided_velocity(model, cond, neg, 0.0)(x, 0.7)[0]) == 2.0


def test_sample_flow_integrates_an_exact_straight_flow():
    x0 = torch.randn(10, 8, dtype=torch.float64)

    def velocity(x, t):  # straight paths to x0 (sigma_min = 0): x_t = (1 - t) x0 + t eps, v = (x_t - x0) / t
        return (x - x0) / t

    for rescale in (1.0, 3.0):
        noise = torch.randn(10, 8, dtype=torch.float64)
        torch.testing.assert_close(sample_flow(velocity, noise, 5, rescale), x0, atol=1e-12, rtol=0)


def test_params_from_pipeline_json():
    p = SamplerParams.from_dict({"steps": 25, "cfg_strength": 7.5, "cfg_interval": [0.5, 0.95], "rescale_t": 3.0, "x": 1})
    assert p == SamplerParams(25, 7.5, (0.5, 0.95), 3.0) and p.to_dict()["cfg_interval"] == [0.5, 0.95]
