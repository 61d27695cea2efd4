"""A plan as a timeline picture (SVG): branches by steps, windows and events marked.

One row per branch, one column per step. A filled cell is an evaluation: dark
for both guidance halves, light for the cond half alone, outlined in the
colour of the mask that keys its cond half (key masking never touches the
uncond half: method 4). Above the rows, bars show the key-masking and refine
windows, the Eq. 2 blends into L0, the Eq. 5 blends into C^ (occlusion), the
fusion, the proximal-guidance steps and the harmonisation (the output
denoised after the last fusion); each bar's `<title>` names its steps. In the
rows, markers show blends (dot), fusion (diamond) and drops (x).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from designedit.plan import names
from designedit.plan.ir import Plan
from designedit.plan.ops import BlendOp, DropOp, FuseOp, ProximalOp

CELL_W, ROW_H, LEFT, BARS_TOP, BAR_H = 12, 22, 180, 48, 11
KEY_COLOURS = {names.REMOVE_LATENT: "#d9480f", names.REFINE_LATENT: "#7048e8", names.OCCLUDE_LATENT: "#0b7285"}
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
    bars = _bars(plan)
    top = BARS_TOP + BAR_H * len(bars) + 18  # the step axis, then the rows, below the bars
    width = LEFT + cell_w * T + 40
    height = top + ROW_H * len(rows) + 120
    x = lambda s: LEFT + s * cell_w  # noqa: E731
    y = lambda r: top + r * ROW_H  # noqa: E731
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="18" font-size="14" font-weight="bold">{escape(title or "plan")}: {plan.schedule} schedule, {T} steps</text>',
        f'<text x="10" y="36">UNet sample-evaluations: inversion {plan.cost.inversion} + denoise {plan.cost.denoise} = {plan.cost.total}; output {escape(plan.output)}; render {plan.render.width}x{plan.render.height}</text>',
    ]

    for i, (label, colour, steps) in enumerate(bars):
        by = BARS_TOP + i * BAR_H
        out.append(f'<text x="{LEFT - 6}" y="{by + 8}" text-anchor="end" font-size="9">{escape(label)}</text>')
        for a, b in _runs(steps):
            span = f"step {a}" if a == b else f"steps {a}..{b}"
            out.append(f'<rect x="{x(a)}" y="{by}" width="{(b - a + 1) * cell_w}" height="8" fill="{colour}" opacity="0.8">'
                       f'<title>{escape(label)}: {span}</title></rect>')
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
            match o:
                case BlendOp():
                    out.append(f'<circle cx="{cx}" cy="{cy + 6}" r="2.5" fill="#2b8a3e"><title>step {st.index}: blend {escape(o.target)} from {escape(_ref(o.source))}</title></circle>')
                case FuseOp():
                    d = 5
                    out.append(f'<path d="M{cx} {cy - d} L{cx + d} {cy} L{cx} {cy + d} L{cx - d} {cy} Z" fill="#c2255c"><title>step {st.index}: fuse {escape(o.target)} from {escape(_ref(o.source))} + {len(o.layers)} layer(s)</title></path>')
                case DropOp():
                    out.append(f'<path d="M{cx - 3} {cy - 3} L{cx + 3} {cy + 3} M{cx - 3} {cy + 3} L{cx + 3} {cy - 3}" stroke="#495057" stroke-width="1.5"><title>step {st.index}: drop {escape(o.target)}</title></path>')
    # legend
    ly = y(len(rows)) + 24
    legend = [
        (f'<rect x="0" y="-9" width="10" height="10" fill="{BOTH}"/>', "both guidance halves"),
        (f'<rect x="0" y="-9" width="10" height="10" fill="{COND}"/>', "cond half only"),
        (f'<rect x="0" y="-9" width="10" height="10" fill="white" stroke="{KEY_COLOURS[names.REMOVE_LATENT]}" stroke-width="2"/>', "cond half key-masked (outline colour = mask; the uncond half never is)"),
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


def _bars(plan: Plan) -> list[tuple[str, str, list[int]]]:
    """(label, colour, steps) of every window, read back from the steps; empty windows are left out."""
    keyed: dict[str, list[int]] = {}
    for st in plan.plan_steps:
        for e in st.evals:
            if e.keymask:
                keyed.setdefault(e.keymask, []).append(st.index)
    blends, fusions, proximal = plan.steps_with(BlendOp, names.REMOVAL), plan.steps_with(FuseOp), plan.steps_with(ProximalOp)
    occluding = [b.id for b in plan.branches if b.role == "occlusion"]
    occlusion_blends = sorted({s for b in occluding for s in plan.steps_with(BlendOp, b)})
    # after the last fusion the output is denoised with nothing pasted into it: the seams blend (method 7)
    last = max(fusions, default=None)
    harmonise = [] if last is None else [st.index for st in plan.plan_steps if st.index > last and any(e.branch == plan.output for e in st.evals)]
    bars = [(f"key: {k} (cond half)", _key_colour(k), v) for k, v in keyed.items()]
    bars += [("Eq.2 blend into L0", "#2b8a3e", blends), ("Eq.5 blend into C^ from C", "#5c940d", occlusion_blends),
             ("fusion", "#c2255c", fusions), ("proximal (t<400)", "#868e96", proximal),
             (f"harmonisation ({plan.output})", "#f08c00", harmonise)]
    return [bar for bar in bars if bar[2]]


def _ref(ref) -> str:
    if ref is None:
        return "?"
    if ref.branch:
        return ref.branch
    return f"z*[{ref.index}] of {ref.inversion}"
