"""The function server image: the application's uv project (its SDK functions and baton) behind
`baton serve`; the same image serves the workflow interpreter.

Built from the application directory (where module.yaml, pyproject.toml and uv.lock are):
`docker build -f build/Dockerfile -t IMAGE .` — BuildKit reads build/Dockerfile.dockerignore.
"""

from __future__ import annotations

from baton.deploy.statefun.topology import FUNCTION_PORT, INTERPRETER_TARGET, Topology

# What the image needs from the build context before the code (dependencies are cached apart).
PROJECT_FILES = ("pyproject.toml", "uv.lock")
UV_VERSION = "0.13.9"

DOCKERIGNORE = """\
.git
.venv
**/__pycache__
.baton
build
node_modules
"""


def dockerfile(topology: Topology) -> str:
    server = topology.servers[0] if topology.servers else None
    command = server.command if server else ["baton", "serve", INTERPRETER_TARGET, "--host",
                                             "0.0.0.0", "--port", str(FUNCTION_PORT)]
    cmd = ", ".join(f'"{part}"' for part in command)
    return f"""\
# Rendered by `baton build`: the function server image for {topology.options.app}.
# Build it from the application directory: docker build -f <this file> -t {topology.options.image} .
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \\
    UV_COMPILE_BYTECODE=1 \\
    UV_LINK_MODE=copy \\
    UV_PROJECT_ENVIRONMENT=/opt/venv \\
    PATH=/opt/venv/bin:$PATH

RUN pip install --no-cache-dir uv=={UV_VERSION} \\
    && useradd --system --uid 10001 --no-create-home baton

WORKDIR /app
# Dependencies first, so a code change does not reinstall them.
COPY {" ".join(PROJECT_FILES)} ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN uv sync --frozen --no-dev

USER 10001
EXPOSE {FUNCTION_PORT}
# Kubernetes and compose give each server its own command; this is the first one.
CMD [{cmd}]
"""
