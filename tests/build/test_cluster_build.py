"""`baton build --target k8s|compose`: what it writes passes the validators a cluster would apply.

Offline, with the real tools: `kubernetes-validate --strict` (bundled Kubernetes schemas),
`check-jsonschema --builtin-schema vendor.compose-spec`, baton's loader in strict StateFun mode,
and `hadolint` plus `dockerfile-parse` for the Dockerfile (no Docker engine here to build it).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from dockerfile_parse import DockerfileParser
from ruamel.yaml import YAML

from baton.cli import cli
from baton.deploy.statefun.build import build_for_cluster
from baton.deploy.statefun.topology import ClusterOptions
from baton.module import HttpEndpointSpec, load_module
from tests.conftest import ROOT

BIN = Path(sys.executable).parent
CLUSTER_MODULE = ROOT / "infra" / "statefun" / "cluster" / "module.yaml"
SERVE = ["--serve", "functions.app:functions", "--app", "orders"]


def _build(tmp_path: Path, module: Path, *extra: str) -> tuple[Path, str]:
    out = tmp_path / "build"
    result = CliRunner().invoke(cli, ["build", str(module), "--out", str(out), "--target", "k8s",
                                      "--target", "compose", *SERVE, *extra])
    assert result.exit_code == 0, result.output
    return out, result.output


def _tool(name: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    path = BIN / name
    if not path.exists():  # installed by `uv sync` (dev group); missing means a broken env
        pytest.fail(f"{name} is not installed in {BIN}: run `uv sync`")
    return subprocess.run([str(path), *map(str, args)], capture_output=True, text=True, timeout=120)


def _documents(path: Path) -> list[dict]:
    return [d for d in YAML(typ="safe").load_all(path.read_text()) if d]


def _check_common(out: Path, context: Path) -> dict[str, dict]:
    """Every validator on a build; returns the k8s objects by kind/name."""
    k8s = sorted((out / "k8s").glob("*.yaml"))
    checked = _tool("kubernetes-validate", "--strict", *k8s)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "passed" in checked.stdout and "failed" not in checked.stdout
    compose = _tool("check-jsonschema", "--builtin-schema", "vendor.compose-spec",
                    out / "compose.yaml")
    assert compose.returncode == 0, compose.stdout + compose.stderr
    module = load_module(out / "module" / "module.yaml", strict_statefun=True)

    lint = _tool("hadolint", out / "Dockerfile")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    parser = DockerfileParser(path=str(out / "Dockerfile"))
    copied = [i["value"].split()[:-1] for i in parser.structure if i["instruction"] == "COPY"]
    for sources in copied:
        for source in sources:
            assert (context / source).exists(), f"the Dockerfile copies {source}, not in {context}"

    objects = {f"{d['kind']}/{d['metadata']['name']}": d for f in k8s for d in _documents(f)}
    # The module the cluster mounts is the one baton rendered, and every endpoint it calls
    # in-cluster is a Service on the right port, running a server that listens there.
    [config] = [o for key, o in objects.items() if key.endswith("-module")]
    assert config["data"]["module.yaml"] == (out / "module" / "module.yaml").read_text()
    services = _documents(out / "compose.yaml")[0]["services"]
    for endpoint in module.endpoints:
        assert isinstance(endpoint, HttpEndpointSpec)
        host, port = endpoint.url_path_template.split("/")[2].split(":")
        service = objects[f"Service/{host}"]
        assert [p["port"] for p in service["spec"]["ports"]] == [int(port)]
        command = objects[f"Deployment/{host}"]["spec"]["template"]["spec"]["containers"][0]["command"]
        assert command[command.index("--port") + 1] == port
        assert services[host]["command"] == command
        module_name, _, _ = command[2].partition(":")
        assert (context / (module_name.replace(".", "/") + ".py")).exists() or module_name.startswith(
            "baton."
        ), f"{command[2]} is not importable from {context}"
    return objects


def test_the_example_builds_for_k8s_and_compose(tmp_path):
    out, output = _build(tmp_path, ROOT / "module.yaml")
    objects = _check_common(out, ROOT)
    # The example uses the playground ingress/egress: one playground process, said so loudly.
    assert "exist only in the single-process playground image" in output
    statefun = objects["Deployment/statefun"]["spec"]["template"]["spec"]["containers"][0]
    assert statefun["image"].startswith("apache/flink-statefun-playground:")
    assert [p["containerPort"] for p in statefun["ports"]] == [8090, 8091]
    assert "Deployment/statefun-master" not in objects
    # The workflow interpreter is served from the bundle, mounted where BATON_WORKFLOWS points.
    interpreter = objects["Deployment/baton-workflows"]["spec"]["template"]["spec"]
    [env] = interpreter["containers"][0]["env"]
    [mount] = interpreter["containers"][0]["volumeMounts"]
    assert env["value"].startswith(mount["mountPath"] + "/")
    bundle = objects["ConfigMap/orders-workflows"]["data"]["workflows.yaml"]
    assert bundle == (out / "workflows" / "workflows.yaml").read_text()
    assert "orders/fulfillment" in bundle


def test_a_kafka_module_builds_a_master_workers_and_checkpoints(tmp_path):
    out, _ = _build(tmp_path, CLUSTER_MODULE, "--context", str(ROOT), "--kafka", "--workers", "3",
                    "--function-replicas", "4")
    objects = _check_common(out, ROOT)
    pod = objects["Deployment/statefun-master"]["spec"]["template"]["spec"]
    [master] = pod["containers"]
    assert master["image"] == "apache/flink-statefun:3.3.0"
    assert {e["name"]: e["value"] for e in master["env"]} == {"ROLE": "master",
                                                              "MASTER_HOST": "statefun-master"}
    mounts = {m["mountPath"] for m in master["volumeMounts"]}
    assert mounts == {"/opt/flink/conf", "/opt/statefun/modules/orders", "/checkpoint-dir"}
    assert objects["Deployment/statefun-worker"]["spec"]["replicas"] == 3
    assert objects["Deployment/orders-functions"]["spec"]["replicas"] == 4
    claim = objects["PersistentVolumeClaim/orders-checkpoints"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert "Deployment/kafka" in objects and "Service/kafka" in objects

    conf = YAML(typ="safe").load(objects["ConfigMap/orders-flink-config"]["data"]["flink-conf.yaml"])
    assert conf == YAML(typ="safe").load((out / "flink-conf.yaml").read_text())
    # What StatefulFunctionsConfigValidator insists on, and checkpoints actually on.
    patterns = conf["classloader.parent-first-patterns.additional"].split(";")
    assert {"org.apache.flink.statefun", "org.apache.kafka", "com.google.protobuf"} <= set(patterns)
    assert conf["state.backend.rocksdb.timer-service.factory"] == "ROCKSDB"
    assert conf["execution.checkpointing.unaligned"] is False
    assert conf["execution.checkpointing.interval"] and conf["state.backend"] == "rocksdb"
    assert conf["parallelism.default"] == 3 and conf["taskmanager.numberOfTaskSlots"] == 1
    assert conf["state.checkpoints.dir"] == "file:///checkpoint-dir"
    assert conf["jobmanager.rpc.address"] == "statefun-master"

    compose = _documents(out / "compose.yaml")[0]
    assert compose["services"]["statefun-worker"]["deploy"]["replicas"] == 3
    assert all(p.startswith("127.0.0.1:") for s in compose["services"].values()
               for p in s.get("ports", []))


def test_s3_checkpoints_need_no_volume(tmp_path):
    out, _ = _build(tmp_path, CLUSTER_MODULE, "--context", str(ROOT),
                    "--checkpoints", "s3://checkpoints/orders")
    text = (out / "k8s" / "statefun.yaml").read_text()
    assert "PersistentVolumeClaim" not in text and "state.checkpoints.dir: s3://checkpoints/orders" in text
    assert "checkpoints:" not in (out / "compose.yaml").read_text()


@pytest.mark.parametrize("module", ["module.yaml", "infra/statefun/cluster/module.yaml"])
def test_infra_statefun_is_what_baton_build_renders(module):
    """infra/statefun/ holds `make infra`'s output; change the renderer, run `make infra`."""
    out = ROOT / "infra" / "statefun" / ("example" if module == "module.yaml" else "cluster")
    options = ClusterOptions(app="orders", serve={"": "functions.app:functions"},
                             kafka=module != "module.yaml")
    built = build_for_cluster(ROOT / module, out, ("k8s", "compose"), options, ROOT)
    for name, text in built.files.items():
        assert (out / name).read_text() == text, f"{out / name} is stale: run `make infra`"


def test_endpoints_keep_their_path_and_templating_and_outside_urls_stay(tmp_path):
    module = tmp_path / "module.yaml"
    module.write_text(
        "kind: io.statefun.endpoints.v2/http\n"
        "spec: {functions: shop/*, urlPathTemplate: 'http://localhost:9000/fn?x=1', failureMode: DROP}\n"
        "---\n"
        "kind: io.statefun.endpoints.v2/http\n"
        "spec: {functions: pay/*, urlPathTemplate: 'https://pay.example.com/{function.name}'}\n"
        "---\n"
        "kind: io.statefun.kafka.v1/ingress\n"
        "spec: {id: shop/in, address: 'kafka:9092', consumerGroupId: g,\n"
        "       topics: [{topic: t, valueType: shop/T, targets: [shop/cart]}]}\n"
    )
    out, output = _build(tmp_path, module)
    built = load_module(out / "module" / "module.yaml", strict_statefun=True)
    assert [e.url_path_template for e in built.endpoints] == [  # type: ignore[union-attr]
        "http://shop-functions:9000/fn?x=1", "https://pay.example.com/{function.name}",
    ]
    assert "https://pay.example.com/{function.name} is outside the cluster" in output
    assert "failureMode DROP is honoured by the fransking fork" in output
    assert "--kafka deploys a single-node broker" in output
    assert "--path /fn" in " ".join(_documents(out / "compose.yaml")[0]["services"]
                                    ["shop-functions"]["command"])


@pytest.mark.parametrize(("module", "args", "message"), [
    ("kind: io.statefun.endpoints.v2/http\nspec: {functions: a/*, urlPathTemplate: 'http://localhost:8000/'}\n",
     [], "which MODULE:ATTR serves a/*"),
    ("kind: io.statefun.endpoints.v2/http\nspec: {functions: a/*, urlPathTemplate: 'http://localhost:8000/'}\n",
     ["--serve", "nope=x:y"], "--serve names nope, which no endpoint calls"),
    ("kind: io.statefun.endpoints.v2/http\n"
     "spec: {functions: a/*, urlPathTemplate: 'http://localhost:8000/{function.name}'}\n",
     ["--serve", "x:y"], "`baton serve` answers one fixed path"),
    ("kind: io.statefun.playground.v1/ingress\nspec: {port: 0}\n", [], "`port: 0` (baton only)"),
    ("kind: baton.endpoints.v1/lambda\nspec: {functions: fn/*, functionName: my-fn}\n", [],
     "Function URL with auth NONE"),
])
def test_what_cannot_go_to_a_cluster_is_explained(tmp_path, module, args, message):
    (tmp_path / "module.yaml").write_text(module)
    result = CliRunner().invoke(cli, ["build", str(tmp_path / "module.yaml"), "--out",
                                      str(tmp_path / "b"), "--target", "k8s", *args])
    assert result.exit_code == 1 and message in result.output, result.output
    assert not (tmp_path / "b" / "k8s").exists()  # nothing half-written
