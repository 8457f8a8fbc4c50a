"""Text from submissions, made safe for each place it lands: one function per sink.

Everything a submission produced (student ids from file names, messages, exception type names,
cell texts, notes) is hostile data. It is first *bounded* (:func:`bound`: lone surrogates shown as
U+FFFD, a length cap per kind of field), then escaped for its sink:

- :func:`csv_cell`: a spreadsheet must not run it: a cell starting with ``= + - @``, a tab or a CR
  gets a leading single quote (OWASP's advice for CSV injection).
- :func:`terminal`: a terminal must not obey it: control characters (ESC and so OSC 8 links, OSC 52
  clipboard writes and cursor moves; CR, newline, the other C0 and C1 codes) and bidi overrides are
  shown as visible escapes (``\\x1b``), and rich's markup is escaped.
- :func:`html` (escaped text) and :func:`student_html` (a student's own Markdown, rendered: nh3
  keeps formatting only, drops every link target and remote image).
- :func:`markdown` and :func:`fence`: inline Markdown (GitHub job summaries, feedback ``.md``) where
  links, autolinks, emphasis, HTML, pipes and backticks stay text.
- :func:`xml_text`: what XML 1.0 cannot hold, replaced.
"""

from __future__ import annotations

import re
import string
from typing import Any

from grader.files import clean  # noqa: F401  (text every encoder takes: the writers' too)

# The length cap of each kind of field, in characters.
LIMITS = {
    "student": 200,  # an id: a file name or a roster entry
    "file": 500,
    "type": 200,  # an exception's class name
    "code": 500,  # the line of code that raised
    "message": 4000,  # a failure's message (the judge's, quoting the student's values)
    "summary": 300,  # one line of scores.csv
    "note": 1000,
    "cell": 100_000,  # a notebook cell's source
}


def bound(text: Any, field: str = "message") -> str:
    """``text`` cleaned and cut to the cap of ``field`` (see ``LIMITS``), saying how much was cut."""
    text = clean(text)
    limit = LIMITS[field]
    cut = len(text) - limit
    note = f"… ({cut} more characters not shown)"
    if cut <= len(note):  # never cut for less than the note costs ("1 more characters")
        return text
    return text[:limit] + note


# CSV ------------------------------------------------------------------------------------------

CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV cell no spreadsheet reads as a formula; numbers and empty values pass as they are."""
    if not isinstance(value, str):
        return value
    value = clean(value)
    return "'" + value if value.startswith(CSV_FORMULA_START) else value


def from_csv_cell(value: str) -> str:
    """A cell of a CSV the grader wrote, as it was before :func:`csv_cell` (to read scores.csv back)."""
    return value[1:] if value.startswith("'") and value[1:].startswith(CSV_FORMULA_START) else value


def csv_table(frame):
    """A copy of a pandas table with every text cell made safe by :func:`csv_cell`."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    frame = frame.copy()
    for column in frame.columns:
        if not (is_numeric_dtype(frame[column]) or is_bool_dtype(frame[column])):  # object or str
            frame[column] = frame[column].map(csv_cell)
    return frame


# Terminal -------------------------------------------------------------------------------------

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def visible(text: Any, field: str = "message") -> str:
    """Control characters and bidi overrides shown as escapes (``\\x1b``, ``\\n``, ``\\u202e``)."""
    def shown(match: re.Match) -> str:
        char = match.group()
        return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")

    return _INVISIBLE.sub(shown, bound(text, field))


def terminal(text: Any, field: str = "message") -> str:
    """Text for rich to print: :func:`visible`, and rich's ``[markup]`` escaped."""
    from rich.markup import escape

    return escape(visible(text, field))


def terminal_lines(text: Any, field: str = "message") -> str:
    """:func:`terminal` for a message of several lines (a table's cell): its line breaks kept as
    line breaks, every other control character still shown as an escape."""
    from rich.markup import escape

    return "\n".join(escape(visible(line, field)) for line in bound(text, field).split("\n"))


# HTML -----------------------------------------------------------------------------------------

def html(text: Any, field: str = "message"):
    """Text for an HTML page, escaped (a ``markupsafe.Markup``)."""
    from markupsafe import escape

    return escape(bound(text, field))


STUDENT_TAGS = {"abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
                "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre",
                "s", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead",
                "tr", "ul"}  # formatting only: no link ("a" keeps its text), form, frame, style or script
STUDENT_ATTRIBUTES = {"img": {"src", "alt", "width", "height"}, "td": {"colspan", "rowspan", "align"},
                      "th": {"colspan", "rowspan", "align"}}  # no class, id or style: none of ours
_IMAGE_WITHOUT_SOURCE = re.compile(r"<img\b(?![^>]*\ssrc=)([^>]*)>")
_ALT = re.compile(r'\salt="([^"]*)"')


def student_html(fragment: str) -> str:
    """The HTML of a student's rendered Markdown with formatting only (nh3): no script, style, form,
    frame, event handler, class or id; links keep their text, not their target; images only when
    embedded in the notebook (``data:``), a remote one replaced by a note."""
    import nh3

    def embedded_images_only(tag: str, name: str, value: str) -> str | None:
        if tag == "img" and name == "src" and not value.startswith("data:image/"):
            return None
        return value

    cleaned = nh3.clean(clean(fragment), tags=STUDENT_TAGS, clean_content_tags={"script", "style"},
                        attributes=STUDENT_ATTRIBUTES, attribute_filter=embedded_images_only,
                        url_schemes={"data"}, strip_comments=True, link_rel=None)

    def note(match: re.Match) -> str:
        alt = _ALT.search(match.group(1))
        what = f": {alt.group(1)}" if alt and alt.group(1) else ""
        return f'<span class="grader-dropped">[image from outside the notebook, not shown{what}]</span>'

    return _IMAGE_WITHOUT_SOURCE.sub(note, cleaned)


# Markdown -------------------------------------------------------------------------------------

MD_SPECIAL = "\\`*_[]|~"  # inline Markdown (GFM): code, emphasis, links, table cells, strikethrough
MD_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}  # raw HTML and entities
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)(?=[\w-])")  # GFM's autolinks and mentions
_MD_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def markdown(text: Any, field: str = "message") -> str:
    """Text as literal Markdown on one line (a heading, a paragraph, a table cell): nothing in it
    can format, link (autolinks included), mention, quote, make a list or inject HTML."""
    text = " ".join(_MD_CONTROL.sub("\ufffd", bound(text, field)).split())
    text = _AUTOLINK.sub("\u200b", text)  # a zero-width space: https:\u200b// is not a link
    escaped = "".join(MD_ENTITIES.get(c) or ("\\" + c if c in MD_SPECIAL else c) for c in text)
    if text and text[0] in string.punctuation and text[0] not in MD_SPECIAL + "<>&":
        escaped = "\\" + escaped  # a list item, heading or quote marker at the start of a line
    return escaped


def fence(text: Any, field: str = "message") -> str:
    """Text as a fenced code block that nothing inside it can close."""
    text = bound(text, field)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{text}\n{ticks}"


# XML ------------------------------------------------------------------------------------------

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: Any, field: str = "message") -> str:
    """Text for XML 1.0 (JUnit): the characters it cannot hold become U+FFFD."""
    return _XML_INVALID.sub("\ufffd", bound(text, field))
