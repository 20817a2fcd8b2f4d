import math

import pytest

from cnnlib import schedules as S
from cnnlib.config import ConfigError, resolve


def test_constant_and_step():
    assert S.constant(0, 0, 3.0, lr=0.1) == 0.1
    f = S.make_schedule({"name": "step", "gamma": 0.5, "step_epochs": 2}, lr=0.2)
    assert [f(0, e, 1.0) for e in range(5)] == [0.2, 0.2, 0.1, 0.1, 0.05]


@pytest.mark.parametrize("loss,lr", [(math.inf, 0.2), (2.0, 0.2), (1.0, 0.1), (0.7, 0.1), (0.5, 0.05),
                                     (0.3, 0.05), (0.2, 0.04), (0.1, 0.02), (0.03, 0.006), (0.01, 0.005)])
def test_dynamic_rule_of_the_2018_report(loss, lr):
    f = S.make_schedule("dynamic", lr=0.015)  # the base rate plays no part in this rule
    assert f(0, 0, loss) == pytest.approx(lr)


def test_dynamic_thresholds_are_data():
    f = S.make_schedule({"name": "dynamic", "thresholds": [[2.0, 0.3]], "floor": 0.01, "divisor": 10}, lr=0.1)
    assert f(0, 0, 3.0) == 0.3
    assert f(0, 0, 1.5) == pytest.approx(0.15)
    assert f(0, 0, 0.05) == 0.01


def test_unknown_schedule_and_setting():
    with pytest.raises(ValueError, match="unknown schedule 'cosine'"):
        S.make_schedule("cosine", lr=0.1)
    with pytest.raises(ValueError, match="no setting gama"):
        S.make_schedule({"name": "step", "gama": 0.5}, lr=0.1)


@pytest.mark.parametrize("cfg,key", [
    ({"optimizer": {"lr": -0.1}}, "optimizer.lr"),
    ({"optimizer": {"learning_rate": 0.1}}, "optimizer.learning_rate"),
    ({"epochs": 0}, "epochs"),
    ({"epochs": 1.5}, "epochs"),
    ({"model": {"name": "resnet"}}, "model.name"),
    ({"model": {"init_std": 0}}, "model.init_std"),
    ({"eval": {"per_epoch": 0}}, "eval.per_epoch"),
    ({"data": {"folder": "x"}}, "data.folder"),
    ({"schedule": {"name": "cosine"}}, "schedule"),
    ({"optimizer": {"momentum": 1.0}}, "optimizer.momentum"),
    ({"typo": 1}, "typo"),
])
def test_bad_config_names_the_key(cfg, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        resolve(cfg)


def test_config_defaults_are_the_2018_baseline():
    cfg = resolve({})
    assert cfg["optimizer"] == {"lr": 0.015, "momentum": 0.9, "weight_decay": 0.0005}
    assert cfg["batch_size"] == 100 and cfg["model"]["init_std"] == 0.2
    assert resolve({"optimizer": {"lr": 0.1}})["optimizer"]["momentum"] == 0.9  # merged key by key


@pytest.mark.parametrize("settings, key", [
    ({"schedule": {"name": "dynamic", "floor": -1}}, "schedule.floor"),
    ({"schedule": {"name": "dynamic", "thresholds": [[1, -0.5]]}}, "schedule.thresholds"),
    ({"schedule": {"name": "dynamic", "thresholds": [[-1, 0.5]]}}, "schedule.thresholds"),
    ({"schedule": {"name": "dynamic", "thresholds": []}}, "schedule.thresholds"),
    ({"schedule": {"name": "dynamic", "divisor": 0}}, "schedule.divisor"),
    ({"schedule": {"name": "step", "step_epochs": 0}}, "schedule.step_epochs"),
    ({"schedule": {"name": "step", "step_epochs": 1.5}}, "schedule.step_epochs"),
    ({"schedule": {"name": "step", "gamma": "abc"}}, "schedule.gamma"),
    ({"schedule": {"name": "step", "gamma": 0}}, "schedule.gamma"),
    ({"batch_size": 5000, "data": {"train_limit": 2000}}, "batch_size"),
    ({"batch_size": 60001}, "batch_size"),
    ({"epochs": 1001}, "epochs"),
    ({"iterations_per_epoch": 100001}, "iterations_per_epoch"),
])
def test_what_a_run_would_reject_is_rejected_when_resolved(settings, key):
    with pytest.raises(ConfigError, match=f"'{key}'"):
        resolve(settings)


def test_the_resolved_schedule_spells_out_every_setting():
    assert resolve({"schedule": {"name": "dynamic"}})["schedule"] == {
        "name": "dynamic", "thresholds": [[1.0, 0.2], [0.5, 0.1], [0.2, 0.05]], "floor": 0.005, "divisor": 5.0}
    assert resolve({"schedule": {"name": "step", "gamma": 0.5}})["schedule"] == {
        "name": "step", "gamma": 0.5, "step_epochs": 1}
    assert resolve({"epochs": 1000, "batch_size": 60000})["epochs"] == 1000  # the limits themselves are fine
