"""report/reference_2018.yaml against the 2018 text, and nnreport.reproduction on synthetic summaries."""

import csv
import io
import math
import re
from pathlib import Path

import pytest
import yaml

from nnreport.reproduction import (
    QUANTITIES,
    agreement,
    compare,
    disagreements,
    load_reference,
    validate_reference,
)

REPO = Path(__file__).resolve().parents[1]
REFERENCE_YAML = REPO / "report" / "reference_2018.yaml"
REPORT_TEXT = Path(__file__).resolve().parents[2] / "shared/reference/pa2-cnn-report-2018.txt"

# report section number -> workflow experiment
SECTIONS = {
    "3.1": "baseline",
    "3.2.1": "learning_rate",
    "3.2.2": "weight_decay",
    "3.2.3": "momentum",
    "3.2.4": "init_std",
}
PREFIX = {"learning_rate": "lr", "weight_decay": "wd", "momentum": "momentum", "init_std": "std"}

NUM = r"(\d+(?:\.\d+)?)"
SEP = r"[ \t]+"
# a sweep table row: setting (maybe <i>italic</i>), loss, accuracy, time(second), colour
SWEEP_ROW = re.compile(
    rf"^(?:<i>)?([\w.]+)(?:</i>)?{SEP}{NUM}{SEP}{NUM}{SEP}{NUM}{SEP}([a-z]+)[ \t]*$", re.M
)
# the baseline result: a header line, then loss, accuracy, time(second)
BASELINE_ROW = re.compile(
    rf"^loss{SEP}accuracy{SEP}time\(second\)[ \t]*\n{NUM}{SEP}{NUM}{SEP}{NUM}[ \t]*$", re.M
)
HEADING = re.compile(r"^(\d+(?:\.\d+)*) ([A-Za-z][A-Za-z ]*?)[ \t]*$", re.M)  # body headings: "3.2.1 learning rate"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def text() -> str:
    assert REPORT_TEXT.is_file(), (
        f"the 2018 report text is missing: expected {REPORT_TEXT} "
        "(../shared/reference/pa2-cnn-report-2018.txt next to the repository)"
    )
    return REPORT_TEXT.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sections(text) -> dict[str, tuple[str, str]]:
    """{section number: (heading title, body text)} of the report body (not its contents list)."""
    heads = list(HEADING.finditer(text))
    out = {}
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        out[m.group(1)] = (m.group(2).strip(), text[m.end():end])
    missing = set(SECTIONS) - set(out)
    assert not missing, f"sections {sorted(missing)} not found in {REPORT_TEXT}"
    return out


@pytest.fixture(scope="module")
def reference() -> dict:
    return load_reference(REFERENCE_YAML)


@pytest.fixture(scope="module")
def text_rows(sections) -> list[dict]:
    """Every result-table row parsed out of the text, in the text's order."""
    rows = []
    for number, experiment in SECTIONS.items():
        body = sections[number][1]
        if experiment == "baseline":
            found = [("baseline", *m.groups(), None) for m in BASELINE_ROW.finditer(body)]
        else:
            found = [m.groups() for m in SWEEP_ROW.finditer(body)]
        assert found, f"no table rows parsed in section {number}"
        for setting, loss, acc, secs, color in found:
            rows.append({"experiment": experiment, "setting": setting, "loss": float(loss),
                         "accuracy": float(acc), "seconds": float(secs), "color": color,
                         "as_written": (loss, acc, secs)})
    return rows


# --------------------------------------------------------------------------- the YAML vs the text


def test_reference_loads_and_has_the_text_row_count(reference, text_rows):
    assert len(reference["rows"]) == len(text_rows)
    assert len(text_rows) == 1 + 5 + 3 + 3 + 3


def test_every_table_line_is_parsed(sections, text_rows):
    """No row of a result table escapes the row regexes (e.g. by a format oddity)."""
    looks_like_row = re.compile(r"^(?:<i>)?[\w.]+(?:</i>)?(?:[ \t]+\S+){2,}[ \t]*$")
    n = 0
    for number in SECTIONS:
        for line in sections[number][1].splitlines():
            first = line.split("\t")[0].replace("<i>", "").replace("</i>", "")
            if "\t" in line and looks_like_row.match(line) and re.fullmatch(r"[\d.]+|dynamic", first):
                n += 1
    n -= 1  # the baseline settings row of 3.1 (learning rate, weight decay, ...) is not a result
    assert n == len(text_rows)


def test_rows_equal_the_text(reference, text_rows):
    for ref, txt in zip(reference["rows"], text_rows, strict=True):
        where = f"{ref['experiment']}/{ref['variant']}"
        assert ref["experiment"] == txt["experiment"], where
        assert str(ref.get("setting")) == txt["setting"], where
        assert ref["loss"] == txt["loss"], f"{where}: loss"
        assert ref["accuracy"] == txt["accuracy"], f"{where}: accuracy"
        assert ref["seconds"] == txt["seconds"], f"{where}: seconds"
        assert ref.get("color") == txt["color"], f"{where}: color"


def test_numbers_kept_as_written(reference, text_rows):
    """The YAML source spells each row's numbers exactly as the text does (0.140, not 0.14)."""
    lines = [ln for ln in REFERENCE_YAML.read_text(encoding="utf-8").splitlines()
             if ln.lstrip().startswith("- {experiment:")]
    assert len(lines) == len(text_rows)
    for line, txt in zip(lines, text_rows):
        loss, acc, secs = txt["as_written"]
        assert f"loss: {loss}," in line, line
        assert f"accuracy: {acc}," in line, line
        assert f"seconds: {secs}," in line, line


def test_variant_names_match_settings(reference):
    for row in reference["rows"]:
        exp, var, setting = row["experiment"], row["variant"], str(row["setting"])
        if exp == "baseline":
            assert var == "baseline"
            continue
        if setting == "dynamic":
            assert var == "lr-dynamic"
            assert row["value"] is None
            continue
        number = float(setting)
        assert row["value"] == number, var
        text = repr(number)
        text = text[:-2] if text.endswith(".0") else text  # the workflow's value_name
        assert var == f"{PREFIX[exp]}-{text}", (var, setting)


def test_variants_exist_in_the_workflow_config(reference):
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    names = {}
    for exp, spec in config["experiments"].items():
        variants = set((spec.get("variants") or {}))
        sweep = spec.get("sweep")
        if sweep:
            for value in sweep["values"]:
                text = repr(float(value))
                variants.add(f"{sweep['prefix']}-{text[:-2] if text.endswith('.0') else text}")
        names[exp] = variants
    for row in reference["rows"]:
        assert row["variant"] in names.get(row["experiment"], set()), row


def test_epochs_match_the_text(reference, sections):
    by_exp = {}
    for row in reference["rows"]:
        by_exp.setdefault(row["experiment"], set()).add(row["epochs"])
    for number, experiment in SECTIONS.items():
        stated = {int(n) for n in re.findall(r"(\d+) epochs", sections[number][1])}
        spec = reference["experiments"][experiment]
        assert by_exp[experiment] == {spec["epochs"]}
        if stated:
            assert stated == {spec["epochs"]}, (number, stated)
        else:  # the text does not say: the YAML must explain where its number comes from
            assert spec.get("epochs_note"), f"{experiment}: epochs not in the text and no epochs_note"


def test_sections_and_headers(reference, sections):
    for number, experiment in SECTIONS.items():
        spec = reference["experiments"][experiment]
        title, body = sections[number]
        assert spec["section"] == f"{number} {title}"
        header = "\t".join(spec["header"])
        assert re.search(rf"^{re.escape(header)}[ \t]*$", body, re.M), (experiment, header)


def test_environment_and_baseline_settings(reference, text):
    env = reference["environment"]

    def one(pattern):
        m = re.search(pattern, text, re.M)
        assert m, pattern
        return m.groups()

    assert one(r"^Operating System: (.+?)\s*$") == (env["os"],)
    assert one(r"^Python: Python (\S+)") == (env["python"],)
    assert one(r"^numpy: numpy (\S+)") == (env["numpy"],)
    assert one(r"^scipy: (\S+)") == (env["scipy"],)
    assert one(r"^CPU: (.+?), Memory: (.+?)\s*$") == (env["cpu"], env["memory"])
    values = one(rf"^learningrate{SEP}weightdecay{SEP}momentum{SEP}batchsize{SEP}init_std[ \t]*\n"
                 rf"{NUM}{SEP}{NUM}{SEP}{NUM}{SEP}{NUM}{SEP}{NUM}")
    base = reference["baseline_settings"]
    assert [float(v) for v in values] == [
        base["learning_rate"], base["weight_decay"], base["momentum"],
        base["batch_size"], base["init_std"],
    ]


def test_quotes_are_verbatim(reference, text):
    flat = " ".join(text.split())
    quotes = [q for spec in reference["experiments"].values() for q in spec.get("statements", [])]
    quotes += reference["cnn_vs_mlp"]["claims"] + reference["summary_conclusions"]
    assert quotes
    for quote in quotes:
        assert " ".join(quote.split()) in flat, quote


def test_notes_present(reference):
    notes = reference["notes"]
    assert "training loss" in notes["loss"] and "test loss" in notes["loss"]
    assert REFERENCE_YAML.read_text(encoding="utf-8").lstrip().startswith("#")
    assert "by hand" in REFERENCE_YAML.read_text(encoding="utf-8").split("\n\n")[0].lower()


# --------------------------------------------------------------------------- load_reference


def _doc(**overrides):
    row = {"experiment": "baseline", "variant": "baseline", "loss": 0.251, "accuracy": 0.959,
           "seconds": 183.273, "epochs": 2}
    row.update(overrides)
    return {"rows": [row]}


@pytest.mark.parametrize("change, message", [
    ({"loss": None}, "loss"),
    ({"accuracy": 1.5}, "accuracy"),
    ({"seconds": "183"}, "seconds"),
    ({"epochs": 2.5}, "epochs"),
    ({"variant": ""}, "variant"),
])
def test_validate_rejects_bad_rows(change, message):
    with pytest.raises(ValueError, match=message) as err:
        validate_reference(_doc(**change))
    assert "row 0" in str(err.value)


def test_validate_missing_key_and_duplicate(tmp_path):
    doc = _doc()
    del doc["rows"][0]["seconds"]
    with pytest.raises(ValueError, match=r"row 0 \(baseline/baseline\): missing seconds"):
        validate_reference(doc)
    doc = _doc()
    doc["rows"].append(dict(doc["rows"][0]))
    path = tmp_path / "ref.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ValueError, match=r"row 1 \(baseline/baseline\): repeats row 0"):
        load_reference(path)
    validate_reference(_doc())  # the good one passes
    with pytest.raises(ValueError, match="rows"):
        validate_reference({"rows": []})


def test_validate_epochs_against_experiments():
    doc = _doc()
    doc["experiments"] = {"baseline": {"epochs": 3}}
    with pytest.raises(ValueError, match="epochs 2 differs"):
        validate_reference(doc)
    doc["experiments"] = {"baseline": {"epochs": 2}}
    validate_reference(doc)


# --------------------------------------------------------------------------- compare & co.

STATS = ("test_accuracy", "test_loss", "train_loss", "train_seconds", "seconds_per_epoch")
COLUMNS = ["experiment", "variant", "setting", "runs", "completed", "diverged", "epochs",
           "parameters"] + [f"{s}_{k}" for s in STATS for k in ("mean", "std", "min", "max")]

REF = {"rows": [
    {"experiment": "baseline", "variant": "baseline", "loss": 0.251, "accuracy": 0.959,
     "seconds": 183.273, "epochs": 2},
    {"experiment": "init_std", "variant": "std-0.01", "loss": 3.257, "accuracy": 0.098,
     "seconds": 275.912, "epochs": 3},
    {"experiment": "init_std", "variant": "std-1", "loss": 0.226, "accuracy": 0.961,
     "seconds": 282.762, "epochs": 3},
]}


def summary(experiment, variant, *, acc=(0.955, 0.962), train_loss=(0.2, 0.3),
            test_loss=(0.1, 0.14), seconds=(60.0, 62.0), n=5, diverged=0):
    """A summary row with the given (min, max) ranges; mean in the middle, std = range / 4."""
    row = {"experiment": experiment, "variant": variant, "setting": variant, "runs": n + diverged,
           "completed": n, "diverged": diverged, "epochs": 2, "parameters": 1234}
    for name, (lo, hi) in [("test_accuracy", acc), ("train_loss", train_loss),
                           ("test_loss", test_loss), ("train_seconds", seconds),
                           ("seconds_per_epoch", (seconds[0] / 2, seconds[1] / 2))]:
        row.update({f"{name}_mean": (lo + hi) / 2, f"{name}_std": (hi - lo) / 4,
                    f"{name}_min": lo, f"{name}_max": hi})
    return row


def via_csv(rows):
    """Rows as csv.DictReader gives them back from results/summary/*.csv (all strings)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return list(csv.DictReader(io.StringIO(buf.getvalue())))


def pick(rows, variant, quantity):
    [row] = [r for r in rows if r["variant"] == variant and r["quantity"] == quantity]
    return row


def test_compare_shape_and_fields():
    rows = compare(REF, {"baseline": [summary("baseline", "baseline")]})
    assert len(rows) == len(REF["rows"]) * len(QUANTITIES)
    assert [r["quantity"] for r in rows[:4]] == ["accuracy", "loss", "loss_vs_test", "time"]
    acc = pick(rows, "baseline", "accuracy")
    assert acc["value_2018"] == 0.959 and acc["column"] == "test_accuracy"
    assert acc["mean"] == pytest.approx(0.9585) and acc["n"] == 5
    assert acc["difference"] == pytest.approx(0.9585 - 0.959)
    assert acc["within_range"] is True and acc["missing"] is False


def test_within_range_flips_when_the_range_moves():
    inside = compare(REF, {"baseline": [summary("baseline", "baseline", acc=(0.95, 0.96))]})
    outside = compare(REF, {"baseline": [summary("baseline", "baseline", acc=(0.96, 0.97))]})
    edge = compare(REF, {"baseline": [summary("baseline", "baseline", acc=(0.959, 0.97))]})
    assert pick(inside, "baseline", "accuracy")["within_range"] is True
    assert pick(outside, "baseline", "accuracy")["within_range"] is False
    assert pick(edge, "baseline", "accuracy")["within_range"] is True  # inclusive


def test_loss_compares_with_train_loss_not_test_loss():
    rows = compare(REF, {"baseline": [summary("baseline", "baseline", train_loss=(0.2, 0.3),
                                              test_loss=(0.1, 0.14))]})
    loss, vs_test = pick(rows, "baseline", "loss"), pick(rows, "baseline", "loss_vs_test")
    assert loss["column"] == "train_loss" and loss["within_range"] is True
    assert vs_test["column"] == "test_loss" and vs_test["within_range"] is False
    assert vs_test["mean"] == pytest.approx(0.12)


def test_missing_variant_and_experiment():
    rows = compare(REF, {"init_std": [summary("init_std", "std-1")]})
    for variant in ("baseline", "std-0.01"):  # experiment missing; variant missing
        for q in QUANTITIES:
            row = pick(rows, variant, q)
            assert row["missing"] is True
            assert row["mean"] is None and row["within_range"] is None and row["n"] is None
            assert row["value_2018"] is not None
    assert pick(rows, "std-1", "accuracy")["missing"] is False
    counts = agreement(rows)
    assert counts["accuracy"] == {"within": 1, "compared": 1, "missing": 2}


def test_time_speedup():
    rows = compare(REF, {"baseline": [summary("baseline", "baseline", seconds=(60.0, 62.182))]})
    time = pick(rows, "baseline", "time")
    assert time["mean"] == pytest.approx(61.091)
    assert time["speedup"] == pytest.approx(183.273 / 61.091)
    assert time["within_range"] is None  # no verdict across machines
    assert pick(rows, "baseline", "accuracy")["speedup"] is None
    assert "time" not in agreement(rows)


def test_strings_from_csv_parse():
    parsed = via_csv([summary("baseline", "baseline"), summary("init_std", "std-1")])
    assert isinstance(parsed[0]["test_accuracy_min"], str)
    direct = compare(REF, {"baseline": [summary("baseline", "baseline")],
                           "init_std": [summary("init_std", "std-1")]})
    from_csv = compare(REF, {"baseline": parsed[:1], "init_std": parsed[1:]})
    for a, b in zip(direct, from_csv, strict=True):
        for key in ("mean", "std", "min", "max", "difference", "speedup"):
            assert (a[key] is None and b[key] is None) or b[key] == pytest.approx(a[key]), key
        assert a["within_range"] == b["within_range"] and a["n"] == b["n"] == 5 or a["missing"]


def test_empty_cells_are_missing():
    row = summary("baseline", "baseline", n=0)
    for k in list(row):
        if k.startswith(STATS):
            row[k] = None  # no completed run: csv cells are empty
    rows = compare(REF, {"baseline": via_csv([row])})
    acc = pick(rows, "baseline", "accuracy")
    assert acc["missing"] is False and acc["n"] == 0
    assert acc["mean"] is None and acc["within_range"] is None and acc["difference"] is None
    assert pick(rows, "baseline", "time")["speedup"] is None
    assert agreement(rows)["accuracy"] == {"within": 0, "compared": 0, "missing": 3}


def test_agreement_counts():
    rows = compare(REF, {
        "baseline": [summary("baseline", "baseline", acc=(0.95, 0.96))],          # within
        "init_std": [summary("init_std", "std-0.01", acc=(0.10, 0.12), train_loss=(2.2, 2.4)),
                     summary("init_std", "std-1", acc=(0.97, 0.98))],              # outside
    })
    counts = agreement(rows)
    assert counts["accuracy"] == {"within": 1, "compared": 3, "missing": 0}
    assert counts["loss"]["within"] == 2 and counts["loss"]["compared"] == 3  # std-0.01 outside
    assert counts["loss_vs_test"]["within"] == 0


def test_disagreements_sorted_with_evidence():
    rows = compare(REF, {
        "baseline": [summary("baseline", "baseline", acc=(0.109, 0.118))],  # far below 0.959
        "init_std": [summary("init_std", "std-0.01", acc=(0.10, 0.12)),     # 0.098 just below
                     summary("init_std", "std-1", acc=(0.95, 0.97))],       # within
    })
    found = disagreements(rows, quantities=["accuracy"])
    assert [r["variant"] for r in found] == ["baseline", "std-0.01"]
    first = found[0]
    assert first["direction"] == "above" and first["unit"] == "std"
    assert first["outside_by"] == pytest.approx(0.959 - 0.118)
    assert first["distance"] == pytest.approx((0.959 - 0.118) / ((0.118 - 0.109) / 4))
    assert found[1]["direction"] == "below"
    ev = first["evidence"]
    for piece in ("2018: 0.959", "0.113", "0.109..0.118", "5 seeds", "above", "0.841"):
        assert piece in ev, (piece, ev)
    # moving the range over the 2018 value removes the row
    rows = compare(REF, {"baseline": [summary("baseline", "baseline", acc=(0.95, 0.96))]})
    assert disagreements(rows, quantities=["accuracy"]) == []


def test_disagreements_scale_changes_the_order():
    # baseline: 0.01 outside, tiny std but wide range; std-1: 0.02 outside, larger std, narrow range
    base = summary("baseline", "baseline", acc=(0.90, 0.949))
    base["test_accuracy_std"] = 0.001
    std1 = summary("init_std", "std-1", acc=(0.975, 0.98))
    std1["test_accuracy_std"] = 0.01
    rows = compare(REF, {"baseline": [base], "init_std": [std1]})
    by_std = [r["variant"] for r in disagreements(rows, quantities=["accuracy"], scale="std")]
    by_range = [r["variant"] for r in disagreements(rows, quantities=["accuracy"], scale="range")]
    assert by_std == ["baseline", "std-1"]
    assert by_range == ["std-1", "baseline"]
    with pytest.raises(ValueError):
        disagreements(rows, scale="sigma")


def test_disagreements_zero_spread():
    row = summary("baseline", "baseline", acc=(0.97, 0.97), n=1, diverged=4)
    rows = compare(REF, {"baseline": [row]})
    [found] = disagreements(rows, quantities=["accuracy"])
    assert math.isinf(found["distance"]) and found["unit"] is None
    assert "1 seed" in found["evidence"] and "4 of 5 runs diverged" in found["evidence"]


def test_real_reference_compares_without_summaries(reference):
    rows = compare(reference, {})
    assert len(rows) == 4 * len(reference["rows"]) and all(r["missing"] for r in rows)
    assert disagreements(rows) == []
    assert agreement(rows)["loss"] == {"within": 0, "compared": 0, "missing": len(reference["rows"])}
