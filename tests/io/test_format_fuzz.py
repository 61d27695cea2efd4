"""Fuzzing both readers (issue 12, item 11): whatever the bytes, loading a document either gives a scene or
raises the project's own SceneError, whose problems are each one line of plain words. Bounded for CI: a few
hundred examples per test, no deadline (a loaded machine must not fail them), seconds in all."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from designedit.errors import SceneError
from designedit.io import load_text

from shared_paths import CONFORMANCE, PRESENT  # noqa: E402

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JARGON = re.compile(r"xml[A-Z]|AttValue|attValue|EntityRef|CharRef|StartTag|parsePI|ParsePI|amplification|QName"
                    r"|Input should|instance of|type=|pydantic|Value error|Traceback")
# without the shared folder: no seeds, and the tests that read it fail with shared_paths.MISSING
DOCUMENTS = sorted(p for p in CONFORMANCE.rglob("*") if p.name.endswith((".dedit", ".dedit.json"))) if PRESENT else []
SEEDS = [p.read_bytes() for p in DOCUMENTS] or [b""]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A copy of the conformance folder: the mutated documents name its pictures, and are read against it."""
    target = tmp_path_factory.mktemp("conformance")
    shutil.copytree(CONFORMANCE, target, dirs_exist_ok=True)
    return target


def load_or_refuse(raw: bytes | str, folder: Path, check_files: bool = True) -> None:
    """The property: a scene, or a SceneError of one-line, jargon-free problems. Anything else propagates."""
    try:
        load_text(raw, "doc", folder, check_files=check_files)
    except SceneError as exc:
        assert exc.problems
        for problem in exc.problems:
            text = str(problem)
            assert "\n" not in text and "\r" not in text and "\x00" not in text, text
            assert not JARGON.search(re.sub(r"'[^']*'|<[^>]*>", "", problem.message)), text  # echoed text aside


# ------------------------------------------------------------------ arbitrary input


@FUZZ
@given(raw=st.binary(max_size=600))
def test_any_bytes(folder, raw):
    load_or_refuse(raw, folder)


@FUZZ
@given(raw=st.sampled_from([b"<", b"{", b"\xef\xbb\xbf<", b"\xff\xfe", b"\xfe\xff<\x00"]).flatmap(
    lambda head: st.binary(max_size=300).map(lambda tail: head + tail)))
def test_bytes_that_start_like_a_document(folder, raw):
    load_or_refuse(raw, folder)


XML_PIECES = ['<dedit version="1.0">', "</dedit>", '<image id="poster" src="poster.png"/>', '<background image="poster">',
              "</background>", '<remove mask="m"/>', '<mask id="m">', "</mask>", '<rect x="1" y="2" width="3" height="4"/>',
              '<polygon points="0,0 9,0 9,9"/>', '<layer id="l" image="poster" mask="m">', "</layer>", '<move dx="1" dy="2"/>',
              '<resize scale="0.5"/>', "<prompt>", "</prompt>", "&amp;", "&", "&#0;", "&#x10FFFF;", "<!-- c -->", "<![CDATA[x]]>",
              "<?pi x?>", "<!DOCTYPE x>", '<?xml version="1.0" encoding="UTF-16"?>', " ", "\n", "\u00a0", "=", '"', "'", "<", ">",
              "/", "x", "1e999", "-0", "50%", '<canvas width="64" height="64"/>', '<output path="o.png"/>', "\ud800"]


@FUZZ
@given(pieces=st.lists(st.sampled_from(XML_PIECES), max_size=40))
def test_xml_made_of_pieces_of_documents(folder, pieces):
    load_or_refuse("".join(pieces), folder)


def _json_values(depth: int = 3) -> st.SearchStrategy:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                        st.sampled_from(["poster", "m", "poster.png", "50%", "move", "remove", "rect", "polygon", "1.0", ""]),
                        st.text(max_size=8))
    keys = st.sampled_from(["dedit", "images", "masks", "background", "layers", "id", "src", "image", "mask", "shapes",
                            "shape", "op", "edits", "transforms", "points", "x", "y", "dx", "dy", "width", "height",
                            "scale", "canvas", "render", "seed", "output", "path", "prompt"]) | st.text(max_size=5)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
                        max_leaves=25)


@FUZZ
@example(data={"images": [{"id": "poster", "src": "poster.png"}], "layers": [{"image": []}]})  # was a TypeError
@given(data=st.dictionaries(st.sampled_from(["dedit", "images", "masks", "background", "layers", "canvas", "prompt",
                                             "render", "output", "extra"]), _json_values(), max_size=8))
def test_json_of_arbitrary_shape(folder, data):
    load_or_refuse(json.dumps(data), folder)


# ------------------------------------------------------------------ mutated conformance documents


MUTATION = st.tuples(st.sampled_from(["insert", "delete", "replace", "truncate", "copy"]), st.integers(0, 10_000),
                     st.integers(1, 40), st.binary(min_size=1, max_size=12) | st.sampled_from(
                         [b"&", b"<", b'"', b"\xc2\xa0", b"\x00", b"\xff", b"&#1;", b"]]>", b"<!--", b"{", b"[", b"null",
                          b"1e999", b"-", b"%", b"\\u0000", b'"x": 1,', b"<x/>", b"<!DOCTYPE d>"]))


def mutate(seed: bytes, mutations: list[tuple]) -> bytes:
    doc = bytearray(seed)
    for kind, at, length, data in mutations:
        at %= len(doc) + 1
        if kind == "insert":
            doc[at:at] = data
        elif kind == "delete":
            del doc[at:at + length]
        elif kind == "replace":
            doc[at:at + len(data)] = data
        elif kind == "truncate":
            del doc[at:]
        else:  # a slice of the document again, elsewhere: repeated elements, keys, attributes
            doc[at:at] = seed[length:length + 60]
    return bytes(doc)


@FUZZ
@given(seed=st.sampled_from(SEEDS), mutations=st.lists(MUTATION, min_size=1, max_size=5))
def test_mutated_conformance_documents(folder, seed, mutations):
    load_or_refuse(mutate(seed, mutations), folder)


@FUZZ
@given(seed=st.sampled_from(SEEDS), mutations=st.lists(MUTATION, min_size=1, max_size=3),
       codec=st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "utf-32"]))
def test_mutated_documents_in_other_encodings(folder, seed, mutations, codec):
    try:
        text = seed.decode("utf-8")
    except UnicodeDecodeError:
        text = seed.decode("latin-1")
    load_or_refuse(mutate(text.encode(codec), mutations), folder, check_files=False)


@pytest.mark.shared
def test_the_seeds_are_the_conformance_documents():
    assert len(SEEDS) >= 20 and any(p.parent.name == "invalid" for p in DOCUMENTS)
