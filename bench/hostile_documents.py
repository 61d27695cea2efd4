"""`dedit validate` on hostile documents of at most 4 MiB: each must be answered (accepted or refused) in under
2 s and under 1 GB (issue 12, item 4).

    .venv/bin/python bench/hostile_documents.py [--only NAME ...] [--limit-s 60] [--keep DIR]

Each document is validated by a fresh `python -m designedit validate` process (so start-up, about 0.3 s, is
counted, as a user meets it); the table gives its exit status, wall time and peak memory (the child's maximum
resident set). A case over a limit is marked `SLOW` or `BIG`. Documents sit next to a copy of the conformance
poster, so file checks and compiling run as they would for a real scene.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from shared_paths import CONFORMANCE  # noqa: E402

MAX_BYTES = 4 * 1024 * 1024
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<dedit version="1.0">\n  <image id="poster" src="poster.png"/>\n'
TAIL = "</dedit>\n"
JHEAD = '{"dedit": "1.0", "images": [{"id": "poster", "src": "poster.png"}], '


def _fill(unit: Callable[[int], str], room: int) -> str:
    """As many units as fit in `room` characters."""
    parts, used, i = [], 0, 0
    while True:
        piece = unit(i)
        if used + len(piece) > room:
            return "".join(parts)
        parts.append(piece)
        used += len(piece)
        i += 1


def _room(*fixed: str) -> int:
    return MAX_BYTES - sum(len(s) for s in fixed) - 64


def _pans(n: int | None) -> str:
    unit = lambda i: '<pan dx="1" dy="0"/>'  # noqa: E731
    head, tail = HEAD + '  <background image="poster">', "</background>\n" + TAIL
    body = unit(0) * n if n is not None else _fill(unit, _room(head, tail))
    return head + body + tail


def _attributes(n: int | None) -> str:
    unit = lambda i: f' a{i}="1"'  # noqa: E731
    head, tail = HEAD + '  <background image="poster"', "/>\n" + TAIL
    body = "".join(unit(i) for i in range(n)) if n is not None else _fill(unit, _room(head, tail))
    return head + body + tail


def _polygon(n: int | None) -> str:
    unit = lambda i: f"{i * 500 / (n or 500_000):.2f},{0 if i % 2 else 383} "  # noqa: E731 - edges cross every row
    head = HEAD + '  <mask id="m"><polygon points="'
    tail = '"/></mask>\n  <background image="poster"><remove mask="m"/></background>\n' + TAIL
    body = "".join(unit(i) for i in range(n)) if n is not None else _fill(unit, _room(head, tail))
    return head + body.strip() + tail


def _json_polygon() -> str:
    unit = lambda i: f"[{100 + i % 200}, {100 + (i * 7) % 150}], "  # noqa: E731
    head = JHEAD + '"masks": [{"id": "m", "shapes": [{"shape": "polygon", "points": ['
    tail = '[1, 1]]}]}], "background": {"image": "poster", "edits": [{"op": "remove", "mask": "m"}]}}\n'
    return head + _fill(unit, _room(head, tail)) + tail


def _json_pans() -> str:
    unit = lambda i: '{"op": "pan", "dx": 1, "dy": 0}, '  # noqa: E731
    head = JHEAD + '"background": {"image": "poster", "edits": ['
    tail = '{"op": "pan", "dx": 1, "dy": 0}]}}\n'
    return head + _fill(unit, _room(head, tail)) + tail


def _json_keys() -> str:
    unit = lambda i: f'"k{i}": 1, '  # noqa: E731
    head = JHEAD + '"background": {"image": "poster", '
    tail = '"x": 1}}\n'
    return head + _fill(unit, _room(head, tail)) + tail


def _masks() -> str:
    unit = lambda i: f'<mask id="m{i}"><rect x="{i % 400}" y="10" width="20" height="20"/></mask>\n'  # noqa: E731
    head, tail = HEAD, '  <background image="poster"><remove mask="m0"/></background>\n' + TAIL
    return head + _fill(unit, _room(head, tail)) + tail


def _removals() -> str:
    masks = "".join(f'<mask id="m{i}"><rect x="{i * 4}" y="10" width="3" height="20"/></mask>\n' for i in range(100))
    unit = lambda i: f'<remove mask="m{i % 100}"/>'  # noqa: E731
    head, tail = HEAD + masks + '  <background image="poster">', "</background>\n" + TAIL
    return head + _fill(unit, _room(head, tail)) + tail


def _layers() -> str:
    masks = '<mask id="m"><rect x="100" y="100" width="40" height="40"/></mask>\n'
    unit = lambda i: f'<layer id="l{i}" image="poster" mask="m" keep="true"><move dx="{i % 50}" dy="1"/></layer>\n'  # noqa: E731
    head, tail = HEAD + masks + '  <background image="poster"/>\n', TAIL
    return head + _fill(unit, _room(head, tail)) + tail


def _transforms() -> str:
    masks = '<mask id="m"><rect x="100" y="100" width="40" height="40"/></mask>\n'
    unit = lambda i: ['<move dx="1" dy="-1"/>', '<rotate degrees="3"/>', '<flip axis="vertical"/>'][i % 3]  # noqa: E731
    head = HEAD + masks + '  <background image="poster"/>\n  <layer id="l" image="poster" mask="m">'
    tail = "</layer>\n" + TAIL
    return head + _fill(unit, _room(head, tail)) + tail


def _use_chain() -> str:
    unit = lambda i: f'<mask id="a{i}"><use mask="a{i + 1}"/></mask>\n'  # noqa: E731
    head, tail_fixed = HEAD, '  <background image="poster"><remove mask="a0"/></background>\n' + TAIL
    body = _fill(unit, _room(head, tail_fixed) - 100)
    n = body.count("<mask ")
    return head + body + f'<mask id="a{n}"><rect x="100" y="100" width="40" height="30"/></mask>\n' + tail_fixed


def _unknown_elements() -> str:
    unit = lambda i: "<x/>"  # noqa: E731
    head, tail = HEAD + '  <background image="poster"/>\n', TAIL
    return head + _fill(unit, _room(head, tail)) + tail


def _text_nodes() -> str:
    unit = lambda i: "<!---->t"  # noqa: E731
    head, tail = HEAD + '  <background image="poster">', "</background>\n" + TAIL
    return head + _fill(unit, _room(head, tail)) + tail


def _comments() -> str:
    unit = lambda i: "<!-- c -->\n"  # noqa: E731
    head, tail = HEAD + '  <background image="poster"/>\n', TAIL
    return head + _fill(unit, _room(head, tail)) + tail


def _long_value() -> str:
    head, tail = HEAD + '  <background image="', '"/>\n' + TAIL
    return head + "p" * _room(head, tail) + tail


def _long_prompt() -> str:
    head, tail = HEAD + "  <prompt>", '</prompt>\n  <background image="poster"/>\n' + TAIL
    return head + "a &amp; " * (_room(head, tail) // 8) + tail


def _json_long_prompt() -> str:
    head, tail = JHEAD + '"background": {"image": "poster"}, "prompt": "', '"}\n'
    return head + "a \\u00e9 " * (_room(head, tail) // 10) + tail


def _json_deep() -> str:
    return JHEAD + '"background": {"image": "poster"}, "prompt": ' + "[" * 200_000 + "]" * 200_000 + "}\n"


def _xml_deep() -> str:
    return HEAD + '  <background image="poster"/>\n' + "<x>" * 200_000 + "</x>" * 200_000 + TAIL


def _char_refs() -> str:
    head, tail = HEAD + "  <prompt>", '</prompt>\n  <background image="poster"/>\n' + TAIL
    return head + "&#65;" * (_room(head, tail) // 5) + tail


def _json_big_numbers() -> str:
    unit = lambda i: "1" * 4000 + ", "  # noqa: E731
    head = JHEAD + '"background": {"image": "poster"}, "prompt": ['
    tail = "1]}\n"
    return head + _fill(unit, _room(head, tail)) + tail


def _duplicate_ids() -> str:
    unit = lambda i: '<image id="poster" src="poster.png"/>\n'  # noqa: E731
    head, tail = HEAD, '  <background image="poster"/>\n' + TAIL
    return head + _fill(unit, _room(head, tail)) + tail


def _long_version() -> str:
    return '<dedit version="' + "9" * 5000 + '.0"><image id="p" src="poster.png"/><background image="p"/></dedit>\n'


# ------------------------------------------------------------------ at the limits of spec/format.md 4.1


def _chain_at_limit() -> str:
    n = 2000  # 2 elements a mask: about all the element limit allows
    body = "".join(f'<mask id="a{i}"><use mask="a{i + 1}"/></mask>\n' for i in range(n))
    body += f'<mask id="a{n}"><rect x="100" y="100" width="40" height="30"/></mask>\n'
    return H_(body + '  <background image="poster"><remove mask="a0"/></background>\n')


def _layers_at_limit() -> str:
    moves = "".join(f'<move dx="{j}" dy="1"/>' for j in range(14))
    body = '<mask id="m"><rect x="100" y="100" width="40" height="40"/></mask>\n  <background image="poster"/>\n'
    body += "".join(f'<layer id="l{i}" image="poster" mask="m" keep="true">{moves}</layer>\n' for i in range(256))
    return H_(body)


def _edits_at_limit() -> str:
    masks = "".join(f'<mask id="m{i}"><rect x="{(i * 7) % 480}" y="{(i * 3) % 360}" width="20" height="20"/></mask>\n'
                    for i in range(1900))
    edits = "".join(f'<remove mask="m{i * 59}"/><pan dx="{1 + i % 3}" dy="-1"/>' for i in range(31)) + '<zoom-out factor="1.1"/><remove mask="m1"/>'
    return H_(masks + f'  <background image="poster">{edits}</background>\n')


def _shapes_at_limit() -> str:
    shapes = "".join(f'<ellipse cx="{i % 500}" cy="{(i * 7) % 380}" rx="3" ry="2"/>' for i in range(4000))
    return H_(f'<mask id="m">{shapes}</mask>\n  <background image="poster"><remove mask="m"/></background>\n')


def _transforms_at_limit() -> str:
    ts = "".join(['<move dx="1" dy="-1"/>', '<rotate degrees="3"/>', '<flip axis="vertical"/>', '<resize scale="1.001"/>'][i % 4]
                 for i in range(4000))
    body = '<mask id="m"><rect x="100" y="100" width="40" height="40"/></mask>\n  <background image="poster"/>\n'
    return H_(body + f'  <layer id="l" image="poster" mask="m">{ts}</layer>\n')


def _json_polygon_at_limit() -> str:
    points = ", ".join(f"[{i * 500 / 10_000}, {0 if i % 2 else 383}]" for i in range(10_000))  # edges cross every row
    return (JHEAD + f'"masks": [{{"id": "m", "shapes": [{{"shape": "polygon", "points": [{points}]}}]}}], '
            '"background": {"image": "poster", "edits": [{"op": "remove", "mask": "m"}]}}\n')


def _unknown_attributes_at_limit() -> str:
    attrs = " ".join(f'imagge{j}="x{j}"' for j in range(62))
    body = "".join(f'<image id="i{i}" src="poster.png" {attrs}/>\n' for i in range(740))
    return H_(body + '  <background image="poster"/>\n')


def _json_unknown_keys_at_limit() -> str:
    keys = ", ".join(f'"imagge{j}": {j}' for j in range(62))
    items = ", ".join(f'{{"id": "i{i}", "src": "poster.png", {keys}}}' for i in range(740))
    return '{"dedit": "1.0", "images": [' + items + '], "background": {"image": "i0"}}\n'


def _unknown_elements_at_limit() -> str:
    return H_("".join(f"<imagge{i % 10}/>" for i in range(4000)) + '  <background image="poster"/>\n')


def H_(body: str) -> str:
    return HEAD + body + TAIL


CASES: dict[str, Callable[[], str]] = {
    "at-limit-polygon-10000": lambda: _polygon(10_000),
    "at-limit-json-polygon": _json_polygon_at_limit,
    "at-limit-use-chain-2000": _chain_at_limit,
    "at-limit-layers-256": _layers_at_limit,
    "at-limit-edits-64": _edits_at_limit,
    "at-limit-shapes-4000": _shapes_at_limit,
    "at-limit-transforms-4000": _transforms_at_limit,
    "at-limit-unknown-attributes": _unknown_attributes_at_limit,
    "at-limit-json-unknown-keys": _json_unknown_keys_at_limit,
    "at-limit-unknown-elements": _unknown_elements_at_limit,
    "pan-3000": lambda: _pans(3000),
    "pan-4MiB": lambda: _pans(None),
    "attributes-50000": lambda: _attributes(50_000),
    "attributes-4MiB": lambda: _attributes(None),
    "polygon-200000": lambda: _polygon(200_000),
    "polygon-4MiB": lambda: _polygon(None),
    "json-polygon-4MiB": _json_polygon,
    "json-pan-4MiB": _json_pans,
    "json-keys-4MiB": _json_keys,
    "masks-4MiB": _masks,
    "removals-4MiB": _removals,
    "layers-4MiB": _layers,
    "transforms-4MiB": _transforms,
    "use-chain-4MiB": _use_chain,
    "unknown-elements-4MiB": _unknown_elements,
    "text-nodes-4MiB": _text_nodes,
    "comments-4MiB": _comments,
    "long-value-4MiB": _long_value,
    "long-prompt-4MiB": _long_prompt,
    "char-refs-4MiB": _char_refs,
    "json-long-prompt-4MiB": _json_long_prompt,
    "json-deep": _json_deep,
    "xml-deep": _xml_deep,
    "json-long-numbers-4MiB": _json_big_numbers,
    "duplicate-ids-4MiB": _duplicate_ids,
    "version-5000-digits": _long_version,
}


def run_one(doc: Path, limit_s: float) -> tuple[int | None, float, float]:
    """(exit status or None on timeout, wall seconds, peak resident MB) of `dedit validate doc`."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "designedit", "validate", "-q", str(doc)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    status: int | None = None
    while True:
        pid, code, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            status = os.waitstatus_to_exitcode(code)
            break
        if time.perf_counter() - started > limit_s:
            proc.kill()
            _pid, _code, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.005)
    proc.returncode = status if status is not None else -9  # reaped above: keep Popen from waiting again
    return status, time.perf_counter() - started, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="case names (default: all)")
    parser.add_argument("--limit-s", type=float, default=60.0, help="kill a validation after this long")
    parser.add_argument("--keep", type=Path, help="write the documents here and keep them")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="dedit-hostile-"))
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CONFORMANCE / "poster.png", folder / "poster.png")
    worst = 0.0
    print(f"{'document':26} {'KiB':>6} {'exit':>4} {'wall s':>7} {'peak MB':>8}")
    try:
        for name, make in CASES.items():
            if args.only and name not in args.only:
                continue
            text = make()
            doc = folder / f"{name}.dedit"
            doc.write_text(text, encoding="utf-8")
            size = doc.stat().st_size
            assert size <= MAX_BYTES, (name, size)
            status, wall, peak = run_one(doc, args.limit_s)
            flags = (" SLOW" if wall >= 2 else "") + (" BIG" if peak >= 1024 else "")
            worst = max(worst, wall)
            print(f"{name:26} {size // 1024:6} {status if status is not None else 'kill':>4} {wall:7.2f} {peak:8.0f}{flags}", flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"slowest: {worst:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
