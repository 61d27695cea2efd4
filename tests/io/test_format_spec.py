"""spec/format.md: its two example documents are canonical, describe the same scene, and convert byte for byte."""

from __future__ import annotations

import re
from pathlib import Path

from designedit.io import dump, read

SPEC = Path(__file__).resolve().parents[2] / "spec" / "format.md"


def test_spec_examples_are_canonical_and_equal():
    text = SPEC.read_text(encoding="utf-8")
    blocks = dict(re.findall(r"```(xml|json)\n(.*?)```", text, flags=re.S))
    assert set(blocks) == {"xml", "json"}
    xml = read(blocks["xml"], "spec.xml", None)
    js = read(blocks["json"], "spec.json", None)
    assert (xml.form, js.form) == ("xml", "json")
    assert xml.scene == js.scene
    assert dump(xml.scene, "xml") == blocks["xml"]
    assert dump(js.scene, "json") == blocks["json"]
