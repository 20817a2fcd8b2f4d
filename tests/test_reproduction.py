"""report/reference_2018.yaml against the 2018 text, and report.reproduction on synthetic summaries."""

import re
from pathlib import Path

import pytest
import yaml

from report.reproduction import (
    check_row,
    check_value,
    definition_fit,
    explanation_sentence,
    explanations,
    load_reference,
    protocol_fit,
    validate_reference,
)

REPO = Path(__file__).resolve().parents[1]
REFERENCE_YAML = REPO / "report" / "reference_2018.yaml"

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
def text(report_2018) -> str:
    return report_2018.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sections(text) -> dict[str, tuple[str, str]]:
    """{section number: (heading title, body text)} of the report body (not its contents list)."""
    heads = list(HEADING.finditer(text))
    out = {}
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        out[m.group(1)] = (m.group(2).strip(), text[m.end():end])
    missing = set(SECTIONS) - set(out)
    assert not missing, f"sections {sorted(missing)} not found in the 2018 report text"
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


# --------------------------------------------------------------------------- the 2018 claims


def test_every_statement_has_a_claim_and_the_claims_are_valid(reference):
    """Each verbatim statement is read into testable parts once; the parts name real variants."""
    statements = [q for spec in reference["experiments"].values() for q in spec.get("statements", [])]
    statements += reference["cnn_vs_mlp"]["claims"] + reference["summary_conclusions"]
    assert [c["quote"] for c in reference["claims"]] == statements
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    from workflow.experiments import plan

    p = plan(cfg)
    for claim in reference["claims"]:
        for part in claim["parts"]:
            for key in ("variant", "a", "b"):
                if key in part:
                    assert part[key] in p.experiments[part["experiment"]].variants, (claim["quote"], part)


@pytest.mark.parametrize("part, message", [
    ({"text": "t", "kind": "compare", "experiment": "x", "a": "a", "b": "b", "quantity": "test_accuracy", "expect": "up"},
     "expect"),
    ({"text": "t", "kind": "compare", "experiment": "x", "a": "a", "b": "b", "quantity": "speed", "expect": "a_better"},
     "quantity"),
    ({"text": "t", "kind": "guess", "experiment": "x"}, "kind"),
    ({"text": "t", "kind": "best", "experiment": "x"}, "missing variant"),
    ({"text": "t", "kind": "same", "experiment": "x", "a": "a"}, "a and b together"),
    ({"kind": "same", "experiment": "x"}, "missing text"),
    ({"text": "t", "kind": "trend", "experiment": "x", "variants": ["a"], "quantity": "test_accuracy",
      "expect": "increasing"}, "two or more variants"),
])
def test_validate_rejects_bad_claims(part, message):
    doc = _doc()
    doc["claims"] = [{"quote": "q", "parts": [part]}]
    with pytest.raises(ValueError, match=message):
        validate_reference(doc)


def test_validate_requires_every_protocol_source():
    doc = _doc()
    doc["protocol"] = {"framework": "f", "sources": {k: "s" for k in ("init_std", "pixels", "optimizer", "display")}}
    with pytest.raises(ValueError, match="linear_init_std"):
        validate_reference(doc)
    doc["protocol"]["sources"]["linear_init_std"] = "s"
    validate_reference(doc)


# --------------------------------------------------------------------------- prediction intervals and fits


def run(exp, variant, seed, acc, **quantities):
    row = {"experiment": exp, "variant": variant, "seed": str(seed), "status": "completed",
           "test_accuracy": str(acc)}
    row.update({k: str(v) for k, v in quantities.items()})
    return row


def test_check_value_uses_the_prediction_interval_of_one_new_run():
    values = [0.95, 0.96, 0.955, 0.965, 0.952]
    c = check_value(0.97, values)
    # by hand: mean 0.9564; squared deviations 4.096e-5 + 1.296e-5 + 1.96e-6 + 7.396e-5 + 1.936e-5
    # = 1.492e-4, s = sqrt(1.492e-4 / 4) = 0.0061073726; t(0.975, 4) = 2.776445; sqrt(1 + 1/5) = 1.0954451
    half = 2.776445105 * 0.0061073726 * 1.0954451150
    assert c["mean"] == pytest.approx(0.9564) and c["std"] == pytest.approx(0.0061073726, rel=1e-6)
    assert (c["low"], c["high"]) == (pytest.approx(0.9564 - half, rel=1e-6), pytest.approx(0.9564 + half, rel=1e-6))
    assert c["inside"] is True  # 0.97 is inside the prediction interval, outside the min..max range
    assert c["gap_sd"] == pytest.approx((0.97 - 0.9564) / 0.0061073726, rel=1e-6)
    assert check_value(0.99, values)["inside"] is False
    assert check_value(0.97, [0.95])["inside"] is None  # one run: no interval


def test_a_failed_2018_run_is_compared_with_our_failed_runs():
    runs = [run("init_std", "std-0.01", s, a, test_loss=l) for s, (a, l) in
            enumerate([(0.96, 0.13), (0.1135, 2.301), (0.1135, 2.302), (0.1135, 2.303), (0.961, 0.12)])]
    failed_2018 = {"experiment": "init_std", "variant": "std-0.01", "loss": 3.257, "accuracy": 0.098}
    c = check_row(failed_2018, "accuracy", runs, "init_std", "std-0.01", "test_accuracy")
    assert (c["mode"], c["n"], c["of"]) == ("failed", 3, 5) and c["mean"] == pytest.approx(0.1135)
    c = check_row(failed_2018, "loss", runs, "init_std", "std-0.01", "test_loss")
    assert c["inside"] is False and c["mean"] == pytest.approx(2.302)  # 3.257 is worse than our failures
    learned_2018 = {**failed_2018, "accuracy": 0.966, "loss": 0.13}
    c = check_row(learned_2018, "accuracy", runs, "init_std", "std-0.01", "test_accuracy")
    assert (c["mode"], c["n"]) == ("learned", 2) and c["mean"] == pytest.approx((0.96 + 0.961) / 2)
    assert c["inside"] is None  # two runs: an interval 12.7 s wide decides nothing
    assert c["high"] <= 1.0  # an accuracy interval stops at 1
    # none of ours failed: a failed 2018 run is outside
    ok = [run("init_std", "std-0.01", s, 0.95 + s / 1000, test_loss=0.1) for s in range(5)]
    assert check_row(failed_2018, "accuracy", ok, "init_std", "std-0.01", "test_accuracy")["inside"] is False


REF = {"rows": [
    {"experiment": "baseline", "variant": "baseline", "loss": 0.251, "accuracy": 0.959},
    {"experiment": "init_std", "variant": "std-1", "loss": 0.226, "accuracy": 0.961},
]}
PLAN = {"experiments": [{"key": "protocol", "variants": [
    {"name": "baseline-every_layer", "origin": ["baseline", "baseline"], "reading": "every_layer"},
    {"name": "std-1-every_layer", "origin": ["init_std", "std-1"], "reading": "every_layer"}]}],
    "ablation": "protocol", "readings": {"framework": "the framework", "every_layer": "every layer"}}


def runs_with(baseline_loss_window, std1_every_layer_acc):
    rows = []
    for s in range(5):
        rows.append(run("baseline", "baseline", s, 0.950 + s / 1000, train_loss=0.5 + s / 100,
                        train_loss_window=baseline_loss_window + s / 1000, test_loss=0.16))
        rows.append(run("init_std", "std-1", s, 0.930 + s / 1000, train_loss=0.4, train_loss_window=0.3 + s / 1000,
                        test_loss=0.2))
        rows.append(run("protocol", "baseline-every_layer", s, 0.940 + s / 1000, train_loss=0.4,
                        train_loss_window=0.3, test_loss=0.2))
        rows.append(run("protocol", "std-1-every_layer", s, std1_every_layer_acc + s / 1000, train_loss=0.4,
                        train_loss_window=0.226 + s / 1000, test_loss=0.2))
    return rows


def test_definition_fit_counts_rows_inside_and_picks_the_best():
    fit = definition_fit(REF, runs_with(0.249, 0.959))
    loss = fit["loss"]
    assert loss["fit"]["train_loss_window"] == {"inside": 1, "compared": 2}  # baseline 0.251 in 0.249..0.253
    assert loss["fit"]["train_loss"] == {"inside": 0, "compared": 2}
    assert loss["best"] == "train_loss_window"
    # move the data: the window no longer fits, the test loss does not either; first of the ties wins
    assert definition_fit(REF, runs_with(0.40, 0.959))["loss"]["fit"]["train_loss_window"]["inside"] == 0


def test_explanations_name_the_reading_that_explains_a_gap():
    quantities = {"loss": "train_loss_window", "accuracy": "test_accuracy"}
    gaps = explanations(REF, runs_with(0.249, 0.959), PLAN, quantities)
    std1 = next(e for e in gaps if e["variant"] == "std-1" and e["column"] == "accuracy")
    assert [x["reading"] for x in std1["explained_by"]] == ["every_layer"]
    text = explanation_sentence(std1, PLAN["readings"])
    assert text.startswith("init_std/std-1, accuracy: 2018's 0.9610 lies")
    assert "seed standard deviations above our mean 0.9320" in text and "every_layer (every layer" in text
    assert "which explains it" in text
    # change one number: the every-layer runs no longer reach 0.961, the sentence says so
    gaps = explanations(REF, runs_with(0.249, 0.90), PLAN, quantities)
    std1 = next(e for e in gaps if e["variant"] == "std-1" and e["column"] == "accuracy")
    text = explanation_sentence(std1, PLAN["readings"])
    assert "none of the readings tried (every_layer) explains it" in text
    counts = {p["reading"]: p["counts"]["accuracy"] for p in protocol_fit(REF, runs_with(0.249, 0.959), PLAN,
                                                                             quantities)}
    assert counts == {"framework": {"inside": 0, "compared": 2}, "every_layer": {"inside": 1, "compared": 2}}
