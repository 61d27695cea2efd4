"""The checked-in schemas match the model, and the conformance documents validate against them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from lxml import etree

from designedit.io import schema as schema_gen
from designedit.io import dump, load

ROOT = Path(__file__).resolve().parents[2]
from shared_paths import CONFORMANCE, cases  # noqa: E402
VALID = cases(lambda: sorted(p for p in CONFORMANCE.iterdir() if p.name.endswith((".dedit", ".dedit.json"))))


def json_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((ROOT / "schemas" / schema_gen.JSON_SCHEMA_NAME).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def relax_ng() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(ROOT / "schemas" / schema_gen.RELAX_NG_NAME)))


def xml_tree(text: str):
    return etree.fromstring(text.encode(), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))


def test_checked_in_schemas_match_the_model():
    for name, text in schema_gen.generated().items():
        on_disk = (ROOT / "schemas" / name).read_text(encoding="utf-8")
        assert on_disk == text, f"schemas/{name} is stale: run `python -m designedit.io.schema`"


def test_check_mode_reports_drift(tmp_path: Path):
    assert schema_gen.main(["--check", "--dir", str(tmp_path)]) == 1
    assert schema_gen.main(["--dir", str(tmp_path)]) == 0
    assert schema_gen.main(["--check", "--dir", str(tmp_path)]) == 0
    (tmp_path / schema_gen.RELAX_NG_NAME).write_text("<grammar/>")
    assert schema_gen.main(["--check", "--dir", str(tmp_path)]) == 1


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_conformance_documents_validate_in_both_forms(path: Path):
    text = path.read_text(encoding="utf-8")
    scene = load(path)
    validator, rng = json_validator(), relax_ng()
    if text.lstrip().startswith("{"):
        assert not list(validator.iter_errors(json.loads(text)))
    else:
        assert rng.validate(xml_tree(text)), rng.error_log
    assert not list(validator.iter_errors(json.loads(dump(scene, "json"))))
    assert rng.validate(xml_tree(dump(scene, "xml"))), rng.error_log


@pytest.mark.shared
def test_schemas_refuse_bad_values():
    rng = relax_ng()
    assert not rng.validate(etree.parse(str(CONFORMANCE / "invalid" / "bad-values.dedit")))
    validator = json_validator()
    doc = json.loads((CONFORMANCE / "invalid" / "unknown-op.dedit.json").read_text())
    assert list(validator.iter_errors(doc))
    no_content = {"dedit": "1.0", "masks": [{"id": "m"}], "background": {"image": "p"}}
    assert list(validator.iter_errors(no_content))
    untagged = {"dedit": "1.0", "background": {"image": "p", "edits": [{"mask": "m"}]}}
    assert list(validator.iter_errors(untagged))
    assert not rng.validate(xml_tree('<dedit version="1.0"><mask id="m"/><background image="p"/></dedit>'))
    assert not rng.validate(xml_tree('<dedit version="1.0"><mask id="m"><polygon points="1,2 3,4"/></mask><background image="p"/></dedit>'))
    assert rng.validate(xml_tree('<dedit version="1.0"><mask id="m"><polygon points="1,2 3,4 5%,6"/></mask><background image="p"/></dedit>'))


def test_schemas_know_the_per_axis_resize_of_format_1_1():
    """scale, or scale-x and/or scale-y (never both forms, never neither), in both schemas."""
    validator, rng = json_validator(), relax_ng()

    def doc(resize: dict) -> dict:
        return {"dedit": "1.1", "images": [{"id": "p", "src": "p.png"}], "background": {"image": "p"},
                "layers": [{"id": "l", "image": "p", "transforms": [{"op": "resize", **resize}]}]}

    def xml(attrs: str):
        return xml_tree(f'<dedit version="1.1"><image id="p" src="p.png"/><background image="p"/>'
                        f'<layer id="l" image="p"><resize {attrs}/></layer></dedit>')

    for ok in ({"scale": 2}, {"scale-x": 2}, {"scale-y": 0.5}, {"scale-x": 2, "scale-y": 0.5}):
        assert not list(validator.iter_errors(doc(ok))), ok
        assert rng.validate(xml(" ".join(f'{k}="{v}"' for k, v in ok.items()))), (ok, rng.error_log)
    for bad in ({}, {"scale": 2, "scale-x": 2}, {"scale": 2, "scale-y": 2}, {"scale_x": 2}):
        assert list(validator.iter_errors(doc(bad))), bad
        assert not rng.validate(xml(" ".join(f'{k}="{v}"' for k, v in bad.items()))), bad
