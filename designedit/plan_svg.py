"""A plan as a timeline picture (SVG): branches by steps, windows and events marked.

One row per branch, one column per step. A filled cell is an evaluation: dark
for both guidance halves, light for the cond half alone, outlined in the
colour of the mask that keys it. Above the rows, bars show the key-masking
and refine windows, the Eq. 2 blends, the fusion and the proximal-guidance
steps; in the rows, markers show blends (dot), fusion (diamond) and drops (x).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from .plan import Plan

CELL_W, ROW_H, LEFT, TOP = 12, 22, 120, 118
KEY_COLOURS = {"remove@latent": "#d9480f", "refine@latent": "#7048e8", "occlude@latent": "#0b7285"}
BOTH, COND = "#1c7ed6", "#a5d8ff"


def _key_colour(name: str | None) -> str:
    return KEY_COLOURS.get(name or "", "#e67700")


def _runs(steps: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for s in sorted(steps):
        if runs and runs[-1][1] == s - 1:
            runs[-1] = (runs[-1][0], s)
        else:
            runs.append((s, s))
    return runs


def plan_svg(plan: Plan, title: str = "") -> str:
    T = plan.steps
    cell_w = max(3, min(CELL_W, 900 // max(T, 1)))
    rows = [b.id for b in plan.branches]
    width = LEFT + cell_w * T + 40
    height = TOP + ROW_H * len(rows) + 120
    x = lambda s: LEFT + s * cell_w  # noqa: E731
    y = lambda r: TOP + r * ROW_H  # noqa: E731
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="18" font-size="14" font-weight="bold">{escape(title or "plan")}: {plan.schedule} schedule, {T} steps</text>',
        f'<text x="10" y="36">UNet sample-evaluations: inversion {plan.cost.inversion} + denoise {plan.cost.denoise} = {plan.cost.total}; output {escape(plan.output)}; render {plan.render.width}x{plan.render.height}</text>',
    ]

    # windows, read back from the steps
    keyed: dict[str, list[int]] = {}
    blends, fusions, proximal = [], [], []
    for st in plan.plan_steps:
        for e in st.evals:
            if e.keymask:
                keyed.setdefault(e.keymask, []).append(st.index)
        kinds = {o.kind for o in st.ops}
        if any(o.kind == "blend" and o.target == "L0" for o in st.ops):
            blends.append(st.index)
        if "fuse" in kinds:
            fusions.append(st.index)
        if "proximal" in kinds:
            proximal.append(st.index)
    bars = [(f"key: {k}", _key_colour(k), v) for k, v in keyed.items()]
    bars += [("Eq.2 blend into L0", "#2b8a3e", blends), ("fusion", "#c2255c", fusions), ("proximal (t<400)", "#868e96", proximal)]
    for i, (label, colour, steps) in enumerate(bars):
        by = 48 + i * 11
        out.append(f'<text x="{LEFT - 6}" y="{by + 8}" text-anchor="end" font-size="9">{escape(label)}</text>')
        for a, b in _runs(steps):
            out.append(f'<rect x="{x(a)}" y="{by}" width="{(b - a + 1) * cell_w}" height="8" fill="{colour}" opacity="0.8"/>')
    # step axis
    axis_y = y(0) - 4
    for s in range(0, T, max(1, T // 10)):
        out.append(f'<text x="{x(s) + cell_w / 2}" y="{axis_y}" text-anchor="middle" font-size="9">{s}</text>')
    # rows
    index = {b: r for r, b in enumerate(rows)}
    for r, b in enumerate(rows):
        branch = plan.branch(b)
        label = f"{b} ({branch.role})" if branch.role != "layer" else f"{b} ({branch.layer})"
        out.append(f'<text x="{LEFT - 6}" y="{y(r) + ROW_H / 2 + 4}" text-anchor="end">{escape(label)}</text>')
        out.append(f'<line x1="{LEFT}" y1="{y(r) + ROW_H - 1}" x2="{x(T)}" y2="{y(r) + ROW_H - 1}" stroke="#e9ecef"/>')
    for st in plan.plan_steps:
        for e in st.evals:
            r = index[e.branch]
            fill = BOTH if len(e.halves) == 2 else COND
            stroke = f' stroke="{_key_colour(e.keymask)}" stroke-width="2"' if e.keymask else ""
            out.append(f'<rect x="{x(st.index) + 1}" y="{y(r) + 3}" width="{cell_w - 2}" height="{ROW_H - 8}" fill="{fill}"{stroke}><title>step {st.index} t={st.timestep} {e.branch} {"+".join(e.halves)} {e.keymask or ""}</title></rect>')
        for o in st.ops:
            if o.target not in index:
                continue
            cx, cy = x(st.index) + cell_w / 2, y(index[o.target]) + ROW_H / 2
            if o.kind == "blend":
                out.append(f'<circle cx="{cx}" cy="{cy + 6}" r="2.5" fill="#2b8a3e"><title>step {st.index}: blend {escape(o.target)} from {escape(_ref(o.source))}</title></circle>')
            elif o.kind == "fuse":
                d = 5
                out.append(f'<path d="M{cx} {cy - d} L{cx + d} {cy} L{cx} {cy + d} L{cx - d} {cy} Z" fill="#c2255c"><title>step {st.index}: fuse {escape(o.target)} from {escape(_ref(o.source))} + {len(o.layers)} layer(s)</title></path>')
            elif o.kind == "drop":
                out.append(f'<path d="M{cx - 3} {cy - 3} L{cx + 3} {cy + 3} M{cx - 3} {cy + 3} L{cx + 3} {cy - 3}" stroke="#495057" stroke-width="1.5"><title>step {st.index}: drop {escape(o.target)}</title></path>')
    # legend
    ly = y(len(rows)) + 24
    legend = [
        (f'<rect x="0" y="-9" width="10" height="10" fill="{BOTH}"/>', "both guidance halves"),
        (f'<rect x="0" y="-9" width="10" height="10" fill="{COND}"/>', "cond half only"),
        (f'<rect x="0" y="-9" width="10" height="10" fill="white" stroke="{KEY_COLOURS["remove@latent"]}" stroke-width="2"/>', "key-masked (outline colour = mask)"),
        ('<circle cx="5" cy="-4" r="2.5" fill="#2b8a3e"/>', "blend"),
        ('<path d="M5 -9 L10 -4 L5 1 L0 -4 Z" fill="#c2255c"/>', "fusion"),
        ('<path d="M2 -7 L8 -1 M2 -1 L8 -7" stroke="#495057" stroke-width="1.5"/>', "drop"),
    ]
    lx = LEFT
    for shape, text in legend:
        out.append(f'<g transform="translate({lx},{ly})">{shape}<text x="14" y="0">{escape(text)}</text></g>')
        lx += 30 + 6 * len(text)
        if lx > width - 150:
            lx, ly = LEFT, ly + 16
    layer_y = ly + 22
    for l in plan.layers:
        out.append(
            f'<text x="10" y="{layer_y}">layer {escape(l.id)}: move ({l.dx_px:g}, {l.dy_px:g}) px -> ({l.dx}, {l.dy}) cells, rounding ({l.rounding_px[0]:.2f}, {l.rounding_px[1]:.2f}) px</text>'
        )
        layer_y += 14
    out.append("</svg>")
    svg = "\n".join(out)
    if layer_y > height:
        svg = svg.replace(f'height="{height}" viewBox="0 0 {width} {height}"', f'height="{layer_y + 10}" viewBox="0 0 {width} {layer_y + 10}"', 1)
        svg = svg.replace(f'<rect width="{width}" height="{height}"', f'<rect width="{width}" height="{layer_y + 10}"', 1)
    return svg + "\n"


def _ref(ref) -> str:
    if ref is None:
        return "?"
    if ref.branch:
        return ref.branch
    return f"z*[{ref.index}] of {ref.inversion}"
