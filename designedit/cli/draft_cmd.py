"""dedit draft PICTURE "INSTRUCTION": a scene drafted by a language model (any OpenAI-compatible chat
endpoint), read and checked by dedit, repaired from its located problems, written atomically.

Nothing is sent anywhere unless --llm (or $DEDIT_LLM_URL) names the endpoint. What the model is told:
spec/draft.md. The scene is a draft: read it, and render it with the preview first.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from designedit.cli.table import bounded
from designedit.errors import UsageError

URL_ENV, KEY_ENV, MODEL_ENV = "DEDIT_LLM_URL", "DEDIT_LLM_KEY", "DEDIT_LLM_MODEL"


_repairs = bounded(int, 0, 10, "{text!r} is not a whole number", "{text} is not between 0 and 10")
_seconds = bounded(float, 1, 3600, "{text!r} is not a number of seconds", "{text} is not between 1 and 3600 seconds")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("draft", help="draft a scene from an instruction with a language model (OpenAI-compatible API)",
                              description=__doc__)
    p.add_argument("picture", type=Path, metavar="PICTURE", help="the picture to edit")
    p.add_argument("instruction", metavar="INSTRUCTION", help='the edit in plain words, e.g. "move the sun to the right"')
    p.add_argument("-o", "--output", type=Path, metavar="SCENE",
                   help="scene to write (default: PICTURE's name with .dedit, beside it); XML, or JSON for a .json name")
    p.add_argument("--llm", metavar="URL", help=f"the API's base URL, e.g. http://localhost:11434/v1 (default: ${URL_ENV}); "
                   "requests go to URL/chat/completions")
    p.add_argument("--llm-model", metavar="NAME", help=f"the model to ask (default: ${MODEL_ENV}, else 'default')")
    p.add_argument("--llm-key", metavar="KEY", help=f"the API key, sent as a bearer token (default: ${KEY_ENV}; none)")
    p.add_argument("--masks", type=Path, metavar="DIR", help="mask pictures to offer the model, by file name")
    p.add_argument("--repairs", type=_repairs, default=2, metavar="N",
                   help="answers with problems sent back for repair, at most (default 2)")
    p.add_argument("--timeout", type=_seconds, default=180.0, metavar="S", help="seconds to wait for each answer (default 180)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from designedit.draft import endpoint
    from designedit.draft.drafting import draft_scene

    url = args.llm or os.environ.get(URL_ENV)
    if not url:
        raise UsageError(f"dedit draft asks a language model: give its API's base URL with --llm URL or ${URL_ENV} "
                         "(nothing is sent anywhere without one).")
    endpoint.completions_url(url)  # a malformed URL is refused before the picture is read
    if not args.picture.is_file():
        raise UsageError(f"the picture {args.picture} does not exist.")
    model = args.llm_model or os.environ.get(MODEL_ENV) or "default"
    key = args.llm_key or os.environ.get(KEY_ENV) or None
    output = args.output if args.output is not None else args.picture.with_suffix(".dedit")

    def ask(messages):
        return endpoint.chat(url, model, messages, key=key, timeout=args.timeout)

    drafted = draft_scene(args.picture, args.instruction, output, ask, masks=args.masks, repairs=args.repairs,
                          note=lambda line: print(f"note: {line}", file=sys.stderr, flush=True))
    print(f"wrote {drafted.path} ({drafted.answers} answer{'s' if drafted.answers > 1 else ''}); "
          f"check it with `dedit render {drafted.path} --renderer preview`")
    return 0
