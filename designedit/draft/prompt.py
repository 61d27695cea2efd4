"""What `dedit draft` tells the language model (spec/draft.md says why it is so).

The system message holds the task, the rules a scene must keep, the format's JSON Schema (generated from the
scene model, as `schemas/dedit-1.schema.json`) and worked examples in the paper's manner: an instruction in
plain words, the layer-wise edits it means, and the scene that says them. The user message holds the
picture (an image part, for vision models), its size, the masks on offer and the instruction.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from designedit.model.scene import FORMAT_VERSION

TASK = f"""You turn an image-editing request into a .dedit scene (format version {FORMAT_VERSION}) for the \
DesignEdit method, which edits a picture with Stable Diffusion XL without training: the picture is split into \
a background and object layers (each object selected by a mask), the background has removals (the masked \
region is inpainted) and camera moves (pan, zoom-out), and each layer has ordered transforms (move, resize, \
flip, rotate) that are applied to the object before it is pasted back and harmonised.

Think layer by layer, as a designer would: which objects must move or change (each is a layer, with a mask \
that selects it on the picture), what must disappear (a background removal with a mask), whether the view \
moves (pan or zoom-out). A layer that moves leaves its old place to be inpainted by itself; do not also \
remove it, unless it should be gone. Use "keep": true on a layer to copy an object (the original stays).

Rules:
- Answer with at most a few lines listing the layer-wise edits, then the whole scene as one JSON document in \
a ```json fenced block. Nothing after the block.
- The scene's JSON must follow the JSON Schema below exactly: "dedit" is "{FORMAT_VERSION}"; ids are unique; \
every reference names an existing image or mask.
- Use only the picture and the masks on offer, by the src given for them. Where no mask picture is offered for \
an object, select it with shapes (rect, ellipse, polygon) in the picture's pixels (x to the right, y down, \
from the top-left corner), or with an "attention" shape naming a word of the scene's "prompt" that names \
the object (a model then selects where that word draws its attention); such a word must appear in the prompt.
- Give a "prompt" that describes the picture after the edit in a short sentence (it conditions the model).
- Coordinates and moves are in pixels of the picture (its size is given), or percentages such as "10%".
- dx is positive to the right, dy positive downwards; rotate degrees are clockwise; resize scale > 1 enlarges."""

EXAMPLES: list[dict[str, Any]] = [
    {
        "request": "Move the sun to the top right corner and make it a bit smaller.",
        "picture": "poster.png, 1024x768",
        "masks": ["sun.png (the sun)"],
        "edits": ["layer sun (mask sun.png): resize 0.7, then move right 300 px and up 150 px",
                  "background: nothing to remove (the sun's old place is filled by itself)"],
        "scene": {
            "dedit": FORMAT_VERSION, "prompt": "a summer poster with a small sun in the top right corner",
            "images": [{"id": "poster", "src": "poster.png"}],
            "masks": [{"id": "sun", "src": "sun.png", "grow": 2}],
            "background": {"image": "poster"},
            "layers": [{"id": "sun", "image": "poster", "mask": "sun",
                        "transforms": [{"op": "resize", "scale": 0.7}, {"op": "move", "dx": 300, "dy": -150}]}],
        },
    },
    {
        "request": "Take out the caption along the bottom and shift the view a little to the left.",
        "picture": "street.jpg, 1200x800",
        "masks": [],
        "edits": ["background: remove the caption (a rectangle over the bottom band)",
                  "background: pan the content 120 px to the right, so the view moves left"],
        "scene": {
            "dedit": FORMAT_VERSION, "prompt": "a quiet street at dusk",
            "images": [{"id": "street", "src": "street.jpg"}],
            "masks": [{"id": "caption", "shapes": [{"shape": "rect", "x": 80, "y": 700, "width": 1040, "height": 70}],
                       "grow": 4}],
            "background": {"image": "street", "edits": [{"op": "remove", "mask": "caption"},
                                                        {"op": "pan", "dx": 120, "dy": 0}]},
        },
    },
    {
        "request": "Make the balloons bigger and add a second cake to the right of the first.",
        "picture": "party.png, 1024x1024",
        "masks": ["cake.png (the cake)", "attention words of the prompt"],
        "edits": ["layer balloons (mask: attention to 'balloons'): resize 1.3",
                  "layer cake copy (mask cake.png, keep the original): move right 260 px"],
        "scene": {
            "dedit": FORMAT_VERSION, "prompt": "a birthday table with red balloons and two cakes",
            "images": [{"id": "party", "src": "party.png"}],
            "masks": [{"id": "balloons", "shapes": [{"shape": "attention", "word": "balloons"}], "grow": 6},
                      {"id": "cake", "src": "cake.png"}],
            "background": {"image": "party"},
            "layers": [{"id": "balloons", "image": "party", "mask": "balloons",
                        "transforms": [{"op": "resize", "scale": 1.3}]},
                       {"id": "cake2", "image": "party", "mask": "cake", "keep": True,
                        "transforms": [{"op": "move", "dx": 260, "dy": 0}]}],
        },
    },
]


def example_text(example: dict[str, Any]) -> str:
    masks = ", ".join(example["masks"]) or "none"
    edits = "\n".join(f"- {edit}" for edit in example["edits"])
    scene = json.dumps(example["scene"], indent=1)
    return (f"Request: {example['request']}\nPicture: {example['picture']}\nMasks on offer: {masks}\n"
            f"Answer:\nLayer-wise edits:\n{edits}\n```json\n{scene}\n```")


def system_message(schema_text: str) -> str:
    examples = "\n\n".join(f"Example {i + 1}.\n{example_text(e)}" for i, e in enumerate(EXAMPLES))
    return f"{TASK}\n\nJSON Schema of the scene:\n```json\n{schema_text}\n```\n\nWorked examples:\n\n{examples}"


def user_message(instruction: str, picture_src: str, size: tuple[int, int], picture_url: str,
                 masks: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The request: the text (the picture's src and size, the masks on offer, the instruction) and the picture.
    `masks`: (src, what it is) pairs."""
    offered = [f'- src "{src}": {what}' for src, what in masks]
    offered.append("- attention shapes: any word of your prompt that names an object")
    text = (f"Picture: src \"{picture_src}\", {size[0]}x{size[1]} pixels (shown below, maybe scaled down).\n"
            f"Masks on offer:\n" + "\n".join(offered) + f"\nRequest: {instruction}")
    return {"role": "user", "content": [{"type": "text", "text": text},
                                        {"type": "image_url", "image_url": {"url": picture_url}}]}


def repair_message(problems: Sequence[str]) -> dict[str, Any]:
    listed = "\n".join(f"- {p}" for p in problems)
    return {"role": "user", "content": (
        "dedit's reader refused that scene; each problem is located by a JSON pointer into your document:\n"
        f"{listed}\nAnswer with the whole corrected scene in one ```json fenced block.")}
