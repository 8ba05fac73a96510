"""Writing the endpoint document into module.yaml: replace in place, keep everything else."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from baton.deploy.endpoint import direct_endpoint, render, url_endpoint, write_module
from baton.deploy.errors import DeployError

URL = "https://abcdefghijklmnopqrstuvwxyz0123456789.lambda-url.eu-west-1.on.aws/"
ENDPOINT = url_endpoint("orders/*", URL, "eu-west-1", "AWS_IAM")

EGRESS = """\
---
# egress, with its own comment
kind: io.statefun.playground.v1/egress
spec:
  port: 8091
  topics: [greetings, "quoted"]   # flow style and quotes survive
"""


def docs(path: Path) -> list:
    return list(YAML(typ="safe").load_all(path.read_text()))


def test_render_keeps_long_urls_on_one_line():
    text = render(ENDPOINT)
    assert f"urlPathTemplate: {URL}\n" in text
    assert YAML(typ="safe").load(text) == ENDPOINT


def test_missing_file_is_created(tmp_path: Path):
    module = tmp_path / "app" / "module.yaml"
    assert write_module(module, ENDPOINT) == "created"
    assert docs(module) == [ENDPOINT]


def test_replaces_the_document_for_the_same_functions_in_place(tmp_path: Path):
    module = tmp_path / "module.yaml"
    head = "%YAML 1.2\n---\n# my orders endpoint\n"
    old = ("kind: io.statefun.endpoints.v2/http\nspec:\n  functions: orders/*\n"
           "  urlPathTemplate: http://localhost:8000/statefun  # local\n")
    tail = "# trailing note about orders\n"
    module.write_text(head + old + tail + EGRESS)
    assert write_module(module, ENDPOINT) == "replaced"
    assert module.read_text() == head + render(ENDPOINT) + tail + EGRESS
    assert write_module(module, ENDPOINT) == "unchanged"
    # switching to direct invoke replaces the same document again
    direct = direct_endpoint("orders/*", "arn:aws:lambda:eu-west-1:1:function:o", "live",
                             "eu-west-1")
    assert write_module(module, direct) == "replaced"
    assert docs(module)[0] == direct and len(docs(module)) == 2


def test_appends_when_no_document_binds_the_functions(tmp_path: Path):
    module = tmp_path / "module.yaml"
    other = ("kind: io.statefun.endpoints.v2/http\nspec:\n  functions: shop/*\n"
             "  urlPathTemplate: http://localhost:8000/statefun")  # no final newline
    module.write_text(other)
    assert write_module(module, ENDPOINT) == "added"
    assert module.read_text() == other + "\n---\n" + render(ENDPOINT)
    # after a trailing separator no second one is added
    module.write_text(other + "\n---\n")
    write_module(module, direct_endpoint("x/*", "arn", "live", "eu-west-1"))
    assert module.read_text() == other + "\n---\n" + render(
        direct_endpoint("x/*", "arn", "live", "eu-west-1"))


def test_duplicates_for_the_same_functions_are_dropped(tmp_path: Path):
    module = tmp_path / "module.yaml"
    first = "kind: io.statefun.endpoints.v2/http\nspec:\n  functions: orders/*\n" \
            "  urlPathTemplate: http://a/statefun\n"
    second = "kind: baton.endpoints.v1/lambda\nspec:\n  functions: orders/*\n" \
             "  functionName: old\n"
    module.write_text(first + EGRESS + "---\n" + second)
    assert write_module(module, ENDPOINT) == "replaced"
    assert module.read_text() == render(ENDPOINT) + EGRESS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: '1.0'\nmodule:\n  meta:\n    type: remote\n", "legacy (StateFun 2.x)"),
        ("kind: a/b\nspec: {}\n--- {kind: c/d}\n", "starts on its `---` line"),
        ("kind: [unclosed\n", "not valid YAML"),
    ],
)
def test_files_baton_will_not_edit(tmp_path: Path, text: str, message: str):
    module = tmp_path / "module.yaml"
    module.write_text(text)
    with pytest.raises(DeployError) as caught:
        write_module(module, ENDPOINT)
    assert message in caught.value.message
    assert module.read_text() == text
