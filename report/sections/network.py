"""Section "The networks and their implementation": a layer table per network the report
compares (one per architecture in use), the 2018 protocol when the study has the 2018
reference, and the gradient check as one sentence (its table is in Appendix C)."""

from __future__ import annotations

import numpy as np

from cnnlib.layers import Conv2D
from cnnlib.train import build_model
from report.sections.common import Inputs, table

DISPLAY_WINDOW = 50


def _shape(shape) -> str:
    return " × ".join(str(d) for d in shape[1:])


def layer_rows(model, input_shape) -> list[list[str]]:
    """Layer, output shape (per image) and parameter count, computed from the model itself."""
    shape = (1, *input_shape)
    rows = [["input", _shape(shape), "0"]]
    for layer in model.layers:
        shape = layer.output_shape(shape)
        rows.append([repr(layer), _shape(shape), f"{sum(p.value.size for p in layer.parameters()):,}"])
    return rows


def pixel_formula(data: dict) -> str:
    """The model input of a pixel x (0..255) under the run's ``data`` settings."""
    offset, scale, shift = data["pixel_offset"], data["pixel_scale"], data["pixel_shift"]
    x = f"(x − {offset:g})" if offset else "x"
    text = f"{x} / {scale:g}"
    return f"{text} − {shift:g}" if shift else text


def _protocol(inp: Inputs) -> dict | None:
    """The settings that define the 2018 protocol, as the baseline's run used them, and where
    each comes from (``protocol.sources`` of the reference file)."""
    ref = inp.reference
    if not ref or "protocol" not in ref or not inp.models or not inp.plan.get("baseline"):
        return None
    cfg = inp.models[0]["config"]
    m, d, o, sources = cfg["model"], cfg["data"], cfg["optimizer"], ref["protocol"]["sources"]
    linear = m.get("linear_init_std")
    rows = [
        ["Conv layers' initial std", f"{m['init_std']:g} (N(0, std²), biases 0)", sources["init_std"]],
        ["Linear layer's initial std", f"{linear:g}" if linear is not None else f"{m['init_std']:g} (as the conv layers)",
         sources["linear_init_std"]],
        ["Pixels", pixel_formula(d), sources["pixels"]],
        ["Optimiser", f"momentum SGD, lr {o['lr']:g}, momentum {o['momentum']:g}, weight decay {o['weight_decay']:g}",
         sources["optimizer"]],
        ["Printed loss and accuracy", f"candidates in Appendix A (display window {DISPLAY_WINDOW})", sources["display"]],
    ]
    others = []
    for metrics, (e, v, _) in list(zip(inp.models, inp.plan["model_runs"]))[1:]:
        c = metrics["config"]
        if c["model"]["name"] == m["name"]:
            continue
        linear = c["model"].get("linear_init_std")
        others.append(f"{e}/{v} ({c['model']['name']}) has no 2018 code to follow: every layer starts at std "
                      f"{c['model']['init_std']:g}" + (f" (linear layers {linear:g})" if linear is not None else "")
                      + f", pixels are {pixel_formula(c['data'])}.")
    return {"framework": ref["protocol"]["framework"], "others": others,
            "table": table(["Setting", "Value in our runs", "Where it comes from"], rows, ["l", 0.3, 0.42], "small")}


def gradient_sentence(gradcheck: list[dict]) -> str:
    """The gradient check in one sentence (its table: Appendix C)."""
    if not gradcheck:
        return "No gradient check was run."
    worst = max(float(r["relative_error"]) for r in gradcheck)
    tolerance = float(gradcheck[0]["tolerance"])
    layers = sorted({r["layer"] for r in gradcheck})
    failed = [r for r in gradcheck if r["passed"] not in (True, "True")]
    verdict = (f"all {len(gradcheck)} gradients agree" if not failed
               else f"{len(failed)} of {len(gradcheck)} gradients DISAGREE")
    return (f"Gradient check (central differences in float64 against backward, on {', '.join(layers)}): {verdict} "
            f"with finite differences, largest relative error {worst:.1e} (tolerance {tolerance:.0e}; Appendix C).")


def build(inp: Inputs) -> dict:
    """The section's context: ``networks`` (title, table), ``protocol`` (or None),
    ``gradients`` (a sentence), ``safeguards`` (the 2018 report's four problems, with the
    reference), ``convolution`` (a network has a conv layer: the report gives its formulas)."""
    networks, convolution = [], False
    for metrics, (e, v, s) in zip(inp.models, inp.plan["model_runs"]):
        model_cfg = metrics["config"]["model"]
        shape = tuple(metrics["model"].get("input_shape") or (1, 28, 28))
        classes = metrics["model"].get("classes", 10)
        model = build_model(model_cfg, np.random.default_rng(0), shape, classes)
        convolution = convolution or any(isinstance(layer, Conv2D) for layer in model.layers)
        networks.append({"title": f"{model_cfg['name']}, as run {e}/{v} (seed {s}) trained it; shapes per image.",
                         "table": table(["Layer", "Output shape", "Parameters"], layer_rows(model, shape),
                                        [0.55, "r", "r"], "small")})
    return {"networks": networks, "protocol": _protocol(inp), "gradients": gradient_sentence(inp.gradcheck),
            "safeguards": bool(inp.reference), "convolution": convolution}
