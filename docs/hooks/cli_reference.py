"""MkDocs hook: the command reference, generated from the command line's own parser.

``docs/reference/cli.md`` holds two marker lines, ``<!-- cli-reference -->`` and
``<!-- /cli-reference -->``; on every build this hook replaces them and what lies between (a note
for whoever reads the page's source) with every command, subcommand and option that
``grader.cli.main.build_parser()`` declares, with their help text, so the reference cannot drift
from the code.
``tests/test_docs.py`` imports :func:`reference_markdown` from this file.
"""

from __future__ import annotations

import argparse
import os

MARKER = "<!-- cli-reference -->"
END = "<!-- /cli-reference -->"
PAGE = "reference/cli.md"
WIDTH = "96"  # the usage lines' width, fixed so that a build does not depend on the terminal


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if markdown.count(MARKER) != 1 or markdown.count(END) != 1 or markdown.index(END) < markdown.index(MARKER):
        raise ValueError(f"{PAGE} needs one {MARKER} line and, after it, one {END} line: the command "
                         "reference goes between them")
    head, rest = markdown.split(MARKER)
    return head + reference_markdown() + rest.split(END)[1]


def reference_markdown() -> str:
    from grader.cli.main import build_parser

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        return "\n".join(_sections(build_parser(), level=2))
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved


def commands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """``parser`` and every parser below it, depth first, in the order they were declared."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases map to the same parser
                found.extend(commands(sub))
    return found


def _sections(parser: argparse.ArgumentParser, level: int) -> list[str]:
    lines = [f"{'#' * level} `{parser.prog}`", ""]
    if parser.description:
        lines += [_text(parser.description), ""]
    lines += ["```text", parser.format_usage().strip(), "```", ""]
    rows = [action for action in parser._actions if not isinstance(action, argparse._SubParsersAction)]
    if rows:
        lines += ["| argument | default | what it does |", "| --- | --- | --- |"]
        lines += [_row(action, help_text(parser, action)) for action in rows]
        lines.append("")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            lines += ["| command | what it does |", "| --- | --- |"]
            for name, sub in action.choices.items():
                lines.append(f"| [`{sub.prog}`](#{_anchor(sub.prog)}) | {_cell(helps.get(name) or '')} |")
            lines.append("")
            for sub in dict.fromkeys(action.choices.values()):
                lines += _sections(sub, level + 1)
    return lines


def help_text(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """An option's help as ``--help`` prints it (``%(default)s`` and ``%%`` expanded), on one line."""
    if not action.help or action.help == argparse.SUPPRESS:
        return ""
    return _text(parser._get_formatter()._expand_help(action))


def _row(action: argparse.Action, text: str) -> str:
    if action.option_strings:
        shown = ", ".join(f"`{_invocation(flag, action)}`" for flag in action.option_strings)
    else:
        shown = f"`{action.metavar or action.dest.upper()}`"
    return f"| {shown} | {_cell(_default(action))} | {_cell(text)} |"


def _invocation(flag: str, action: argparse.Action) -> str:
    if action.nargs == 0:
        return flag
    if action.metavar:
        return f"{flag} {action.metavar}"
    if action.choices:
        return f"{flag} {{{','.join(map(str, action.choices))}}}"
    return f"{flag} {action.dest.upper()}"


def _default(action: argparse.Action) -> str:
    if action.required:
        return "required"
    if action.nargs == 0 or action.default in (None, argparse.SUPPRESS, []):
        return ""
    if "(default" in (action.help or ""):
        return ""  # its text says it (-j: os.cpu_count() would be the building machine's)
    return f"`{action.default}`"


def _text(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _anchor(prog: str) -> str:
    """The id MkDocs' toc extension gives a heading ``prog`` (its default slugify)."""
    return "-".join(prog.lower().split())
