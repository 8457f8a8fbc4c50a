"""The documentation site (docs/, mkdocs.yml): the command reference is generated from the parser
and names every command and option; every page is in the navigation and every link from the README
into docs/ resolves; the package layout page follows the layers contract; the site builds with
warnings as errors."""

import argparse
import importlib.util
import re
import subprocess
import sys
import tomllib

import pytest

from conftest import ROOT

DOCS = ROOT / "docs"


def _hook():
    spec = importlib.util.spec_from_file_location("cli_reference", DOCS / "hooks" / "cli_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _nav_pages(nav) -> list[str]:
    pages = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages.extend(_nav_pages(value) if isinstance(value, list) else [value])
    return pages


def _mkdocs_config() -> dict:
    text = (ROOT / "mkdocs.yml").read_text()
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(text)


def test_the_reference_names_every_command_and_option():
    from grader.cli.main import build_parser

    hook = _hook()
    text = hook.reference_markdown()
    parsers = hook.commands(build_parser())
    names = {p.prog for p in parsers}
    assert {"grader grade", "grader check", "grader list", "grader ci", "grader export gradescope",
            "grader export canvas", "grader assign", "grader audit", "grader doctor", "grader similar",
            "grader release"} <= names
    for parser in parsers:
        assert re.search(rf"^#+ `{re.escape(parser.prog)}`$", text, re.M), parser.prog
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            for flag in action.option_strings:
                assert f"`{flag}" in text, (parser.prog, flag)
            if action.help and action.help != argparse.SUPPRESS:
                assert hook.help_text(parser, action).replace("|", "\\|") in text, (parser.prog, action.dest)


def test_the_reference_page_is_generated_not_written():
    page = (DOCS / "reference" / "cli.md").read_text()
    hook = _hook()
    assert page.count(hook.MARKER) == 1 and page.count(hook.END) == 1
    assert "--late-from-mtime" not in page  # written by the hook at build time, never by hand
    assert "docs/hooks/cli_reference.py" in _mkdocs_config()["hooks"]


def test_a_lost_marker_stops_the_build():
    hook = _hook()

    class Page:
        class file:
            src_uri = hook.PAGE

    with pytest.raises(ValueError, match="cli-reference"):
        hook.on_page_markdown("# Commands\n", Page, None, None)
    with pytest.raises(ValueError, match="cli-reference"):
        hook.on_page_markdown(f"# Commands\n{hook.MARKER}\n", Page, None, None)
    source = f"# Commands\n{hook.MARKER}\nsource note\n{hook.END}\nafter\n"
    built = hook.on_page_markdown(source, Page, None, None)
    assert "source note" not in built and "cli-reference" not in built
    assert built.startswith("# Commands\n## `grader`") and built.endswith("\nafter\n")


def test_every_page_is_in_the_navigation_and_exists():
    config = _mkdocs_config()
    nav = _nav_pages(config["nav"])
    on_disk = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert sorted(nav) == on_disk
    for role in ("instructor", "student", "author", "ci", "operator"):
        assert f"tutorials/{role}.md" in nav
    for page in ("sandbox.md", "grace.md", "by-hand.md", "doors.md", "data-files.md", "report.md",
                 "speed.md", "layout.md", "install.md", "reference/cli.md"):
        assert page in nav
    assert config.get("strict") is True


def test_the_readme_is_short_and_its_links_into_docs_resolve():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 120
    assert "make demo" in readme and "make test" in readme
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [link for link in links if not re.match(r"[a-z]+://", link)]
    assert any(link.startswith("docs/") for link in local)
    for link in local:
        assert (ROOT / link).exists(), link
    for page in ("tutorials/instructor.md", "tutorials/student.md", "tutorials/author.md",
                 "tutorials/ci.md", "tutorials/operator.md", "install.md", "reference/cli.md"):
        assert f"docs/{page}" in readme, page


def test_the_layout_page_follows_the_layers_contract():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (contract,) = [c for c in pyproject["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    contract_order = [name.strip() for layer in contract["layers"] for name in layer.split("|")]
    page = (DOCS / "layout.md").read_text()
    rows = re.findall(r"^\| [^|]+ \| `(grader\.[a-z_]+)` \|", page, re.M)
    assert rows == contract_order
    packages = {f"grader.{p.parent.name}" for p in (ROOT / "grader").glob("*/__init__.py")}
    modules = {f"grader.{p.stem}" for p in (ROOT / "grader").glob("*.py")
               if p.stem not in ("__init__", "__main__", "compare")}  # compare: api's deprecated shim
    assert packages | modules == set(rows)


def test_the_site_builds_with_warnings_as_errors(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir",
                            str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True, timeout=300,
                           env={"PATH": "/usr/bin:/bin", "NO_MKDOCS_2_WARNING": "1", "LANG": "C.UTF-8"})
    assert built.returncode == 0, built.stderr[-3000:]
    reference = (tmp_path / "site" / "reference" / "cli" / "index.html").read_text()
    assert "--late-from-mtime" in reference and "grader export gradescope" in reference
    assert "cli-reference" not in reference and "reading this page's source" not in reference
