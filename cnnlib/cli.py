"""Command line: ``python -m cnnlib train|download-mnist|verify-mnist``."""

from __future__ import annotations

import argparse
import sys


def check_out(out) -> None:
    """Raise ConfigError unless ``out`` is (or can be made) a writable folder: checked before
    any download or training, so a run never dies at the end for want of a place to write."""
    import os
    import tempfile
    from pathlib import Path

    from cnnlib.config import ConfigError

    path = Path(out)
    for parent in [path, *path.parents]:
        if parent.exists() and not parent.is_dir():
            what = "is a file" if parent == path else f"is under {parent}, which is a file"
            raise ConfigError(f"--out {out}: {what}; give a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None


def _train(args) -> int:
    from cnnlib import config as config_mod
    from cnnlib.train import run

    cfg = config_mod.load(args.config) if args.config else {}
    if args.mnist:
        cfg.setdefault("data", {})["dir"] = args.mnist
    if args.seed is not None:
        cfg["seed"] = args.seed
    resolved = config_mod.resolve(cfg)  # also checks the config before any download
    folder = resolved["data"]["dir"]
    check_out(args.out)
    # MNIST is downloaded when missing; other data (data.sha256 names its files) never is: the
    # folder is the user's, and training checks it holds those files
    if not args.mnist and not args.no_download and not resolved["data"]["sha256"]:
        from cnnlib.data import DatasetError, download_mnist, verify_mnist

        try:
            verify_mnist(folder)
        except DatasetError:
            print(f"MNIST is not complete in {folder}: downloading it", file=sys.stderr)
            download_mnist(folder)  # keeps files that are already there and correct
    metrics = run(cfg, args.out, progress=not args.quiet, continue_from=args.continue_from)
    final = metrics["final"]
    if metrics["status"] == "completed":
        print(f"{args.out}: test accuracy {final['test_accuracy']:.4f}, test loss {final['test_loss']:.4f}, "
              f"train time {metrics['time']['train_seconds']:.1f} s")
    else:
        print(f"{args.out}: diverged at iteration {metrics['diverged_at_iteration']}")
    return 0


def _download(args) -> int:
    from cnnlib.data import cache_folder, copy_mnist, download_mnist

    folder = args.folder or cache_folder()
    path = copy_mnist(args.source, folder) if args.source else download_mnist(folder)
    print(f"MNIST is ready in {path}")
    return 0


def _verify(args) -> int:
    from cnnlib.data import verify_mnist

    verify_mnist(args.folder)
    print(f"{args.folder}: all four MNIST files are complete and correct")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnlib", description="Train NumPy CNNs on MNIST.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train one model, write metrics.json and history.json")
    p.add_argument("--config", help="YAML/JSON run config (missing settings take the defaults)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--mnist", help="a folder that already holds MNIST (overrides data.dir; nothing is downloaded)")
    p.add_argument("--no-download", action="store_true", help="do not download MNIST into data.dir when missing")
    p.add_argument("--seed", type=int, help="random seed (overrides seed)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--continue-from", metavar="DIR",
                   help="a finished run of the same settings with fewer epochs: train only the remaining epochs")
    p.set_defaults(func=_train)
    p = sub.add_parser("download-mnist", help="download and verify MNIST into a folder")
    p.add_argument("folder", nargs="?",
                   help="where to put the files (default: ~/.cache/cnnlib/mnist, where the tests look)")
    p.add_argument("--from", dest="source", metavar="DIR",
                   help="copy the four files from this folder (checked first) instead of downloading")
    p.set_defaults(func=_download)
    p = sub.add_parser("verify-mnist", help="check the four MNIST files in a folder")
    p.add_argument("folder")
    p.set_defaults(func=_verify)
    args = parser.parse_args(argv)

    from cnnlib.config import ConfigError
    from cnnlib.data import DatasetError
    from cnnlib.runfiles import RunFileError

    try:
        return args.func(args)
    except (ConfigError, DatasetError, RunFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was written for the unfinished run", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
