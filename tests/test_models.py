"""cnnlib.models: the one registry of models (used by config validation and training)."""

import numpy as np
import pytest

from cnnlib import models
from cnnlib.models import reference_cnn
from cnnlib.config import ConfigError, resolve
from cnnlib.train import run


def synthetic_data(rng, n_train=200, n_test=50):
    """Random uint8 MNIST-shaped images and labels: ``(train_x, train_y, test_x, test_y)``."""
    return (rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8), rng.integers(0, 10, n_train),
            rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8), rng.integers(0, 10, n_test))


TINY = {"epochs": 1, "batch_size": 50, "eval": {"per_epoch": 1, "subset": None}}


def test_every_registry_name_is_a_valid_model_name_and_builds():
    rng = np.random.default_rng(0)
    assert models.MODELS
    for name, build in models.MODELS.items():
        cfg = resolve({"model": {"name": name}})
        model = build(cfg["model"], rng)
        assert model.forward(np.zeros((2, 1, 28, 28), np.float32), train=False).shape == (2, 10)


def test_unknown_model_name_lists_the_registry(monkeypatch):
    monkeypatch.setitem(models.MODELS, "extra_net", lambda settings, rng: None)
    with pytest.raises(ConfigError, match=r"'model\.name'") as err:
        resolve({"model": {"name": "resnet"}})
    for name in models.MODELS:
        assert name in str(err.value)


def test_a_registered_model_is_accepted_and_trained(recording_models, tmp_path):
    cfg = {**TINY, "model": {"name": "recorder", "init_std": 0.3}}
    assert resolve(cfg)["model"]["name"] == "recorder"  # validation reads the registry
    m = run(cfg, tmp_path, data=synthetic_data(np.random.default_rng(1)), progress=False)
    assert len(recording_models) == 1  # training built it through the registry
    model = recording_models[0]
    assert model.settings == resolve(cfg)["model"]  # with the resolved model settings
    assert isinstance(model.rng, np.random.Generator)
    assert len(model.train_batches()) == 200 // 50
    assert m["model"] == {"name": "recorder", "parameters": 10, "input_shape": [1, 28, 28], "classes": 10}
    assert model.data_shape == ((1, 28, 28), 10)  # what the data gives, not constants


def test_the_models_take_their_input_shape_and_classes_from_the_data(recording_models, tmp_path):
    rng = np.random.default_rng(3)
    data = (rng.integers(0, 256, (120, 12, 16), dtype=np.uint8), rng.integers(0, 4, 120),
            rng.integers(0, 256, (30, 12, 16), dtype=np.uint8), rng.integers(0, 4, 30))
    run({**TINY, "model": {"name": "recorder"}}, tmp_path / "r", data=data, progress=False)
    assert recording_models[-1].data_shape == ((1, 12, 16), 4)
    for name in ("reference_cnn", "mlp"):
        m = run({**TINY, "batch_size": 30, "model": {"name": name}}, tmp_path / name, data=data, progress=False)
        assert m["model"]["input_shape"] == [1, 12, 16] and m["model"]["classes"] == 4
        built = models.MODELS[name](resolve({"model": {"name": name}})["model"], rng, (1, 12, 16), 4)
        assert built.forward(np.zeros((2, 1, 12, 16), np.float32), train=False).shape == (2, 4)
    with pytest.raises(ValueError, match="divisible by 4"):
        reference_cnn(input_shape=(1, 10, 16))


def test_removing_a_model_from_the_registry_makes_its_name_invalid(monkeypatch):
    monkeypatch.delitem(models.MODELS, "mlp")
    with pytest.raises(ConfigError, match="model.name"):
        resolve({"model": {"name": "mlp"}})


def test_every_epoch_visits_every_image_once_in_a_new_order(recording_models, tmp_path):
    rng = np.random.default_rng(5)
    n = 300
    train_x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    train_x[:, 0, 0], train_x[:, 0, 1] = np.arange(n) % 256, np.arange(n) // 256  # the image's index
    data = (train_x, rng.integers(0, 10, n), train_x[:20], rng.integers(0, 10, 20))
    cfg = {**TINY, "epochs": 3, "model": {"name": "recorder"}}
    run(cfg, tmp_path, data=data, progress=False)
    batches = recording_models[0].train_batches()
    assert len(batches) == 3 * n // 50

    def index(x):  # undo the pixel scaling x / 255 - 0.5
        px = np.rint((x[:, 0, 0, :2] + 0.5) * 255).astype(int)
        return px[:, 0] + 256 * px[:, 1]

    per_epoch = np.array([index(b) for b in batches]).reshape(3, -1)
    for order in per_epoch:
        assert sorted(order.tolist()) == list(range(n))  # every image once
    assert not np.array_equal(per_epoch[0], per_epoch[1]) and not np.array_equal(per_epoch[1], per_epoch[2])


# --------------------------------------------------------------------------- linear_init_std


def _weights(model):
    return {k: v for k, v in model.state_dict().items() if k.endswith("weight")}


@pytest.mark.parametrize("linear_init_std", [None, 0.1])
def test_reference_cnn_draws_conv1_conv2_linear_in_that_order(linear_init_std):
    """The draws are those of one Generator in layer order; None draws the linear weight at init_std."""
    model = reference_cnn(init_std=0.2, linear_init_std=linear_init_std, rng=np.random.default_rng(7))
    rng = np.random.default_rng(7)
    want = {
        "0.weight": rng.normal(0.0, 0.2, size=(4, 1, 3, 3)).astype(np.float32),
        "3.weight": rng.normal(0.0, 0.2, size=(4, 4, 3, 3)).astype(np.float32),
        "7.weight": rng.normal(0.0, 0.2 if linear_init_std is None else linear_init_std,
                               size=(10, 196)).astype(np.float32),
    }
    got = _weights(model)
    assert got.keys() == want.keys()
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)


def _std_tolerance(std, n):
    """4 standard errors of the sample std of n normal draws: std / sqrt(2 (n - 1)) each."""
    return 4 * std / np.sqrt(2 * (n - 1))


@pytest.mark.parametrize("init_std,linear_init_std", [(0.2, 0.1), (0.01, 0.5), (0.3, None)])
def test_linear_weight_has_the_linear_init_std(init_std, linear_init_std):
    model = reference_cnn(init_std=init_std, linear_init_std=linear_init_std, rng=3)
    w = model.layers[7].weight.value
    want = init_std if linear_init_std is None else linear_init_std
    assert abs(w.std() - want) < _std_tolerance(want, w.size), (w.std(), want)
    conv = np.concatenate([model.layers[0].weight.value.ravel(), model.layers[3].weight.value.ravel()])
    assert abs(conv.std() - init_std) < _std_tolerance(init_std, conv.size)


def test_linear_init_std_changes_no_conv_weight():
    base = reference_cnn(init_std=0.2, rng=11).state_dict()
    for linear_init_std in (0.1, 3.0):
        other = reference_cnn(init_std=0.2, linear_init_std=linear_init_std, rng=11).state_dict()
        for key in ("0.weight", "0.bias", "3.weight", "3.bias"):
            np.testing.assert_array_equal(other[key], base[key], err_msg=key)
        # the same normal draws, scaled: only the scale of the linear weight changed
        np.testing.assert_allclose(other["7.weight"] / linear_init_std, base["7.weight"] / 0.2, rtol=1e-6)


def test_reference_cnn_rejects_the_old_positional_rng():
    with pytest.raises(TypeError, match="rng="):
        reference_cnn(0.3, np.random.default_rng(0))
    for bad in (0, -0.1, float("nan"), "0.1", True):
        with pytest.raises(ValueError, match="linear_init_std"):
            reference_cnn(0.3, bad)


def test_linear_init_std_setting_is_validated():
    assert resolve({})["model"]["linear_init_std"] is None
    assert resolve({"model": {"linear_init_std": 0.1}})["model"]["linear_init_std"] == 0.1
    for bad in (0, -1, "0.1", float("inf"), [0.1]):
        with pytest.raises(ConfigError, match=r"model\.linear_init_std"):
            resolve({"model": {"linear_init_std": bad}})


def test_linear_init_std_reaches_the_model_through_training(tmp_path):
    """With lr 0 the saved weights are the initial ones: the run's linear weight has the setting's std."""
    frozen = {"epochs": 1, "iterations_per_epoch": 1, "batch_size": 50, "eval": {"per_epoch": 1, "subset": None},
              "optimizer": {"lr": 0.0, "momentum": 0.0, "weight_decay": 0.0}, "model": {"init_std": 0.2}}
    data = synthetic_data(np.random.default_rng(5))
    run(frozen, tmp_path / "a", data=data, progress=False)
    run({**frozen, "model": {"init_std": 0.2, "linear_init_std": 0.05}}, tmp_path / "b", data=data, progress=False)
    with np.load(tmp_path / "a" / "weights.npz") as a, np.load(tmp_path / "b" / "weights.npz") as b:
        a, b = dict(a), dict(b)
    assert abs(b["7.weight"].std() - 0.05) < _std_tolerance(0.05, b["7.weight"].size)
    np.testing.assert_allclose(b["7.weight"] / 0.05, a["7.weight"] / 0.2, rtol=1e-6)
    for key in ("0.weight", "3.weight"):
        np.testing.assert_array_equal(a[key], b[key])
