"""io.patch on documents written every way a person might: random indentation (spaces, tabs, none), quotes,
spacing around '=' and ':', attribute and key order, CR LF, a byte order mark, comments after transforms,
self-closing or open empty layers, whole documents on one line. Whatever the layout, a move or an added
transform reads back as exactly that edit of the scene, and changes nothing outside its layer."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from designedit.io import json_form, patch
from designedit.model import scene as m

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

pixels = st.one_of(st.integers(-500, 500), st.integers(-1000, 1000).map(lambda v: v / 4))
percents = st.integers(-100, 100).map(lambda v: f"{v}%")
transforms = st.one_of(
    st.tuples(st.just("move"), st.fixed_dictionaries({"dx": st.one_of(pixels, percents), "dy": st.one_of(pixels, percents)})),
    st.tuples(st.just("resize"), st.fixed_dictionaries({"scale": st.sampled_from([0.5, 1.25, 2])})),
    st.tuples(st.just("flip"), st.fixed_dictionaries({"axis": st.sampled_from(["horizontal", "vertical"])})),
    st.tuples(st.just("rotate"), st.fixed_dictionaries({"degrees": st.integers(-180, 180)})),
)
layers = st.lists(st.lists(transforms, max_size=3), min_size=1, max_size=3)


def spelled(value) -> str:
    return value if isinstance(value, str) else str(value)


@st.composite
def xml_documents(draw) -> str:
    """A valid XML document with random layers, laid out at random."""
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    one_line = draw(st.booleans())
    step = draw(st.sampled_from(["  ", "    ", "\t", " "]))
    quote = draw(st.sampled_from(['"', "'"]))
    eq = draw(st.sampled_from(["=", " = ", "= "]))
    if one_line:
        nl, step = "", ""

    def line(depth: int, body: str) -> str:
        return step * depth + body + nl

    def attrs(pairs: list[tuple[str, str]]) -> str:
        pairs = draw(st.permutations(pairs))
        return "".join(f" {name}{eq}{quote}{value}{quote}" for name, value in pairs)

    out = draw(st.sampled_from(["", "\ufeff"])) + draw(st.sampled_from(["", '<?xml version="1.0" encoding="UTF-8"?>' + (nl or " ")]))
    out += line(0, '<dedit version="1.0">')
    out += line(1, '<image id="poster" src="poster.png"/>') + line(1, '<mask id="m"><rect x="1" y="1" width="5" height="5"/></mask>')
    out += line(1, '<background image="poster"/>')
    for n, layer in enumerate(draw(layers)):
        head = "<layer" + attrs([("id", f"l{n}"), ("image", "poster"), ("mask", "m")])
        if not layer:
            out += line(1, draw(st.sampled_from([head + "/>", head + " />", head + "></layer>", head + ">" + nl + line(2, "<!-- none -->") + step + "</layer>"])))
            continue
        out += line(1, head + ">")
        for op, values in layer:
            comment = draw(st.sampled_from(["", " <!-- note -->"])) if not one_line else ""
            out += line(2, f"<{op}" + attrs([(k, spelled(v)) for k, v in values.items()]) + "/>" + comment)
        out += line(1, "</layer>")
    out += "</dedit>" + nl
    return out


@st.composite
def json_documents(draw) -> str:
    """A valid JSON document with random layers, laid out at random (pretty or compact)."""
    import json

    colon = draw(st.sampled_from([": ", ":", " : "]))
    comma = draw(st.sampled_from([", ", ",", " , "]))
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    step = draw(st.sampled_from(["  ", "    ", "\t"]))
    pretty = draw(st.booleans())
    inline_transforms = draw(st.booleans())

    def obj(pairs: list[tuple[str, object]], depth: int, multiline: bool) -> str:
        parts = [json.dumps(k) + colon + value(v, depth + 1) for k, v in pairs]
        if not multiline:
            return "{" + comma.join(parts) + "}"
        inner = step * (depth + 1)
        return "{" + nl + ("," + nl).join(inner + p for p in parts) + nl + step * depth + "}"

    def value(v, depth: int) -> str:
        if isinstance(v, list):
            items = [value(item, depth + 1) for item in v]
            if not pretty or not v or not isinstance(v[0], tuple):
                return "[" + comma.join(items) + "]"
            inner = step * (depth + 1)
            return "[" + nl + ("," + nl).join(inner + i for i in items) + nl + step * depth + "]"
        if isinstance(v, tuple):  # an object: (multiline, pairs)
            return obj(v[1], depth, v[0] and pretty)
        return json.dumps(v)

    layer_objects = []
    for n, layer in enumerate(draw(layers)):
        pairs: list = [("id", f"l{n}"), ("image", "poster"), ("mask", "m")]
        if layer or draw(st.booleans()):
            pairs.append(("transforms", [(not inline_transforms, [("op", op), *values.items()]) for op, values in layer]))
        layer_objects.append((True, draw(st.permutations(pairs))))
    document = [("dedit", "1.0"), ("images", [(False, [("id", "poster"), ("src", "poster.png")])]),
                ("masks", [(False, [("id", "m"), ("shapes", [(False, [("shape", "rect"), ("x", 1), ("y", 1), ("width", 5), ("height", 5)])])])]),
                ("background", (False, [("image", "poster")])), ("layers", layer_objects)]
    return obj(document, 0, pretty) + nl


documents = st.one_of(xml_documents(), json_documents())


def decimal_sum(a, b):
    total = float(Decimal(repr(a)) + Decimal(repr(b)))
    return int(total) if total.is_integer() else total


def expected_after_move(scene: m.Scene, index: int, dx, dy) -> dict:
    layer = scene.layers[index]
    transforms = list(layer.transforms)
    last = transforms[-1] if transforms else None
    changed = {name: delta for name, delta in (("dx", dx), ("dy", dy)) if delta != 0}
    if isinstance(last, m.Move) and not any(isinstance(getattr(last, name), str) for name in changed):
        transforms[-1] = last.model_copy(update={name: decimal_sum(getattr(last, name), d) for name, d in changed.items()})
    elif changed:
        transforms.append(m.Move(dx=dx, dy=dy))
    layers = list(scene.layers)
    layers[index] = layer.model_copy(update={"transforms": transforms})
    return json_form.to_plain(scene.model_copy(update={"layers": layers}))


def outside_changes(before: str, after: str) -> tuple[int, int]:
    """(start, end) in `before` of what differs from `after`."""
    prefix = 0
    while prefix < min(len(before), len(after)) and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(before), len(after)) - prefix and before[-1 - suffix] == after[-1 - suffix]:
        suffix += 1
    return prefix, len(before) - suffix


def layer_text_bounds(text: str, index: int) -> tuple[int, int]:
    """Where the layer's text is, found without the scanners under test: by its id, to the next layer's id
    (or the end of the document)."""
    start = text.index(f"l{index}")
    following = text.find(f"l{index + 1}", start)
    return text.rfind("<" if text.lstrip("\ufeff").startswith("<") else "{", 0, start), following if following != -1 else len(text)


@SETTINGS
@given(text=documents, data=st.data())
def test_a_move_is_that_edit_whatever_the_layout(text, data):
    scene = patch.read_scene(text, None)
    index = data.draw(st.integers(0, len(scene.layers) - 1))
    dx, dy = data.draw(pixels), data.draw(pixels)
    after = patch.move_layer(text, None, f"l{index}", dx, dy)
    assert json_form.to_plain(patch.read_scene(after, None)) == expected_after_move(scene, index, dx, dy)
    if dx == dy == 0:
        assert after is text
        return
    start, end = outside_changes(text, after)
    low, high = layer_text_bounds(text, index)
    assert low <= start <= end <= high
    assert ("\r\n" in text) == ("\r\n" in after) and after.count("\n") == after.count("\r\n") or "\r\n" not in text
    assert after.startswith("\ufeff") == text.startswith("\ufeff")


@SETTINGS
@given(text=documents, data=st.data())
def test_an_added_transform_is_appended_whatever_the_layout(text, data):
    scene = patch.read_scene(text, None)
    index = data.draw(st.integers(0, len(scene.layers) - 1))
    op, attrs = data.draw(transforms)
    after = patch.add_transform(text, None, f"l{index}", op, attrs)
    got = patch.read_scene(after, None).layers[index].transforms
    assert list(got[:-1]) == list(scene.layers[index].transforms)
    assert json_form.to_plain(got[-1]) == {"op": op, **attrs}
    start, end = outside_changes(text, after)
    low, high = layer_text_bounds(text, index)
    assert low <= start <= end <= high
