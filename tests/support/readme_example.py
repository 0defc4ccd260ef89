"""The example test file of the README's "Testing your code" section, as the README has it.

The section is in ``README.md``; until it is, it is in ``notes/README-section.md``.
:func:`section_text` and :func:`python_blocks` read any other section too (the FastAPI
example's test compares that section's block with ``tests/typing/notes_app.py``).
:func:`example_files` gives the example as a user would save it: the complete
file, and the file with the async example added. ``python -m
tests.support.readme_example DIR [--async]`` writes ``DIR/test_orders.py``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["SECTION", "example_files", "python_blocks", "section_text"]

REPO = Path(__file__).resolve().parents[2]
SECTION = "## Testing your code"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def section_text(section: str = SECTION) -> str:
    """The section's text: from its heading to the next heading of its level or above
    (the README's title aside: code blocks have comments that start with "# ")."""
    level = len(section) - len(section.lstrip("#"))
    for source in (REPO / "README.md", REPO / "notes" / "README-section.md"):
        if not source.is_file():
            continue
        text = "\n" + source.read_text(encoding="utf-8")
        start = text.find(f"\n{section}\n")
        if start == -1:
            continue
        ends = [text.find(f"\n{'#' * above} ", start + 1) for above in range(2, level + 1)]
        end = min((found for found in ends if found != -1), default=-1)
        return text[start + 1 : end if end != -1 else None]
    raise LookupError(f"no {section!r} section in README.md or notes/README-section.md")


def python_blocks(section: str = SECTION) -> list[str]:
    """The section's Python code blocks, in order."""
    return _BLOCK.findall(section_text(section))


def example_files() -> tuple[str, str]:
    """(the example test file, the same with the async example added)."""
    blocks = python_blocks()
    example = next(block for block in blocks if "def test_" in block and "import dynamodb" in block)
    extra = next(block for block in blocks if "asyncio.run" in block and "def test_" in block)
    return example, f"{example}\n\n{extra}"


def main(argv: Sequence[str] | None = None) -> int:
    """Write the example into a folder, as ``test_orders.py``."""
    parser = argparse.ArgumentParser(prog="python -m tests.support.readme_example")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--async", dest="with_async", action="store_true")
    args = parser.parse_args(argv)
    example, with_async = example_files()
    args.folder.mkdir(parents=True, exist_ok=True)
    (args.folder / "test_orders.py").write_text(with_async if args.with_async else example)
    return 0


if __name__ == "__main__":
    sys.exit(main())
