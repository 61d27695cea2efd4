"""One request to an OpenAI-compatible chat endpoint (`{base}/chat/completions`), with the standard library.

Bounded: the answer is read up to `MAX_RESPONSE_BYTES` (more is refused, not truncated into a wrong scene) and
the whole exchange waits at most `timeout` seconds. Sends only what it is given, only to `base`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Optional

from designedit.errors import DeditError, UsageError

MAX_RESPONSE_BYTES = 4 * 1024 * 1024  # a scene is a few kB; a chat answer with some prose stays far below
DEFAULT_TIMEOUT_S = 180.0  # a local vision model on a laptop may take a minute or two per answer


def completions_url(base: str) -> str:
    """`{base}/chat/completions` for a base URL as OpenAI clients take it (http://localhost:11434/v1)."""
    base = base.strip()
    if not base.lower().startswith(("http://", "https://")):
        raise UsageError(f"the language model's URL {base!r} is not an http:// or https:// address (give the API's base, "
                         "such as http://localhost:11434/v1).")
    return base.rstrip("/") + "/chat/completions"


def chat(base: str, model: str, messages: list[dict[str, Any]], key: Optional[str] = None,
         timeout: float = DEFAULT_TIMEOUT_S, max_bytes: int = MAX_RESPONSE_BYTES) -> str:
    """The text of the first choice's message."""
    url = completions_url(base)
    body = json.dumps({"model": model, "messages": messages, "temperature": 0}).encode("utf-8")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        detail = exc.read(2000).decode("utf-8", "replace").strip().replace("\n", " ")
        raise DeditError(f"the language model at {url} answered HTTP {exc.code}" + (f": {detail[:300]}" if detail else ".")) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeditError(f"the language model at {url} could not be reached: {reason}.") from None
    if len(raw) > max_bytes:
        raise DeditError(f"the language model at {url} answered more than {max_bytes} bytes; a scene is far smaller.")
    try:
        answer = json.loads(raw.decode("utf-8"))
        content = answer["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise DeditError(f"the answer of {url} is not an OpenAI-style chat completion (choices[0].message.content).") from None
    if isinstance(content, list):  # some servers answer in parts
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    if not isinstance(content, str):
        raise DeditError(f"the answer of {url} has no text in choices[0].message.content.")
    return content
