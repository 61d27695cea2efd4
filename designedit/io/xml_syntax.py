"""libxml2's syntax errors in plain words.

libxml2 names its own functions (`xmlParseEntityRef: no name`, `AttValue: " or ' expected`) and copies
pieces of the document into its messages. People get one sentence that says what is wrong and, where there
is one, what to write instead; whatever is echoed from the document is shortened and escaped.
"""

from __future__ import annotations

import re
from typing import Callable, Union

from designedit.model.quoting import escape, quote, shorten

_FIXED = "an attribute is written name=\"value\""


def _code(text: str, base: int = 10) -> str:
    return f"U+{int(text, base):04X}"


def _tag(name: str) -> str:
    return "<" + escape(shorten(name)) + ">"


Rewrite = Union[str, Callable[[re.Match], str]]

# (libxml2's message, matched from its start; the sentence) - most specific first
_RULES: list[tuple[str, Rewrite]] = [
    (r"xmlParseEntityRef: no name", "a bare '&' must be written '&amp;'"),
    (r"EntityRef: expecting ';'", "an '&' starts a reference that has no ';' to end it; a bare '&' must be written '&amp;'"),
    (r"Entity '(.*)' not defined", lambda m: f"'&{escape(shorten(m[1]))};' is no reference XML knows (only &amp; &lt; &gt; "
                                             "&quot; &apos; and character references are); a bare '&' must be written '&amp;'"),
    (r"xmlParseCharRef: invalid xmlChar value (\d+)", lambda m: f"a character reference names {_code(m[1])}, which XML does not allow"),
    (r"xmlParseCharRef: character reference out of bounds", "a character reference names a number past U+10FFFF, the last character"),
    (r"CharRef: invalid (?:decimal|hexadecimal) value", "a character reference (&#...;) does not hold a number"),
    (r"xmlParseComment: invalid xmlChar value (\d+)", lambda m: f"a comment holds the character {_code(m[1])}, which XML does not allow"),
    (r"PCDATA invalid Char value (\d+)", lambda m: f"the text holds the character {_code(m[1])}, which XML does not allow"),
    (r"(?:Invalid character: )?Char 0x([0-9A-Fa-f]+) out of allowed range",
     lambda m: f"the document holds the character {_code(m[1], 16)}, which XML does not allow"),
    (r"invalid character in attribute value", "an attribute value holds a character XML does not allow"),
    (r"AttValue: \" or ' expected", f"an attribute's value must be in quotes ({_FIXED})"),
    (r"AttValue: ' expected", "an attribute's value has no closing quote"),
    (r"String not closed expecting \" or '", "a quoted value has no closing quote"),
    (r"String not started expecting ' or \"", "a value must be in quotes here"),
    (r"attributes construct error", f"an attribute is not written as one ({_FIXED})"),
    (r"error parsing attribute name", f"an attribute name is not valid here ({_FIXED})"),
    (r"Specification mandates value for attribute (.*)", lambda m: f"the attribute {quote(m[1])} has no value ({_FIXED})"),
    (r"Attribute (.*) redefined", lambda m: f"the attribute {quote(m[1])} is given twice"),
    (r"Unescaped '<' not allowed in attributes values", "a '<' in an attribute value must be written '&lt;'"),
    (r"Couldn't find end of Start Tag (\S*) line (\d+)", lambda m: f"the start tag {_tag(m[1])} of line {m[2]} has no '>' to end it"),
    (r"Opening and ending tag mismatch: (\S*) line (\d+) and (\S*)",
     lambda m: f"the end tag </{escape(shorten(m[3]))}> does not close {_tag(m[1])} of line {m[2]}"),
    (r"Premature end of data in tag (\S*) line (\d+)", lambda m: f"the document ends before {_tag(m[1])} of line {m[2]} is closed"),
    (r"Extra content at the end of the document", "there is more after the root element's end tag; a document has one root element"),
    (r"Start tag expected, '<' not found", "the document has no root element"),
    (r"Document is empty", "the document has no root element"),
    (r"StartTag: invalid element name", "a '<' must start an element name here; a '<' in text must be written '&lt;'"),
    (r"Sequence '\]\]>' not allowed in content", "']]>' in text must be written ']]&gt;'"),
    (r"Double hyphen within comment", "a comment may not hold '--'"),
    (r"Comment not terminated", "a comment has no '-->' to end it"),
    (r"CData section not finished", "a CDATA section has no ']]>' to end it"),
    (r"xmlParsePI ?: no target name", "a processing instruction '<?' has no name"),
    (r"ParsePI: PI (\S*) space expected", lambda m: f"the processing instruction '<?{escape(shorten(m[1]))}' needs a space after its name"),
    (r"ParsePI: PI (\S*) never end", lambda m: f"the processing instruction '<?{escape(shorten(m[1]))}' has no '?>' to end it"),
    (r"colons are forbidden from PI names '(.*)'", lambda m: f"the processing instruction name {quote(m[1])} may not hold ':'"),
    (r"XML declaration allowed only at the start of the document", "the XML declaration (<?xml ...?>) may only come first"),
    (r"parsing XML declaration: '\?>' expected", "the XML declaration (<?xml ...?>) has no '?>' to end it"),
    (r"Malformed declaration expecting version", "the XML declaration needs a version: <?xml version=\"1.0\"?>"),
    (r"Unsupported version '(.*)'", lambda m: f"XML version {quote(m[1])} is not supported; write version=\"1.0\""),
    (r"Blank needed here", "a space is needed here"),
    (r"expected '='", f"an attribute name must be followed by '=' ({_FIXED})"),
    (r"expected '>'", "a '>' is needed here"),
    (r"Failed to parse QName '(.*)'", lambda m: f"{quote(m[1])} is not a valid name"),
    (r"Namespace prefix (\S*) on (\S*) is not defined",
     lambda m: f"the prefix {quote(m[1])} of {quote(m[2])} is not declared (.dedit documents use no namespaces)"),
    (r"Namespace prefix (\S*) for (\S*) on (\S*) is not defined",
     lambda m: f"the prefix {quote(m[1])} of {quote(m[2])} is not declared (.dedit documents use no namespaces)"),
    (r"[Nn]ame too long", "a name in the document is too long (names are at most 50000 characters)"),
    (r"Maximum entity amplification factor exceeded", "references in the document expand too much"),
    (r"internal error: Huge input lookup", "a single text or value in the document is too long"),
]
_COMPILED = [(re.compile(pattern), rewrite) for pattern, rewrite in _RULES]
_FUNCTION_NAME = re.compile(r"^(?:xml[A-Za-z]+|[A-Za-z]*(?:AttValue|EntityRef|CharRef|StartTag|EndTag|ParsePI|parsePI))\s*:\s*")


def plain(message: str) -> str:
    """The sentence for one of libxml2's messages (without its ', line L, column C' tail)."""
    message = message.strip()
    for pattern, rewrite in _COMPILED:
        found = pattern.match(message)
        if found:
            return rewrite if isinstance(rewrite, str) else rewrite(found)
    # one not known here: at least no function name, no raw document text, no runaway length
    text = escape(shorten(_FUNCTION_NAME.sub("", message).split("\n", 1)[0], 120))
    return text[:1].lower() + text[1:] if text[1:2].islower() else text
