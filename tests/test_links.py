"""Every relative link of the docs points to a file that exists, and to a heading that exists.

The README is a map: most of what it used to say lives in docs/, image/README.md and
constructs/README.md now, and those pages link to each other by section. A page or a heading
that moves or is renamed must not leave a dead link behind, so every relative link in the
project's Markdown (README.md, docs/*.md, and the README.md of each top-level directory and of
image/'s subdirectories) is checked: the target exists, and a `#anchor` is the anchor GitHub makes
of one of the target's headings (or of the page itself). Links in code blocks and code spans are
not links, and are ignored; so are absolute URLs and mail addresses.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _pages() -> list[Path]:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "docs").glob("*/*.md"))]
    pages += sorted(p for p in ROOT.glob("*/README.md") if not p.parent.name.startswith(".")
                    and p.parent.name != "node_modules")
    pages += sorted((ROOT / "image").glob("*/**/*.md"))
    return list(dict.fromkeys(p for p in pages if p.is_file()))


PAGES = _pages()
FENCE = re.compile(r"^ {0,3}(```|~~~)")
# [text](target) or ![alt](target); the target ends at the first blank or closing parenthesis
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"")


def _prose_lines(text: str) -> list[str]:
    """The lines outside fenced and indented code blocks (the others blank)."""
    lines, fenced, previous_blank = [], False, True
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            lines.append("")
            continue
        indented_code = previous_blank and line.startswith("    ") and not line.lstrip().startswith(("-", "*", "|"))
        if fenced or indented_code:
            lines.append("")
            # an indented block goes on until a line that is not indented and not blank
            previous_blank = previous_blank if indented_code else False
            continue
        previous_blank = not line.strip()
        lines.append(line)
    return lines


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text lower-cased, punctuation dropped, blanks as -."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").replace("*", "")
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    counts: dict[str, int] = {}
    for line in _prose_lines(page.read_text()):
        found.update(HTML_ANCHOR.findall(line))
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        number = counts.get(base, 0)
        counts[base] = number + 1
        found.add(base if number == 0 else f"{base}-{number}")
    return found


def links(page: Path) -> list[tuple[int, str]]:
    return [(number, target)
            for number, line in enumerate(_prose_lines(page.read_text()), 1)
            for target in LINK.findall(CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line))]


def _broken(page: Path) -> list[str]:
    problems = []
    for number, target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto:, ...
            continue
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / unquote(path_part)).resolve() if path_part else page
        where = f"{page.relative_to(ROOT)}:{number}: {target}"
        if not destination.exists():
            problems.append(f"{where}: no such file")
        elif anchor and destination.suffix == ".md" and unquote(anchor) not in anchors(destination):
            problems.append(f"{where}: no heading with that anchor in {destination.relative_to(ROOT)}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_resolves(page):
    assert _broken(page) == []


def test_the_pages_checked_include_the_map_and_the_moved_docs():
    names = {str(p.relative_to(ROOT)) for p in PAGES}
    assert {"README.md", "image/README.md", "docs/deploying.md", "docs/security.md", "docs/recipes/widgets.md"} <= names


def test_the_readme_links_every_page_of_docs():
    linked = {(ROOT / unquote(target.partition("#")[0])).resolve()
              for _, target in links(ROOT / "README.md") if not re.match(r"^[a-z]+:", target)}
    pages = sorted((ROOT / "docs").glob("*.md")) + sorted((ROOT / "docs").glob("*/*.md"))
    missing = [str(p.relative_to(ROOT)) for p in pages if p.resolve() not in linked]
    assert missing == []


@pytest.mark.parametrize("heading, anchor", [
    ("Deploying to Kubernetes: `cluster-stack` and `viewer-stack`", "deploying-to-kubernetes-cluster-stack-and-viewer-stack"),
    ("The seed's four templates as commands", "the-seeds-four-templates-as-commands"),
    ("The provider lock file, `.terraform.lock.hcl`", "the-provider-lock-file-terraformlockhcl"),
    ("Figures (this project's CI machine: 2 cores, Podman 4.3, `tests/e2e`)",
     "figures-this-projects-ci-machine-2-cores-podman-43-testse2e"),
    ("Threat model: who can reach what", "threat-model-who-can-reach-what"),
    ("IPYTHON_MAX_MESSAGE_MIB", "ipython_max_message_mib"),
])
def test_slug_is_githubs(heading, anchor):
    assert slug(heading) == anchor


def test_a_broken_link_and_a_broken_anchor_are_found(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "other.md").write_text("# Other page\n\n## A section\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#a-section) [gone](missing.md) [bad anchor](other.md#no-such)\n"
        "`[in a code span](missing.md)`\n\n```\n[in a fence](missing.md)\n```\n"
        "[self](#title) [web](https://example.org/x.md)\n\n# Title\n"
    )
    assert _broken(page) == [
        "page.md:1: missing.md: no such file",
        "page.md:1: other.md#no-such: no heading with that anchor in other.md",
    ]
