"""cnnlib.preprocess: pixels -> model input, ``(x - pixel_offset) / pixel_scale - pixel_shift``."""

import numpy as np
import pytest

from cnnlib.config import ConfigError, resolve
from cnnlib.preprocess import pixel_table, scale_images
from cnnlib.train import run

ALL_PIXELS = np.arange(256, dtype=np.uint8)


@pytest.mark.parametrize("scale,shift", [(255.0, 0.5), (255.0, 0.0), (256.0, 0.5), (1.0, 0.0), (0.3081 * 255, 0.1307 / 0.3081)])
def test_offset_zero_is_the_float32_arithmetic_of_before(scale, shift):
    """Offset 0 keeps the arithmetic every earlier run used: x * float32(1/scale) - float32(shift)."""
    before = np.multiply(ALL_PIXELS, np.float32(1.0 / scale), dtype=np.float32) - np.float32(shift)
    images = ALL_PIXELS.reshape(1, 16, 16)
    for got in (pixel_table(scale, shift), pixel_table(scale, shift, 0), scale_images(images, scale, shift).ravel(),
                scale_images(images, scale, shift, offset=0.0).ravel()):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got.view(np.uint32), before.view(np.uint32))  # bitwise, sign of zero too


def test_offset_128_gives_the_2018_pixels_exactly():
    """(x - 128) / 255 of the 2018 framework: the float64 result rounded once to float32."""
    exact = np.float32((ALL_PIXELS.astype(np.float64) - 128) / 255)
    np.testing.assert_array_equal(pixel_table(255.0, 0.0, 128), exact)
    y = scale_images(ALL_PIXELS.reshape(2, 8, 16), 255, 0, 128)
    assert y.shape == (2, 1, 8, 16) and y.dtype == np.float32
    np.testing.assert_array_equal(y.ravel(), exact)
    assert pixel_table(255.0, 0.0, 128)[128] == 0.0


def test_offset_scale_and_shift_together():
    want = np.float32((ALL_PIXELS.astype(np.float64) - 100) / 50) - np.float32(0.25)
    np.testing.assert_allclose(pixel_table(50.0, 0.25, 100), want, rtol=0, atol=1e-6)


def test_the_train_module_reexports_them():
    import cnnlib.preprocess
    import cnnlib.train

    assert cnnlib.train.scale_images is cnnlib.preprocess.scale_images
    assert cnnlib.train.pixel_table is cnnlib.preprocess.pixel_table


def test_pixel_offset_setting_is_validated_and_defaults_to_zero():
    assert resolve({})["data"]["pixel_offset"] == 0
    assert resolve({"data": {"pixel_offset": 128}})["data"]["pixel_offset"] == 128
    for bad in ("128", None, float("nan"), True):
        with pytest.raises(ConfigError, match=r"data\.pixel_offset"):
            resolve({"data": {"pixel_offset": bad}})


def test_pixel_offset_reaches_the_model_in_training_and_evaluation(recording_models, tmp_path):
    """Image i of the training set (j of the test set) has every pixel equal to i (j)."""
    train_x = np.repeat(np.arange(200, dtype=np.uint8), 28 * 28).reshape(200, 28, 28)
    test_x = np.repeat(np.arange(50, 250, 4, dtype=np.uint8), 28 * 28).reshape(50, 28, 28)
    labels = np.zeros(200, np.int64)
    cfg = {"model": {"name": "recorder"}, "epochs": 1, "batch_size": 50, "eval": {"per_epoch": 1, "subset": None},
           "data": {"pixel_offset": 128, "pixel_scale": 255.0, "pixel_shift": 0.0}}
    run(cfg, tmp_path, data=(train_x, labels, test_x, labels[:50]), progress=False)
    table = pixel_table(255.0, 0.0, 128)
    seen_train = np.concatenate([x for train, x in recording_models[0].batches if train])
    seen_eval = np.concatenate([x for train, x in recording_models[0].batches if not train][-1:])
    assert seen_train.dtype == np.float32 and seen_train.shape == (200, 1, 28, 28)
    np.testing.assert_array_equal(np.sort(seen_train[:, 0, 0, 0]), table[:200])
    np.testing.assert_array_equal(seen_eval[:, 0, 0, 0], table[test_x[:, 0, 0]])
