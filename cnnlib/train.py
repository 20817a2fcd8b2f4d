"""The training loop: one run of one model with one seed, written to a folder.

``run(config, out_dir)`` trains and writes, atomically:

* ``metrics.json``: status (``completed`` or ``diverged``), final figures, times (wall
  and CPU), the resolved config, seed, versions and hardware, the SHA-256 of the other
  files and a checksum of itself (checked on reading: :mod:`cnnlib.runfiles`);
* ``weights.npz``: the trained parameters (``model.state_dict()`` keys, e.g. ``0.weight``);
* ``optimizer.npz``: the optimizer's momentum buffers, under the same keys (what a longer
  run needs to continue this one: ``continue_from``);
* ``history.json``: per-iteration training loss, accuracy and learning rate, and the
  test evaluations (``per_epoch`` times per epoch: intermediate ones on a fixed
  test subset, the one at each epoch end on the full test set), as columns.

Pixels become model input as :mod:`cnnlib.preprocess` says (settings
``data.pixel_offset``, ``data.pixel_scale``, ``data.pixel_shift``);
``scale_images`` and ``pixel_table`` are also importable from here.

Same config (seed included) and same thread count -> identical numbers. A NaN or
infinite training loss stops the run with status ``diverged``; the history up to
that point is kept, and non-finite numbers are written as ``null``.

A run may continue a finished run of the same settings with fewer epochs
(``run(config, out_dir, continue_from=folder)``): it starts from that run's weights,
momentum buffers, history and shuffling state and trains only the remaining epochs. The
files are the same, bit for bit, as those of training all epochs from scratch (only the
times and ``continued_from`` in ``metrics.json`` tell them apart).
"""

from __future__ import annotations

import datetime
import math
import sys
import time
from collections import deque
from pathlib import Path

import numpy as np

from cnnlib import config as config_mod
from cnnlib import env, models
from cnnlib.io import json_safe, write_json, write_npz
from cnnlib.runfiles import RUN_FILES, check_run, checksum, copy_run, file_digest, read_json_strict
from cnnlib.losses import SoftmaxCrossEntropy
from cnnlib.models import count_parameters
from cnnlib.optim import SGD
from cnnlib.preprocess import pixel_table, scale_images  # noqa: F401 - re-exported: outside code imports them from here
from cnnlib.schedules import make_schedule

#: The fixed test subset used for intermediate evaluations is drawn with this seed,
#: the same for every run, so curves of different runs are comparable.
TEST_SUBSET_SEED = 2018


def build_model(model_cfg: dict, rng: np.random.Generator, input_shape=(1, 28, 28), classes: int = 10):
    """The model named by the resolved ``model`` settings, from :data:`cnnlib.models.MODELS`,
    for images of ``input_shape`` (channels, height, width) in ``classes`` classes."""
    return models.MODELS[model_cfg["name"]](model_cfg, rng, tuple(input_shape), int(classes))


def data_shape(train_x: np.ndarray, train_y: np.ndarray, test_y: np.ndarray) -> tuple[tuple[int, int, int], int]:
    """``((1, H, W), classes)`` of a dataset: one channel of the images' size, and one class
    per label value up to the largest in either split (10 for MNIST)."""
    classes = int(max(train_y.max(initial=0), test_y.max(initial=0))) + 1
    return (1, *train_x.shape[1:]), max(classes, 2)


def evaluate(model, images: np.ndarray, labels: np.ndarray, pixels=(255.0, 0.5), batch_size: int = 1000):
    """Mean loss and accuracy of ``model`` on uint8 images ``(N, 28, 28)`` with labels ``(N,)``.

    Returns ``(loss, accuracy)``. ``pixels``: ``(scale, shift)`` or ``(scale, shift, offset)``
    of :func:`cnnlib.preprocess.scale_images`.
    """
    loss_fn = SoftmaxCrossEntropy()
    total_loss, correct = 0.0, 0
    with np.errstate(all="ignore"):
        for i in range(0, len(images), batch_size):
            logits = model.forward(scale_images(images[i : i + batch_size], *pixels), train=False)
            y = labels[i : i + batch_size]
            total_loss += loss_fn.forward(logits, y) * len(y)
            correct += int(np.count_nonzero(logits.argmax(axis=1) == y))
    n = max(len(images), 1)
    return total_loss / n, correct / n


def _finite(x):
    return x if x is not None and math.isfinite(x) else None


class _Progress:
    """A one-line progress bar on a terminal; one line per epoch otherwise."""

    def __init__(self, epochs: int, iters: int, stream=None, enabled=True):
        self.stream = stream or sys.stderr
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.enabled = enabled
        self.epochs, self.iters = epochs, iters
        self._last = 0.0

    def step(self, epoch: int, it: int, loss: float) -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if now - self._last < 0.2 and it + 1 < self.iters:
            return
        self._last = now
        done = (it + 1) / self.iters
        bar = "#" * int(done * 30)
        self.stream.write(f"\repoch {epoch + 1}/{self.epochs} [{bar:<30}] {done:4.0%}  loss {loss:.4f} ")
        self.stream.flush()

    def epoch_end(self, epoch: int, acc: float, loss: float, seconds: float) -> None:
        if not self.enabled:
            return
        end = "\n"
        prefix = "\r" if self.tty else ""
        self.stream.write(f"{prefix}epoch {epoch + 1}/{self.epochs}: test accuracy {acc:.4f}, "
                          f"test loss {loss:.4f} ({seconds:.1f} s){' ' * 20 if self.tty else ''}{end}")
        self.stream.flush()


def run(config: dict, out_dir: str | Path, data=None, progress: bool = True, continue_from=None) -> dict:
    """Train as ``config`` says and write the run's files (:data:`cnnlib.runfiles.RUN_FILES`)
    to ``out_dir``.

    Args:
        config: run settings (see :data:`cnnlib.config.DEFAULTS`); validated here.
        data: ``(train_x, train_y, test_x, test_y)`` already loaded, or None to read
            ``config["data"]["dir"]``: with :func:`cnnlib.data.load_idx` when
            ``data.sha256`` gives the files' checksums (any dataset in MNIST's format), else
            with :func:`cnnlib.data.load_mnist` (MNIST, checked against its published
            checksums). The model's input shape and classes come from the data
            (:func:`data_shape`).
        progress: show progress on stderr.
        continue_from: None, or the folder of a finished run whose settings are these but
            with fewer epochs (:func:`cnnlib.config.continuation_identity`; its files are
            checked): train only the remaining epochs, starting where it stopped. If that run
            diverged, this one diverges at the same iteration: its files are copied
            (:func:`cnnlib.runfiles.copy_run`).
    Returns:
        the metrics dict that was written.
    """
    from threadpoolctl import threadpool_limits

    cfg = config_mod.resolve(config)
    out_dir = Path(out_dir)
    start = None
    if continue_from is not None:
        start = _start_state(continue_from, cfg)
        if start["metrics"]["status"] != "completed":
            return copy_run(continue_from, out_dir, cfg, str(continue_from))
    if data is None:
        from cnnlib.data import load_idx, load_mnist

        sha256 = cfg["data"]["sha256"]
        data = load_idx(cfg["data"]["dir"], sha256) if sha256 else load_mnist(cfg["data"]["dir"])
    train_x, train_y, test_x, test_y = data
    shape = data_shape(train_x, train_y, test_y)  # of the whole dataset, before any limit
    if cfg["data"]["train_limit"]:
        train_x, train_y = train_x[: cfg["data"]["train_limit"]], train_y[: cfg["data"]["train_limit"]]
    if cfg["data"]["test_limit"]:
        test_x, test_y = test_x[: cfg["data"]["test_limit"]], test_y[: cfg["data"]["test_limit"]]
    with threadpool_limits(limits=cfg["threads"]):
        return _train(cfg, out_dir, train_x, train_y, test_x, test_y, progress, start, shape)


def _start_state(folder, cfg: dict) -> dict:
    """The checked files of the run in ``folder`` that a run of ``cfg`` continues:
    ``{"folder", "metrics", "history", "weights", "velocity"}``. Raises ValueError naming
    the folder when its settings are not the first epochs of ``cfg``'s (ConfigError, a
    ValueError) or a file is damaged (:class:`~cnnlib.runfiles.RunFileError`)."""
    folder = Path(folder)
    metrics = check_run(folder)
    theirs = metrics["config"]
    if config_mod.continuation_identity(theirs) != config_mod.continuation_identity(cfg):
        raise config_mod.ConfigError(f"cannot continue {folder}: its settings differ from this run's in more than "
                                     "'epochs'")
    if theirs["epochs"] >= cfg["epochs"]:
        raise config_mod.ConfigError(f"cannot continue {folder}: it has {theirs['epochs']} epochs, this run "
                                     f"{cfg['epochs']}; it must have fewer")
    with np.load(folder / "weights.npz") as w, np.load(folder / "optimizer.npz") as v:
        weights = {k: w[k] for k in w.files}
        velocity = {k: v[k] for k in v.files}
    # check_run has matched history.json against its recorded digest: no second check
    return {"folder": folder, "metrics": metrics, "history": read_json_strict(folder / "history.json"),
            "weights": weights, "velocity": velocity}


def _train(cfg, out_dir, train_x, train_y, test_x, test_y, progress, start=None, shape=((1, 28, 28), 10)):
    t_start = time.perf_counter()
    seed = cfg["seed"]
    init_seq, shuffle_seq = np.random.SeedSequence(seed).spawn(2)
    input_shape, classes = shape
    model = build_model(cfg["model"], np.random.default_rng(init_seq), input_shape, classes)
    shuffle_rng = np.random.default_rng(shuffle_seq)
    opt_cfg = cfg["optimizer"]
    opt = SGD(model.parameters(), lr=opt_cfg["lr"], momentum=opt_cfg["momentum"],
              weight_decay=opt_cfg["weight_decay"])
    schedule = make_schedule(cfg["schedule"], opt_cfg["lr"])
    loss_fn = SoftmaxCrossEntropy()
    pixels = (cfg["data"]["pixel_scale"], cfg["data"]["pixel_shift"], cfg["data"]["pixel_offset"])

    bs = cfg["batch_size"]
    iters = len(train_x) // bs
    if iters == 0:
        raise config_mod.ConfigError(
            f"'batch_size' {bs} is larger than the {len(train_x)} training images; lower it")
    if cfg["iterations_per_epoch"]:
        iters = min(iters, cfg["iterations_per_epoch"])
    if cfg["images_per_epoch"]:
        iters = min(iters, cfg["images_per_epoch"] // bs)
    epochs = cfg["epochs"]
    ev = cfg["eval"]
    per_epoch = min(ev["per_epoch"], iters)
    eval_points = {round((j + 1) * iters / per_epoch) for j in range(per_epoch)}  # includes iters
    subset = np.arange(len(test_x))
    if ev["subset"] and ev["subset"] < len(test_x):
        subset = np.sort(np.random.default_rng(TEST_SUBSET_SEED).permutation(len(test_x))[: ev["subset"]])
    sub_x, sub_y = test_x[subset], test_y[subset]

    hist = {"iteration": [], "epoch": [], "lr": [], "loss": [], "accuracy": []}
    evals = {"iteration": [], "epoch": [], "test_loss": [], "test_accuracy": [], "images": []}
    epoch_rows = []
    train_seconds = eval_seconds = train_cpu = 0.0
    iteration_cpu = []  # process CPU time of each training iteration
    recent = deque(maxlen=cfg["loss_window"])
    status, diverged_at = "completed", None
    bar = _Progress(epochs, iters, enabled=progress)

    def record_eval(iteration, full):
        nonlocal eval_seconds
        t0 = time.perf_counter()
        xs, ys = (test_x, test_y) if full else (sub_x, sub_y)
        loss, acc = evaluate(model, xs, ys, pixels, ev["batch_size"])
        eval_seconds += time.perf_counter() - t0
        evals["iteration"].append(iteration)
        evals["epoch"].append(iteration / iters)
        evals["test_loss"].append(loss)
        evals["test_accuracy"].append(acc)
        evals["images"].append(len(ys))
        return loss, acc

    first_epoch = iteration = 0
    continued, continued_seconds = None, 0.0
    if start is None:
        record_eval(0, full=False)
    else:  # the state after the last epoch of the run being continued
        model.load_state_dict(start["weights"])
        names = list(model.state_dict())
        opt.load_state_dict({"velocity": [start["velocity"].get(name) for name in names]})
        history, before = start["history"], start["metrics"]
        if (history["iterations_per_epoch"], history["batch_size"]) != (iters, bs):
            raise config_mod.ConfigError(f"cannot continue {start['folder']}: it ran {history['iterations_per_epoch']} "
                                         f"iterations of {history['batch_size']} per epoch, this run {iters} of {bs}")
        first_epoch = before["config"]["epochs"]
        for _ in range(first_epoch):  # the shuffles of the epochs already trained
            shuffle_rng.permutation(len(train_x))
        hist, evals = history["train"], history["eval"]
        iteration = first_epoch * iters
        epoch_rows = list(before["epochs"])
        recent.extend(hist["loss"][-recent.maxlen :])
        t = before["time"]
        train_seconds, eval_seconds, train_cpu = t["train_seconds"], t["eval_seconds"], t["train_cpu_seconds"]
        continued = {"run": str(start["folder"]), "epochs": first_epoch}
        continued_seconds = t["total_seconds"]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for epoch in range(first_epoch, epochs):
            t_epoch = time.perf_counter()
            order = shuffle_rng.permutation(len(train_x))
            epoch_losses, epoch_correct = [], 0
            for it in range(iters):
                t0, c0 = time.perf_counter(), time.process_time()
                idx = order[it * bs : (it + 1) * bs]
                xb = scale_images(train_x[idx], *pixels)
                yb = train_y[idx]
                lr = schedule(iteration, epoch, math.fsum(recent) / len(recent) if recent else math.inf)
                opt.lr = lr
                opt.zero_grad()
                logits = model.forward(xb)
                loss = loss_fn.forward(logits, yb)
                correct = int(np.count_nonzero(logits.argmax(axis=1) == yb))
                iteration += 1
                hist["iteration"].append(iteration)
                hist["epoch"].append(iteration / iters)
                hist["lr"].append(lr)
                hist["loss"].append(loss)
                hist["accuracy"].append(correct / bs)
                if not math.isfinite(loss):
                    train_seconds += time.perf_counter() - t0
                    train_cpu += time.process_time() - c0
                    status, diverged_at = "diverged", iteration
                    break
                model.backward(loss_fn.backward(), need_input_grad=False)
                opt.step()
                train_seconds += time.perf_counter() - t0
                iteration_cpu.append(time.process_time() - c0)
                train_cpu += iteration_cpu[-1]
                recent.append(loss)
                epoch_losses.append(loss)
                epoch_correct += correct
                bar.step(epoch, it, loss)
                if it + 1 in eval_points:
                    t_loss, t_acc = record_eval(iteration, full=(it + 1 == iters))
            if status == "diverged":
                break
            epoch_rows.append({
                "epoch": epoch + 1,
                "test_loss": t_loss,
                "test_accuracy": t_acc,
                "train_loss_mean": float(np.mean(epoch_losses)),
                "train_accuracy_mean": epoch_correct / (iters * bs),
                "seconds": time.perf_counter() - t_epoch,
            })
            bar.epoch_end(epoch, t_acc, t_loss, time.perf_counter() - t_epoch)

    if status == "diverged" and bar.enabled:
        sys.stderr.write(f"\nthe training loss became {hist['loss'][-1]} at iteration {diverged_at}: "
                         "run stopped as diverged\n")
    last = epoch_rows[-1] if epoch_rows else None
    final = {
        "test_accuracy": last["test_accuracy"] if last and status == "completed" else None,
        "test_loss": last["test_loss"] if last and status == "completed" else None,
        "train_loss": _finite(hist["loss"][-1]) if hist["loss"] else None,
        "train_loss_epoch_mean": last["train_loss_mean"] if last and status == "completed" else None,
        "train_accuracy_epoch_mean": last["train_accuracy_mean"] if last and status == "completed" else None,
        "epochs_completed": len(epoch_rows),
        "iterations": iteration,
    }
    total = time.perf_counter() - t_start + continued_seconds
    finished = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    metrics = {
        "status": status,
        "diverged_at_iteration": diverged_at,
        "final": final,
        "time": {
            "train_seconds": train_seconds,
            "eval_seconds": eval_seconds,
            "total_seconds": total,
            "train_seconds_per_epoch": train_seconds / max(iteration / iters, 1e-12),
            # process CPU time of the training iterations: it grows far less than wall time
            # when other jobs share the cores
            "train_cpu_seconds": train_cpu,
            # per epoch: the median iteration's CPU time times the iterations of an epoch, so
            # that the first iterations (warm-up) and those right after a switch to another job
            # (cold caches) do not count; it changes little with how many jobs share the cores.
            # A continued run: the median of the iterations it trained itself
            "train_cpu_seconds_per_epoch": float(np.median(iteration_cpu)) * iters if iteration_cpu else None,
            "finished_utc": finished.isoformat(),
            # a continued run: the part of total_seconds that was the continued run's
            **({"continued_seconds": continued_seconds} if continued else {}),
        },
        "epochs": epoch_rows,
        "model": {"name": cfg["model"]["name"], "parameters": count_parameters(model),
                  "input_shape": list(input_shape), "classes": classes},
        "seed": seed,
        "config": cfg,
        "versions": env.versions(),
        "hardware": {**env.hardware(), "threads": cfg["threads"]},
    }
    if continued:
        metrics["continued_from"] = continued
    history = {"iterations_per_epoch": iters, "batch_size": bs, "train": hist, "eval": evals}
    state = model.state_dict()
    write_npz(out_dir / "weights.npz", state)
    velocity = opt.state_dict()["velocity"]
    write_npz(out_dir / "optimizer.npz", {name: v for name, v in zip(state, velocity) if v is not None})
    write_json(out_dir / "history.json", history)
    # metrics.json last (its presence means the run finished), recording the other files
    # and a checksum of itself: cnnlib.runfiles.check_run checks them all when they are read
    metrics["files"] = {name: file_digest(out_dir / name) for name in RUN_FILES if name != "metrics.json"}
    metrics = json_safe(metrics)
    metrics["checksum"] = checksum(metrics)
    write_json(out_dir / "metrics.json", metrics)
    return metrics
