"""A small, deliberately plain evaluator of Kubernetes NetworkPolicy (networking.k8s.io/v1)
semantics, used by gen_cases.py to compute the expected matrices of the conformance cases.

It is written from the API documentation only (it shares nothing with npc/compiler or
npc/model), and it also checks that the policies it is given are well formed the way the API
server would require (so that a case cannot carry an object the API server would reject).
"""

import copy
import ipaddress
import re

PROTOCOLS = ("TCP", "UDP", "SCTP")

STANDARD_NAMESPACES = ["x", "y", "z"]
STANDARD_PODS = ["a", "b", "c"]


def standard_ports():
    return [{"name": "serve-%d-%s" % (port, proto.lower()), "port": port, "protocol": proto}
            for port in (80, 81) for proto in PROTOCOLS]


def standard_model():
    return {
        "namespaces": [{"name": ns, "labels": {"ns": ns}} for ns in STANDARD_NAMESPACES],
        "pods": [{"namespace": ns, "name": p, "labels": {"pod": p}, "ports": standard_ports()}
                 for ns in STANDARD_NAMESPACES for p in STANDARD_PODS],
    }


# ---------------------------------------------------------------------------------------------
# Validation of the objects a case carries (strict: unknown fields are errors).

def _only(obj, allowed, where):
    if not isinstance(obj, dict):
        raise ValueError("%s: expected an object, got %r" % (where, obj))
    for key in obj:
        if key not in allowed:
            raise ValueError("%s: unknown field %r" % (where, key))


def validate_selector(sel, where):
    _only(sel, ("matchLabels", "matchExpressions"), where)
    for k, v in sel.get("matchLabels", {}).items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise ValueError("%s: bad matchLabels" % where)
    for i, req in enumerate(sel.get("matchExpressions", [])):
        at = "%s.matchExpressions[%d]" % (where, i)
        _only(req, ("key", "operator", "values"), at)
        op = req["operator"]
        if op in ("In", "NotIn"):
            if not req.get("values"):
                raise ValueError("%s: %s needs non-empty values" % (at, op))
        elif op in ("Exists", "DoesNotExist"):
            if "values" in req:
                raise ValueError("%s: %s takes no values" % (at, op))
        else:
            raise ValueError("%s: unknown operator %r" % (at, op))


def validate_policy(pol, where):
    _only(pol, ("apiVersion", "kind", "metadata", "spec"), where)
    if pol.get("apiVersion") != "networking.k8s.io/v1" or pol.get("kind") != "NetworkPolicy":
        raise ValueError("%s: apiVersion/kind" % where)
    _only(pol["metadata"], ("name", "namespace"), where + ".metadata")
    if not pol["metadata"].get("name") or not pol["metadata"].get("namespace"):
        raise ValueError("%s: metadata.name and metadata.namespace are required" % where)
    spec = pol["spec"]
    _only(spec, ("podSelector", "policyTypes", "ingress", "egress"), where + ".spec")
    if "podSelector" not in spec:
        raise ValueError("%s: spec.podSelector is required" % where)
    validate_selector(spec["podSelector"], where + ".spec.podSelector")
    for t in spec.get("policyTypes", []):
        if t not in ("Ingress", "Egress"):
            raise ValueError("%s: policyType %r" % (where, t))
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(spec.get(direction, [])):
            at = "%s.spec.%s[%d]" % (where, direction, i)
            _only(rule, (peers_key, "ports"), at)
            for j, peer in enumerate(rule.get(peers_key, [])):
                pat = "%s.%s[%d]" % (at, peers_key, j)
                _only(peer, ("podSelector", "namespaceSelector", "ipBlock"), pat)
                if not peer:
                    raise ValueError("%s: an empty peer is invalid" % pat)
                if "ipBlock" in peer:
                    if len(peer) != 1:
                        raise ValueError("%s: ipBlock must be alone in its peer" % pat)
                    _only(peer["ipBlock"], ("cidr", "except"), pat + ".ipBlock")
                for k in ("podSelector", "namespaceSelector"):
                    if k in peer:
                        validate_selector(peer[k], pat + "." + k)
            for j, port in enumerate(rule.get("ports", [])):
                pat = "%s.ports[%d]" % (at, j)
                _only(port, ("protocol", "port", "endPort"), pat)
                if port.get("protocol", "TCP") not in PROTOCOLS:
                    raise ValueError("%s: protocol" % pat)
                if "endPort" in port:
                    if not isinstance(port.get("port"), int):
                        raise ValueError("%s: endPort needs a numeric port" % pat)
                    if port["endPort"] < port["port"]:
                        raise ValueError("%s: endPort < port" % pat)
                if "port" in port:
                    p = port["port"]
                    if isinstance(p, int):
                        if not 1 <= p <= 65535:
                            raise ValueError("%s: port range" % pat)
                    elif not (isinstance(p, str) and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", p)
                              and len(p) <= 15 and re.search(r"[a-z]", p)):
                        raise ValueError("%s: bad named port %r" % (pat, p))


def validate_ipblock_after_substitution(block, where):
    net = ipaddress.ip_network(block["cidr"], strict=False)
    for e in block.get("except", []):
        en = ipaddress.ip_network(e, strict=False)
        if not (en.subnet_of(net) and en.prefixlen > net.prefixlen):
            raise ValueError("%s: except %s is not a strict subset of %s" % (where, e, net))


# ---------------------------------------------------------------------------------------------
# State and actions.

PLACEHOLDER = re.compile(r"\{\{ip:([^/{}]+)/([^/{}]+)\}\}")


def substitute(obj, ips):
    if isinstance(obj, str):
        def repl(m):
            key = m.group(1) + "/" + m.group(2)
            if key not in ips:
                raise ValueError("placeholder for unknown pod %s" % key)
            return ips[key]
        return PLACEHOLDER.sub(repl, obj)
    if isinstance(obj, list):
        return [substitute(v, ips) for v in obj]
    if isinstance(obj, dict):
        return {k: substitute(v, ips) for k, v in obj.items()}
    return obj


class State:
    def __init__(self, model, ips):
        self.ns_labels = {}
        for ns in model["namespaces"]:
            labels = dict(ns.get("labels", {}))
            labels["kubernetes.io/metadata.name"] = ns["name"]
            self.ns_labels[ns["name"]] = labels
        self.pods = []  # keys in model order
        self.pod_ns = {}
        self.pod_labels = {}
        self.pod_ports = {}
        for p in model["pods"]:
            key = p["namespace"] + "/" + p["name"]
            self.pods.append(key)
            self.pod_ns[key] = p["namespace"]
            self.pod_labels[key] = dict(p.get("labels", {}))
            self.pod_ports[key] = [dict(cp, protocol=cp.get("protocol", "TCP"))
                                   for cp in p.get("ports", [])]
        self.ips = ips
        self.policies = {}  # (ns, name) -> policy with placeholders substituted

    def apply(self, action):
        if len(action) != 1:
            raise ValueError("an action has exactly one key: %r" % action)
        (kind, value), = action.items()
        if kind in ("createPolicy", "updatePolicy"):
            validate_policy(value, kind)
            key = (value["metadata"]["namespace"], value["metadata"]["name"])
            if key[0] not in self.ns_labels:
                raise ValueError("policy in unknown namespace %s" % key[0])
            if kind == "createPolicy" and key in self.policies:
                raise ValueError("createPolicy of an existing policy %s" % (key,))
            if kind == "updatePolicy" and key not in self.policies:
                raise ValueError("updatePolicy of a missing policy %s" % (key,))
            pol = substitute(copy.deepcopy(value), self.ips)
            for direction, peers_key in (("ingress", "from"), ("egress", "to")):
                for rule in pol["spec"].get(direction, []):
                    for peer in rule.get(peers_key, []):
                        if "ipBlock" in peer:
                            validate_ipblock_after_substitution(peer["ipBlock"], kind)
            self.policies[key] = pol
        elif kind == "deletePolicy":
            _only(value, ("namespace", "name"), kind)
            key = (value["namespace"], value["name"])
            if key not in self.policies:
                raise ValueError("deletePolicy of a missing policy %s" % (key,))
            del self.policies[key]
        elif kind in ("setNamespaceLabels", "addNamespaceLabels", "removeNamespaceLabels"):
            _only(value, ("namespace", "keys") if kind.startswith("remove") else
                  ("namespace", "labels"), kind)
            labels = self.ns_labels[value["namespace"]]
            if kind == "setNamespaceLabels":
                labels.clear()
                labels.update(value["labels"])
            elif kind == "addNamespaceLabels":
                labels.update(value["labels"])
            else:
                for k in value["keys"]:
                    if k == "kubernetes.io/metadata.name":
                        raise ValueError("do not remove kubernetes.io/metadata.name")
                    labels.pop(k, None)
            labels["kubernetes.io/metadata.name"] = value["namespace"]
        elif kind in ("setPodLabels", "addPodLabels", "removePodLabels"):
            _only(value, ("namespace", "name", "keys") if kind.startswith("remove") else
                  ("namespace", "name", "labels"), kind)
            key = value["namespace"] + "/" + value["name"]
            labels = self.pod_labels[key]
            if kind == "setPodLabels":
                labels.clear()
                labels.update(value["labels"])
            elif kind == "addPodLabels":
                labels.update(value["labels"])
            else:
                for k in value["keys"]:
                    labels.pop(k, None)
        else:
            raise ValueError("unknown action %r" % kind)

    # --- semantics -------------------------------------------------------------------------

    @staticmethod
    def selector_matches(sel, labels):
        for k, v in sel.get("matchLabels", {}).items():
            if labels.get(k) != v:
                return False
        for req in sel.get("matchExpressions", []):
            k, op = req["key"], req["operator"]
            if op == "In":
                if not (k in labels and labels[k] in req["values"]):
                    return False
            elif op == "NotIn":
                if k in labels and labels[k] in req["values"]:
                    return False
            elif op == "Exists":
                if k not in labels:
                    return False
            elif op == "DoesNotExist":
                if k in labels:
                    return False
            else:
                raise ValueError(op)
        return True

    @staticmethod
    def policy_types(pol):
        spec = pol["spec"]
        if "policyTypes" in spec:
            return set(spec["policyTypes"])
        types = {"Ingress"}
        if len(spec.get("egress", [])) > 0:
            types.add("Egress")
        return types

    def selecting(self, pod, direction):
        """Policies of the pod's namespace that select it and have the direction's type."""
        ns = self.pod_ns[pod]
        return [pol for (pns, _), pol in sorted(self.policies.items())
                if pns == ns and direction in self.policy_types(pol)
                and self.selector_matches(pol["spec"]["podSelector"], self.pod_labels[pod])]

    def peer_matches(self, peer, policy_ns, other):
        if "ipBlock" in peer:
            ip = ipaddress.ip_address(self.ips[other])
            block = peer["ipBlock"]
            if ip not in ipaddress.ip_network(block["cidr"], strict=False):
                return False
            return not any(ip in ipaddress.ip_network(e, strict=False)
                           for e in block.get("except", []))
        nss = peer.get("namespaceSelector")
        ps = peer.get("podSelector")
        if nss is None:
            ns_ok = self.pod_ns[other] == policy_ns
        else:
            ns_ok = self.selector_matches(nss, self.ns_labels[self.pod_ns[other]])
        pod_ok = ps is None or self.selector_matches(ps, self.pod_labels[other])
        return ns_ok and pod_ok

    def ports_match(self, entries, dst, port, proto):
        if not entries:
            return True
        for e in entries:
            if e.get("protocol", "TCP") != proto:
                continue
            if "port" not in e:
                return True
            p = e["port"]
            if isinstance(p, int):
                if "endPort" in e:
                    if p <= port <= e["endPort"]:
                        return True
                elif port == p:
                    return True
            else:
                # Named port: resolved against the destination pod's container ports; the
                # container port's protocol must be the rule's protocol.
                for cp in self.pod_ports[dst]:
                    if cp.get("name") == p and cp["protocol"] == proto and cp["port"] == port:
                        return True
        return False

    def rule_allows(self, pol, rule, peers_key, other, dst, port, proto):
        ns = pol["metadata"]["namespace"]
        peers = rule.get(peers_key, [])
        if peers and not any(self.peer_matches(peer, ns, other) for peer in peers):
            return False
        return self.ports_match(rule.get("ports", []), dst, port, proto)

    def ingress_allows(self, src, dst, port, proto):
        pols = self.selecting(dst, "Ingress")
        if not pols:
            return True
        return any(self.rule_allows(pol, rule, "from", src, dst, port, proto)
                   for pol in pols for rule in pol["spec"].get("ingress", []))

    def egress_allows(self, src, dst, port, proto):
        pols = self.selecting(src, "Egress")
        if not pols:
            return True
        return any(self.rule_allows(pol, rule, "to", dst, dst, port, proto)
                   for pol in pols for rule in pol["spec"].get("egress", []))

    def allowed(self, src, dst, port, proto):
        return self.egress_allows(src, dst, port, proto) and self.ingress_allows(src, dst, port, proto)

    def matrix(self, port, proto):
        return {src: [None if src == dst else self.allowed(src, dst, port, proto)
                      for dst in self.pods] for src in self.pods}
