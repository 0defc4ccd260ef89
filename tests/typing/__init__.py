"""Files that type checkers check: mypy --strict and pyright (strict) must both pass them.

Each misuse carries the error both checkers must report: ``# type: ignore[code]`` for
mypy (``warn_unused_ignores`` flags one that no longer fails) and ``# pyright:
ignore[rule]`` for pyright (``reportUnnecessaryTypeIgnoreComment``; pyright reads no
``type: ignore`` comment here, see ``[tool.pyright]``). The code is in functions that
nothing calls: importing a module defines its models (tests/unit/test_typed_models.py
does, to show they work at run time too). ``notes_app.py`` is the README's FastAPI
example, word for word (tests/unit/test_typed_models.py compares them), run by
tests/integration/test_fastapi_example.py.
"""
