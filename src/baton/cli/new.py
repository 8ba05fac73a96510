"""`baton new NAME`: scaffold an application that `baton run` runs at once.

The files come from `scaffold/*.tmpl` (`str.format` with `name`): module.yaml, functions.py
(official SDK), test_functions.py (the embedded runtime), pyproject.toml, README.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

SCAFFOLD = Path(__file__).resolve().parent / "scaffold"
# The name becomes the function namespace and a directory: keep it to what both accept.
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_FILES = {
    "module.yaml.tmpl": "module.yaml",
    "functions.py.tmpl": "functions.py",
    "test_functions.py.tmpl": "test_functions.py",
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "gitignore.tmpl": ".gitignore",
}


@click.command(short_help="Create a new application (module.yaml, SDK functions, a test).")
@click.argument("name")
@click.option("--directory", "-C", "parent", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="Where to create the NAME directory.")
def new(name: str, parent: Path) -> None:
    """Create NAME/ with a working application: `cd NAME && baton run`.

    NAME is also the function namespace (`NAME/greeter`): lower-case letters, digits, `-`, `_`.

    \b
    Example:
      baton new demo && cd demo && baton run
      pytest                          # in demo/: the scaffold's own test
    """
    if not _NAME.match(name):
        raise click.BadParameter(
            f"{name!r}: use lower-case letters, digits, '-' or '_', starting with a letter "
            "(it becomes the function namespace)", param_hint="NAME",
        )
    target = parent / name
    if target.exists() and any(target.iterdir()):
        raise click.ClickException(f"{target} exists and is not empty: choose another NAME or -C DIR")
    target.mkdir(parents=True, exist_ok=True)
    for template, filename in _FILES.items():
        text = (SCAFFOLD / template).read_text().format(name=name)
        (target / filename).write_text(text)
    click.echo(f"created {target}/: {', '.join(_FILES.values())}")
    click.echo(f"  cd {target} && baton run      # then, in another terminal:")
    click.echo(f"  curl -X PUT -H 'Content-Type: application/vnd.{name}/Greet' "
               f"""-d '{{"name": "Bob"}}' localhost:8090/{name}/greeter/Bob""")
    click.echo("  curl localhost:8091/greetings")
