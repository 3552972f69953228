#!/usr/bin/python3
"""Drives Debian's python3-kubernetes client against the fake API server (python_client_test.cc).

    python_client.py KUBECONFIG list-nodes
    python_client.py KUBECONFIG watch-pods NAMESPACE TIMEOUT_SECONDS [RESOURCE_VERSION]

Prints one line per result, flushed at once so a test can follow a watch as it runs:
"node NAME", "event TYPE NAME RESOURCE_VERSION", "error STATUS REASON" for an ApiException,
and "end" when a watch stream ends.
"""
import sys

from kubernetes import client, config, watch


def main(argv):
    config.load_kube_config(config_file=argv[1])
    core = client.CoreV1Api()
    command = argv[2]
    try:
        if command == "list-nodes":
            nodes = core.list_node()
            print("version", nodes.metadata.resource_version, flush=True)
            for node in nodes.items:
                print("node", node.metadata.name, flush=True)
        elif command == "watch-pods":
            kwargs = {"timeout_seconds": int(argv[4]), "allow_watch_bookmarks": True}
            if len(argv) > 5:
                kwargs["resource_version"] = argv[5]
            for event in watch.Watch().stream(core.list_namespaced_pod, argv[3], **kwargs):
                # The client leaves a BOOKMARK's object as the raw dict.
                meta = event["raw_object"]["metadata"]
                print("event", event["type"], meta.get("name"), meta.get("resourceVersion"),
                      flush=True)
            print("end", flush=True)
        else:
            print("unknown command", command, file=sys.stderr)
            return 2
    except client.rest.ApiException as e:
        print("error", e.status, e.reason, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
