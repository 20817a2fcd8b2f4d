"""One training epoch of cnnlib vs PyTorch on the CPU, one thread each, in one process.

Usage::

    python benchmarks/bench_epoch.py [--mnist DIR] [--repeats 5] [--check]

For the report's CNN and for the MLP (784-256-10, ReLU) it trains one epoch
(600 iterations of batch 100 over full MNIST, shuffled with a fixed seed, pixels
``x / 255 - 0.5`` converted per batch from uint8) with cnnlib and with PyTorch, the
two libraries alternating, ``--repeats`` times, and prints the median seconds per
epoch, their ratio and the target. It also times the forward pass over the 10,000
test images and measures the peak RSS of a separate process (no torch imported)
that loads MNIST and trains one cnnlib epoch of the CNN.

Both libraries start from the same weights (cnnlib's initialisation, copied into
torch) and use the same SGD settings (lr 0.015, momentum 0.9, weight decay 5e-4);
both get their batches from the same NumPy conversion
(``cnnlib.train.scale_images``, float32 arithmetic).

The exit code is 0 (this is a report); with ``--check`` it is 1 when a target fails.
"""

from __future__ import annotations

import os

# one thread for every library, set before NumPy (and its BLAS) is loaded
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_MNIST = REPO.parent / "shared" / "data" / "mnist"
ITERS, BATCH = 600, 100
LR, MOMENTUM, WEIGHT_DECAY, INIT_STD = 0.015, 0.9, 5e-4, 0.2
SEED = 2018
TARGETS = {"cnn": 0.5, "mlp": 0.8}  # cnnlib time / torch time, at most
EVAL_TARGET = 0.15  # seconds for the 10,000 test images, below
RSS_TARGET = 250.0  # MB, at most


# ----------------------------------------------------------------------------- data


def load_data(folder: Path):
    """``(train_x, train_y, test_x, test_y, note)``; random images of MNIST's shape if missing."""
    from cnnlib.data import load_mnist

    try:
        tx, ty, vx, vy = load_mnist(folder)
        return tx, ty, vx, vy, f"MNIST from {folder}"
    except Exception as exc:  # DatasetError, missing folder, ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"!! MNIST not usable at {folder}: {first}")
        print("!! falling back to random uint8 images of MNIST's shape (the timings stay comparable).")
        print("!! Pass --mnist DIR (a folder with the four MNIST IDX files) to use the real data.")
        rng = np.random.default_rng(0)
        return (rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 60000),
                rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 10000),
                "RANDOM images (MNIST not found)")


def pixel_table():
    """uint8 images -> float32 model input (N, 1, 28, 28), as cnnlib.train does it."""
    from cnnlib.train import scale_images

    return scale_images


# ----------------------------------------------------------------------------- cnnlib


def cnnlib_setup(name: str):
    from cnnlib.losses import SoftmaxCrossEntropy
    from cnnlib.models import mlp, reference_cnn
    from cnnlib.optim import SGD

    rng = np.random.default_rng(SEED)
    model = reference_cnn(init_std=INIT_STD, rng=rng) if name == "cnn" else mlp((256,), init_std=INIT_STD, rng=rng)
    opt = SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    return model, SoftmaxCrossEntropy(), opt


def cnnlib_epoch(setup, data, order, iters=ITERS):
    model, loss_fn, opt = setup
    train_x, train_y, table = data
    for it in range(iters):
        idx = order[it * BATCH : (it + 1) * BATCH]
        xb = table(train_x[idx])
        opt.zero_grad()
        loss_fn.forward(model.forward(xb), train_y[idx])
        model.backward(loss_fn.backward(), need_input_grad=False)
        opt.step()


# ----------------------------------------------------------------------------- torch


def torch_setup(name: str, like):
    import torch
    from torch import nn

    if name == "cnn":
        net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
                            nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
                            nn.Flatten(), nn.Linear(196, 10))
    else:
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    with torch.no_grad():  # same start as cnnlib: its N(0, init_std^2) weights, zero biases
        for p, q in zip(net.parameters(), like[0].parameters(), strict=True):
            p.copy_(torch.from_numpy(q.value))
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    return net, opt


def torch_epoch(setup, data, order, iters=ITERS):
    import torch
    import torch.nn.functional as F

    net, opt = setup
    train_x, train_y, table = data
    for it in range(iters):
        idx = order[it * BATCH : (it + 1) * BATCH]
        xb = torch.from_numpy(table(train_x[idx]))
        opt.zero_grad()
        loss = F.cross_entropy(net(xb), torch.from_numpy(train_y[idx]))
        loss.backward()
        opt.step()


# ----------------------------------------------------------------------------- memory


def rss_child(folder: Path) -> None:
    """Load MNIST and train one cnnlib epoch of the CNN (run as a separate process)."""
    data = load_data(folder)
    setup = cnnlib_setup("cnn")
    order = np.random.default_rng(SEED).permutation(len(data[0]))
    cnnlib_epoch(setup, (data[0], data[1], pixel_table()), order)
    assert "torch" not in sys.modules, "the memory run must not import torch"


def peak_rss_mb(folder: Path) -> float:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--rss-child", "--mnist", str(folder)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kB on Linux


# ----------------------------------------------------------------------------- report


def blas_lines():
    from threadpoolctl import threadpool_info

    out = []
    for info in threadpool_info():
        name = Path(info.get("filepath", "?")).name
        out.append(f"  {info.get('internal_api')} {info.get('version') or ''}"
                   f" kernel={info.get('architecture') or '-'} threads={info.get('num_threads')} ({name})")
    return out


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mnist", type=Path, default=DEFAULT_MNIST, help="folder of the four MNIST files")
    ap.add_argument("--repeats", type=int, default=5, help="timed epochs per model and library")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--rss-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.rss_child:
        rss_child(args.mnist)
        return 0

    rss = peak_rss_mb(args.mnist)  # first: the only child whose peak RSS is recorded

    from threadpoolctl import threadpool_limits

    import torch

    torch.set_num_threads(1)
    limits = threadpool_limits(1)  # noqa: F841 - keep the limits in force

    train_x, train_y, test_x, test_y, note = load_data(args.mnist)
    table = pixel_table()
    data = (train_x, train_y, table)
    order = np.random.default_rng(SEED).permutation(len(train_x))[: ITERS * BATCH]

    print(f"data: {note}; {ITERS} iterations x batch {BATCH}; {args.repeats} repeats, libraries alternating")
    env = [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("OPENBLAS_")]
    env.append(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    print(f"env: {' '.join(env)}; torch {torch.__version__} threads={torch.get_num_threads()}")
    print("BLAS / thread pools:")
    print("\n".join(blas_lines()))

    failed = []
    rows = []
    for name in ("cnn", "mlp"):
        mine = cnnlib_setup(name)
        theirs = torch_setup(name, mine)
        runs = {"cnnlib": (cnnlib_epoch, mine), "torch": (torch_epoch, theirs)}
        for fn, setup in runs.values():
            fn(setup, data, order, iters=30)  # warm up: buffers, caches, lazy init
        times = {"cnnlib": [], "torch": []}
        for r in range(args.repeats):
            for lib in (("cnnlib", "torch") if r % 2 == 0 else ("torch", "cnnlib")):
                fn, setup = runs[lib]
                t0 = time.perf_counter()
                fn(setup, data, order)
                times[lib].append(time.perf_counter() - t0)
        a, b = np.median(times["cnnlib"]), np.median(times["torch"])
        ok = a / b <= TARGETS[name]
        failed += [] if ok else [f"{name} epoch"]
        rows.append((name, a, b, a / b, TARGETS[name], verdict(ok)))
        if name == "cnn":
            cnn_models = (mine, theirs)

    # evaluation: forward pass over the 10,000 test images (scaled once beforehand)
    xt = table(test_x)
    model, net = cnn_models[0][0], cnn_models[1][0]
    model.predict(xt[:1000], batch_size=1000)
    ev_mine, ev_torch = [], []
    with torch.no_grad():
        xtt = torch.from_numpy(xt)
        for _ in range(max(3, args.repeats)):
            t0 = time.perf_counter()
            model.predict(xt, batch_size=1000)
            ev_mine.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for i in range(0, len(xtt), 1000):
                net(xtt[i : i + 1000])
            ev_torch.append(time.perf_counter() - t0)
    ev_a, ev_b = np.median(ev_mine), np.median(ev_torch)
    ev_ok = ev_a < EVAL_TARGET
    rss_ok = rss <= RSS_TARGET
    failed += ([] if ev_ok else ["eval"]) + ([] if rss_ok else ["memory"])

    print()
    print(f"{'model':6s} {'cnnlib s/epoch':>15s} {'torch s/epoch':>14s} {'ratio':>7s} {'target':>8s}")
    for name, a, b, ratio, target, v in rows:
        print(f"{name:6s} {a:15.3f} {b:14.3f} {ratio:7.2f} {'<= ' + str(target):>8s}  {v}")
    print(f"eval 10k test images (batch 1000): cnnlib {ev_a:.3f} s, torch {ev_b:.3f} s"
          f"   target cnnlib < {EVAL_TARGET} s  {verdict(ev_ok)}")
    print(f"peak RSS, load MNIST + 1 cnnlib CNN epoch (no torch): {rss:.0f} MB"
          f"   target <= {RSS_TARGET:.0f} MB  {verdict(rss_ok)}")
    print("all targets met" if not failed else "missed: " + ", ".join(failed))
    return 1 if (args.check and failed) else 0


if __name__ == "__main__":
    sys.exit(main())
