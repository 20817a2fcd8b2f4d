"""First conv layer of a trained model: test images and their feature maps, for the report's figure."""

from pathlib import Path

import numpy as np

from cnnlib.data import load_idx
from cnnlib.io import write_npz
from cnnlib.preprocess import scale_images
from cnnlib.train import build_model, data_shape

with open(snakemake.log[0], "w") as log:
    settings = snakemake.params.run
    train_x, train_y, test_x, test_y = load_idx(Path(snakemake.input.data).parent, settings["data"]["sha256"])
    # the first test image of each of the first `digits` classes that have one, in class order
    picks = [int(np.flatnonzero(test_y == d)[0]) for d in np.unique(test_y)[: snakemake.params.digits]]
    shape = data_shape(train_x, train_y, test_y)
    model = build_model(settings["model"], np.random.default_rng(0), *shape)  # weights replaced below
    with np.load(snakemake.input.weights) as state:
        model.load_state_dict(dict(state))
    conv1, relu1 = model.layers[0], model.layers[1]
    data = settings["data"]
    x = scale_images(test_x[picks], data["pixel_scale"], data["pixel_shift"], data["pixel_offset"])
    maps = conv1.forward(x)
    write_npz(snakemake.output[0], {
        "images": test_x[picks], "labels": test_y[picks], "indices": np.array(picks),
        "conv1": maps, "relu1": relu1.forward(maps), "weight": conv1.weight.value,
        "bias": conv1.bias.value,
    })
    print(f"feature maps of test images {picks}", file=log)
