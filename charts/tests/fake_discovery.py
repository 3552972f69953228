"""A stand-in Kubernetes API server that answers only discovery, for offline
`kubectl apply --dry-run=client --validate=false`.

kubectl needs the API server's discovery documents (/api, /api/v1, /apis, /apis/<group>/<version>)
to map each object's kind to a resource, then GETs each object to decide between create and
patch: this server answers 404 there, so every object is "created (dry run)". It knows the
resources the Weave Net manifest uses and a few neighbours; an object of any other kind makes
kubectl fail, as a real server would.

Usage as a library: `with FakeDiscovery() as discovery: discovery.kubeconfig` (a file path).
"""

import http.server
import json
import os
import tempfile
import threading

# group/version -> [(resource, kind, namespaced)]
RESOURCES = {
    "v1": [
        ("configmaps", "ConfigMap", True),
        ("namespaces", "Namespace", False),
        ("nodes", "Node", False),
        ("pods", "Pod", True),
        ("secrets", "Secret", True),
        ("serviceaccounts", "ServiceAccount", True),
        ("services", "Service", True),
    ],
    "apps/v1": [
        ("daemonsets", "DaemonSet", True),
        ("deployments", "Deployment", True),
    ],
    "rbac.authorization.k8s.io/v1": [
        ("clusterrolebindings", "ClusterRoleBinding", False),
        ("clusterroles", "ClusterRole", False),
        ("rolebindings", "RoleBinding", True),
        ("roles", "Role", True),
    ],
    "networking.k8s.io/v1": [
        ("networkpolicies", "NetworkPolicy", True),
    ],
}

VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


def _resource_list(group_version):
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": [
            {"name": name, "singularName": kind.lower(), "namespaced": namespaced,
             "kind": kind, "verbs": VERBS}
            for name, kind, namespaced in RESOURCES[group_version]
        ],
    }


def _group_list():
    groups = []
    for group_version in RESOURCES:
        if "/" not in group_version:
            continue
        group, version = group_version.split("/")
        entry = {"groupVersion": group_version, "version": version}
        groups.append({"name": group, "versions": [entry], "preferredVersion": entry})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _documents():
    docs = {
        "/api": {"kind": "APIVersions", "versions": ["v1"],
                 "serverAddressByClientCIDRs": [
                     {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]},
        "/apis": _group_list(),
        "/version": {"major": "1", "minor": "29", "gitVersion": "v1.29.0",
                     "platform": "linux/amd64"},
    }
    for group_version in RESOURCES:
        prefix = "/api/" if "/" not in group_version else "/apis/"
        docs[prefix + group_version] = _resource_list(group_version)
    return docs


class _Handler(http.server.BaseHTTPRequestHandler):
    documents = _documents()

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 (the base class's name)
        path = self.path.split("?", 1)[0]
        if path in self.documents:
            self._send(200, self.documents[path])
        else:
            self.server.misses.append(path)
            self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                             "reason": "NotFound", "code": 404,
                             "message": f"{path} not found"})

    def log_message(self, *args):  # quiet
        pass


class FakeDiscovery:
    """Serves discovery on 127.0.0.1 (an ephemeral port) and writes a kubeconfig for it."""

    def __enter__(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.misses = []
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.dir = tempfile.TemporaryDirectory(prefix="fake-discovery-")
        self.kubeconfig = os.path.join(self.dir.name, "kubeconfig")
        port = self.server.server_address[1]
        with open(self.kubeconfig, "w") as f:
            json.dump({
                "apiVersion": "v1", "kind": "Config", "current-context": "discovery",
                "clusters": [{"name": "discovery", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
                "users": [{"name": "discovery", "user": {}}],
                "contexts": [{"name": "discovery", "context": {"cluster": "discovery", "user": "discovery"}}],
            }, f)
        self.cache_dir = os.path.join(self.dir.name, "cache")
        return self

    def kubectl_args(self):
        """Global kubectl flags that point it here (and keep its cache out of $HOME)."""
        return ["--kubeconfig", self.kubeconfig, "--cache-dir", self.cache_dir,
                "--request-timeout", "20s"]

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.dir.cleanup()
        return False


if __name__ == "__main__":
    # Manual use: serve until interrupted, printing the kubeconfig to use.
    with FakeDiscovery() as discovery:
        print(discovery.kubeconfig, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
