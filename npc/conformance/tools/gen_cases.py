#!/usr/bin/env python3
"""Generates npc/conformance/cases/*.json (format: npc/conformance/README.md).

Each case below is a compact description: a model (the standard one unless given), steps of
actions and the (port, protocol) pairs to probe. The expected matrices are computed by
npcsem.py, a plain reading of the NetworkPolicy API documentation that shares nothing with the
compiler. Many steps also carry a matrix written out by hand (`hand=`); the generator fails if
the computed matrix disagrees with it, so the two readings check each other.

Every case is evaluated under several unrelated pod address assignments and must give the same
matrices under all of them (a case must not depend on which pods share a prefix).

Usage: gen_cases.py [--check]   (--check: compare with the files on disk instead of writing)
"""

import json
import os
import random
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import npcsem  # noqa: E402

CASES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cases")

TCP80, TCP81 = (80, "TCP"), (81, "TCP")
UDP80, UDP81 = (80, "UDP"), (81, "UDP")
SCTP80, SCTP81 = (80, "SCTP"), (81, "SCTP")
ALL6 = [TCP80, TCP81, UDP80, UDP81, SCTP80, SCTP81]
BASIC = [TCP80, UDP81, SCTP80]

# ---------------------------------------------------------------------------------------------
# Builders.


def sel(labels=None, exprs=None):
    s = {}
    if labels is not None:
        s["matchLabels"] = labels
    if exprs is not None:
        s["matchExpressions"] = exprs
    return s


def ex(key, op, *values):
    r = {"key": key, "operator": op}
    if values:
        r["values"] = list(values)
    return r


ALL = {}  # the empty selector


def pods(name):
    return sel({"pod": name})


def nss(name):
    return sel({"ns": name})


def peer(pod=None, ns=None):
    p = {}
    if pod is not None:
        p["podSelector"] = pod
    if ns is not None:
        p["namespaceSelector"] = ns
    return p


def ipb(cidr, *excepts):
    b = {"cidr": cidr}
    if excepts:
        b["except"] = list(excepts)
    return {"ipBlock": b}


def ip32(pod):
    return "{{ip:%s}}/32" % pod


def port(p=None, proto=None, end=None):
    e = {}
    if proto is not None:
        e["protocol"] = proto
    if p is not None:
        e["port"] = p
    if end is not None:
        e["endPort"] = end
    return e


def rin(frm=None, ports=None):
    r = {}
    if frm is not None:
        r["from"] = frm
    if ports is not None:
        r["ports"] = ports
    return r


def reg(to=None, ports=None):
    r = {}
    if to is not None:
        r["to"] = to
    if ports is not None:
        r["ports"] = ports
    return r


def np(ns, name, pod_selector, ingress=None, egress=None, types=None):
    spec = {"podSelector": pod_selector}
    if types is not None:
        spec["policyTypes"] = types
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def create(pol):
    return {"createPolicy": pol}


def update(pol):
    return {"updatePolicy": pol}


def delete(ns, name):
    return {"deletePolicy": {"namespace": ns, "name": name}}


def set_ns(ns, labels):
    return {"setNamespaceLabels": {"namespace": ns, "labels": labels}}


def add_ns(ns, labels):
    return {"addNamespaceLabels": {"namespace": ns, "labels": labels}}


def rm_ns(ns, *keys):
    return {"removeNamespaceLabels": {"namespace": ns, "keys": list(keys)}}


def set_pod(key, labels):
    ns, name = key.split("/")
    return {"setPodLabels": {"namespace": ns, "name": name, "labels": labels}}


def add_pod(key, labels):
    ns, name = key.split("/")
    return {"addPodLabels": {"namespace": ns, "name": name, "labels": labels}}


def rm_pod(key, *keys):
    ns, name = key.split("/")
    return {"removePodLabels": {"namespace": ns, "name": name, "keys": list(keys)}}


def step(name, actions, probes, hand=None):
    return {"name": name, "actions": actions, "probes": probes, "hand": hand or {}}


CASES = []


def case(name, description, steps, model=None):
    CASES.append({"name": name, "description": description, "steps": steps, "model": model})


def custom_pod(ns, name, labels, ports):
    return {"namespace": ns, "name": name, "labels": labels,
            "ports": [dict(zip(("port", "protocol", "name"), p)) if len(p) == 3 else
                      {"port": p[0], "protocol": p[1]} for p in ports]}


def _fix_port_order(model):
    # Container ports as {"name", "port", "protocol"} in that order (name only when given).
    for p in model["pods"]:
        out = []
        for cp in p["ports"]:
            o = {}
            if "name" in cp:
                o["name"] = cp["name"]
            o["port"] = cp["port"]
            o["protocol"] = cp["protocol"]
            out.append(o)
        p["ports"] = out
    return model


# Hand-written matrices: one line per source pod, "-" on the diagonal.
OPEN = """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c . . -  . . .  . . .
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""

# =============================================================================================
# Default deny / allow all.

DENY_X = """
x/a - X X  . . .  . . .
x/b X - X  . . .  . . .
x/c X X -  . . .  . . .
y/a X X X  - . .  . . .
y/b X X X  . - .  . . .
y/c X X X  . . -  . . .
z/a X X X  . . .  - . .
z/b X X X  . . .  . - .
z/c X X X  . . .  . . -
"""

case("deny-all-ingress-x",
     "An empty podSelector without ingress rules (policyTypes defaulted to Ingress) isolates "
     "every pod of x for ingress; deleting it restores all traffic.",
     [step("deny all ingress in x", [create(np("x", "deny-all", ALL))], BASIC,
           hand={TCP80: DENY_X, UDP81: DENY_X, SCTP80: DENY_X}),
      step("delete the policy", [delete("x", "deny-all")], BASIC, hand={TCP80: OPEN})])

DENY_YB = """
x/a - . .  . X .  . . .
x/b . - .  . X .  . . .
x/c . . -  . X .  . . .
y/a . . .  - X .  . . .
y/b . . .  . - .  . . .
y/c . . .  . X -  . . .
z/a . . .  . X .  - . .
z/b . . .  . X .  . - .
z/c . . .  . X .  . . -
"""

case("deny-all-ingress-single-pod",
     "A deny-all ingress policy selecting pod=b in y isolates only y/b (not x/b or z/b); a second "
     "policy adds y/c; deleting the first frees y/b again.",
     [step("deny ingress to y/b", [create(np("y", "deny-b", pods("b"), types=["Ingress"]))],
           [TCP80, UDP80, SCTP81], hand={TCP80: DENY_YB, SCTP81: DENY_YB}),
      step("also deny ingress to y/c", [create(np("y", "deny-c", pods("c"), ingress=[],
                                                   types=["Ingress"]))], [TCP81, UDP80]),
      step("delete deny-b", [delete("y", "deny-b")], [TCP80, SCTP80])])

DENY_EGRESS_X = """
x/a - X X  X X X  X X X
x/b X - X  X X X  X X X
x/c X X -  X X X  X X X
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""

case("deny-all-egress-x",
     "policyTypes [Egress] with no egress rules: the pods of x cannot open any connection "
     "(not even inside x); traffic into x stays open.",
     [step("deny all egress in x", [create(np("x", "deny-egress", ALL, types=["Egress"]))],
           [TCP80, UDP80, SCTP81], hand={TCP80: DENY_EGRESS_X, UDP80: DENY_EGRESS_X}),
      step("delete", [delete("x", "deny-egress")], [TCP80, UDP80], hand={UDP80: OPEN})])

DENY_BOTH_Z = """
x/a - . .  . . .  X X X
x/b . - .  . . .  X X X
x/c . . -  . . .  X X X
y/a . . .  - . .  X X X
y/b . . .  . - .  X X X
y/c . . .  . . -  X X X
z/a X X X  X X X  - X X
z/b X X X  X X X  X - X
z/c X X X  X X X  X X -
"""

case("deny-all-both-directions-z",
     "policyTypes [Ingress, Egress] without rules isolates every pod of z both ways.",
     [step("deny both", [create(np("z", "deny-both", ALL, types=["Ingress", "Egress"]))],
           [TCP80, UDP81, SCTP80], hand={TCP80: DENY_BOTH_Z, UDP81: DENY_BOTH_Z}),
      step("delete", [delete("z", "deny-both")], [TCP81])])

case("allow-all-ingress-over-deny",
     "An `ingress: [{}]` policy on top of a deny-all policy opens ingress again (union of "
     "policies); removing it denies again; an allow-all that selects only x/a opens only x/a.",
     [step("deny all ingress in x", [create(np("x", "deny-all", ALL, types=["Ingress"]))],
           [TCP80, UDP80], hand={TCP80: DENY_X}),
      step("add allow-all ingress", [create(np("x", "allow-all", ALL, ingress=[{}]))],
           [TCP80, UDP80, SCTP81], hand={TCP80: OPEN, SCTP81: OPEN}),
      step("delete allow-all", [delete("x", "allow-all")], [TCP81, UDP80], hand={TCP81: DENY_X}),
      step("allow all only into x/a",
           [create(np("x", "allow-all-a", pods("a"), ingress=[{}], types=["Ingress"]))],
           [TCP80, SCTP80], hand={TCP80: """
x/a - X X  . . .  . . .
x/b . - X  . . .  . . .
x/c . X -  . . .  . . .
y/a . X X  - . .  . . .
y/b . X X  . - .  . . .
y/c . X X  . . -  . . .
z/a . X X  . . .  - . .
z/b . X X  . . .  . - .
z/c . X X  . . .  . . -
"""})])

case("allow-all-egress-over-deny",
     "An `egress: [{}]` policy on top of a deny-all-egress policy opens egress again; removing "
     "it denies again; an allow-all egress selecting only y/b opens only y/b's row.",
     [step("deny all egress in y", [create(np("y", "deny-egress", ALL, types=["Egress"]))],
           [TCP80, SCTP81]),
      step("add allow-all egress", [create(np("y", "allow-egress", ALL, egress=[{}],
                                              types=["Egress"]))], [TCP80, SCTP81, UDP80],
           hand={TCP80: OPEN}),
      step("delete allow-all egress", [delete("y", "allow-egress")], [UDP81]),
      step("allow all egress of y/b only",
           [create(np("y", "allow-egress-b", pods("b"), egress=[{}], types=["Egress"]))],
           [TCP80, UDP81], hand={UDP81: """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c . . -  . . .  . . .
y/a X X X  - X X  X X X
y/b . . .  . - .  . . .
y/c X X X  X X -  X X X
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""})])

# =============================================================================================
# Peers: podSelector, namespaceSelector, AND / OR.

case("ingress-from-podselector-same-namespace",
     "A podSelector peer alone selects pods of the policy's own namespace: x/a accepts x/b "
     "but not y/b or z/b; widening it to `{}` admits all of x and still nothing else.",
     [step("x/a from pod=b", [create(np("x", "from-b", pods("a"),
                                        ingress=[rin([peer(pod=pods("b"))])]))],
           [TCP80, UDP81], hand={TCP80: """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c X . -  . . .  . . .
y/a X . .  - . .  . . .
y/b X . .  . - .  . . .
y/c X . .  . . -  . . .
z/a X . .  . . .  - . .
z/b X . .  . . .  . - .
z/c X . .  . . .  . . -
"""}),
      step("x/a from every pod of x", [update(np("x", "from-b", pods("a"),
                                                 ingress=[rin([peer(pod=ALL)])]))],
           [TCP80, SCTP81], hand={SCTP81: """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c . . -  . . .  . . .
y/a X . .  - . .  . . .
y/b X . .  . - .  . . .
y/c X . .  . . -  . . .
z/a X . .  . . .  - . .
z/b X . .  . . .  . - .
z/c X . .  . . .  . . -
"""})])

case("ingress-from-namespaceselector",
     "A namespaceSelector peer alone admits every pod of the matching namespaces, and not the "
     "other pods of the policy's own namespace.",
     [step("x/a from ns=y", [create(np("x", "from-y", pods("a"),
                                       ingress=[rin([peer(ns=nss("y"))])]))],
           [TCP80, UDP80], hand={TCP80: """
x/a - . .  . . .  . . .
x/b X - .  . . .  . . .
x/c X . -  . . .  . . .
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a X . .  . . .  - . .
z/b X . .  . . .  . - .
z/c X . .  . . .  . . -
"""}),
      step("x/a from ns=x instead", [update(np("x", "from-y", pods("a"),
                                              ingress=[rin([peer(ns=nss("x"))])]))],
           [TCP80, SCTP81])])

AND_YB_TO_XA = """
x/a - . .  . . .  . . .
x/b X - .  . . .  . . .
x/c X . -  . . .  . . .
y/a X . .  - . .  . . .
y/b . . .  . - .  . . .
y/c X . .  . . -  . . .
z/a X . .  . . .  - . .
z/b X . .  . . .  . - .
z/c X . .  . . .  . . -
"""
OR_Y_XB_TO_XA = """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c X . -  . . .  . . .
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a X . .  . . .  - . .
z/b X . .  . . .  . - .
z/c X . .  . . .  . . -
"""

case("ingress-peer-and-vs-or",
     "podSelector and namespaceSelector in ONE peer element are ANDed (only y/b); the same two "
     "selectors as TWO peer elements are ORed (all of y, plus x/b from the policy's namespace).",
     [step("one peer: ns=y AND pod=b",
           [create(np("x", "p", pods("a"),
                      ingress=[rin([peer(pod=pods("b"), ns=nss("y"))])]))],
           [TCP80, UDP81], hand={TCP80: AND_YB_TO_XA, UDP81: AND_YB_TO_XA}),
      step("two peers: ns=y OR pod=b",
           [update(np("x", "p", pods("a"),
                      ingress=[rin([peer(ns=nss("y")), peer(pod=pods("b"))])]))],
           [TCP80, UDP81], hand={TCP80: OR_Y_XB_TO_XA, UDP81: OR_Y_XB_TO_XA}),
      step("back to one peer", [update(np("x", "p", pods("a"),
                                          ingress=[rin([peer(pod=pods("b"), ns=nss("y"))])]))],
           [SCTP80], hand={SCTP80: AND_YB_TO_XA})])

case("egress-peer-and-vs-or",
     "Egress peers: ns=z AND pod=a in one element reaches only z/a; as two elements x/b reaches "
     "all of z and x/a (pod=a in the policy's namespace x).",
     [step("one peer: ns=z AND pod=a",
           [create(np("x", "p", pods("b"), types=["Egress"],
                      egress=[reg([peer(pod=pods("a"), ns=nss("z"))])]))],
           [TCP80, UDP80], hand={TCP80: """
x/a - . .  . . .  . . .
x/b X - X  X X X  . X X
x/c . . -  . . .  . . .
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""}),
      step("two peers: ns=z OR pod=a",
           [update(np("x", "p", pods("b"), types=["Egress"],
                      egress=[reg([peer(ns=nss("z")), peer(pod=pods("a"))])]))],
           [TCP80, SCTP81], hand={SCTP81: """
x/a - . .  . . .  . . .
x/b . - X  X X X  . . .
x/c . . -  . . .  . . .
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""})])

case("namespaceselector-all-with-podselector",
     "namespaceSelector {} together with podSelector pod=c admits the c pods of every "
     "namespace; namespaceSelector {} alone admits every pod; podSelector {} alone only the "
     "policy's own namespace.",
     [step("z from (any ns AND pod=c)",
           [create(np("z", "p", ALL, ingress=[rin([peer(pod=pods("c"), ns=ALL)])]))],
           [TCP80, UDP81], hand={TCP80: """
x/a - . .  . . .  X X X
x/b . - .  . . .  X X X
x/c . . -  . . .  . . .
y/a . . .  - . .  X X X
y/b . . .  . - .  X X X
y/c . . .  . . -  . . .
z/a . . .  . . .  - X X
z/b . . .  . . .  X - X
z/c . . .  . . .  . . -
"""}),
      step("z from any namespace", [update(np("z", "p", ALL, ingress=[rin([peer(ns=ALL)])]))],
           [TCP80, SCTP81], hand={TCP80: OPEN}),
      step("z from podSelector {} alone",
           [update(np("z", "p", ALL, ingress=[rin([peer(pod=ALL)])]))], [TCP80, UDP80],
           hand={UDP80: """
x/a - . .  . . .  X X X
x/b . - .  . . .  X X X
x/c . . -  . . .  X X X
y/a . . .  - . .  X X X
y/b . . .  . - .  X X X
y/c . . .  . . -  X X X
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""})])

case("podselector-peer-uses-policy-namespace",
     "A podSelector-only peer is always evaluated in the policy's namespace: a policy in y "
     "admitting pod=a admits only y/a; an egress policy in z to pod=a reaches only z/a.",
     [step("y from pod=a", [create(np("y", "from-a", ALL, ingress=[rin([peer(pod=pods("a"))])]))],
           [TCP80, UDP80], hand={TCP80: """
x/a - . .  X X X  . . .
x/b . - .  X X X  . . .
x/c . . -  X X X  . . .
y/a . . .  - . .  . . .
y/b . . .  X - X  . . .
y/c . . .  X X -  . . .
z/a . . .  X X X  - . .
z/b . . .  X X X  . - .
z/c . . .  X X X  . . -
"""}),
      step("z/c egress to pod=a",
           [create(np("z", "to-a", pods("c"), egress=[reg([peer(pod=pods("a"))])],
                      types=["Egress"]))], [TCP80, SCTP80])])

case("policy-podselector-scoped-to-namespace",
     "A policy's podSelector selects only pods of the policy's namespace: deny pod=a in y "
     "isolates y/a, not x/a or z/a; an egress deny in z for pod In [a,b] blocks z/a and z/b.",
     [step("deny ingress y/a", [create(np("y", "deny-a", pods("a"), types=["Ingress"]))],
           [TCP80, UDP80]),
      step("deny egress z/a and z/b",
           [create(np("z", "deny-ab", sel(exprs=[ex("pod", "In", "a", "b")]), types=["Egress"]))],
           [TCP80, SCTP81], hand={TCP80: """
x/a - . .  X . .  . . .
x/b . - .  X . .  . . .
x/c . . -  X . .  . . .
y/a . . .  - . .  . . .
y/b . . .  X - .  . . .
y/c . . .  X . -  . . .
z/a X X X  X X X  - X X
z/b X X X  X X X  X - X
z/c . . .  X . .  . . -
"""})])

# =============================================================================================
# matchExpressions.

case("match-expressions-in",
     "podSelector with `pod In [a, b]` under namespaceSelector {} admits a and b of every "
     "namespace; then a namespaceSelector `kubernetes.io/metadata.name In [x, z]` alone.",
     [step("x from pod In [a,b] in any namespace",
           [create(np("x", "p", ALL, ingress=[rin([peer(pod=sel(exprs=[ex("pod", "In", "a", "b")]),
                                                       ns=ALL)])]))],
           [TCP80, UDP81], hand={TCP80: """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c X X -  . . .  . . .
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c X X X  . . -  . . .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c X X X  . . .  . . -
"""}),
      step("x from namespaces named x or z",
           [update(np("x", "p", ALL, ingress=[rin([peer(ns=sel(exprs=[
               ex("kubernetes.io/metadata.name", "In", "x", "z")]))])]))],
           [TCP80, SCTP80], hand={SCTP80: """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c . . -  . . .  . . .
y/a X X X  - . .  . . .
y/b X X X  . - .  . . .
y/c X X X  . . -  . . .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""})])

NOTIN_1 = """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c . . -  . . .  . . .
y/a X X X  - . .  . . .
y/b X X X  . - .  . . .
y/c X X X  . . -  . . .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""

case("match-expressions-notin-missing-key",
     "namespaceSelector `team NotIn [blue]` also matches namespaces without the key: with y "
     "blue and z red, x (no team) and z are admitted into x, y is not; then z turns blue, then "
     "y loses its team label.",
     [step("label y blue, z red; x from team NotIn [blue]",
           [add_ns("y", {"team": "blue"}), add_ns("z", {"team": "red"}),
            create(np("x", "p", ALL, ingress=[rin([peer(ns=sel(exprs=[
                ex("team", "NotIn", "blue")]))])]))],
           [TCP80, UDP80], hand={TCP80: NOTIN_1, UDP80: NOTIN_1}),
      step("z becomes blue", [add_ns("z", {"team": "blue"})], [TCP80], hand={TCP80: """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c . . -  . . .  . . .
y/a X X X  - . .  . . .
y/b X X X  . - .  . . .
y/c X X X  . . -  . . .
z/a X X X  . . .  - . .
z/b X X X  . . .  . - .
z/c X X X  . . .  . . -
"""}),
      step("y loses its team label", [rm_ns("y", "team")], [TCP80, SCTP81], hand={TCP80: """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c . . -  . . .  . . .
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a X X X  . . .  - . .
z/b X X X  . . .  . - .
z/c X X X  . . .  . . -
"""})])

case("match-expressions-notin-pods",
     "A peer `tier NotIn [web]` (with namespaceSelector {}) admits pods of any namespace whose "
     "tier is not web, including pods without a tier label; x/b turning web is then refused.",
     [step("label x/a web, x/b db; y from (any ns AND tier NotIn [web])",
           [add_pod("x/a", {"tier": "web"}), add_pod("x/b", {"tier": "db"}),
            add_pod("z/c", {"tier": "web"}),
            create(np("y", "p", pods("a"), ingress=[rin([peer(
                pod=sel(exprs=[ex("tier", "NotIn", "web")]), ns=ALL)])]))],
           [TCP80, UDP80], hand={TCP80: """
x/a - . .  X . .  . . .
x/b . - .  . . .  . . .
x/c . . -  . . .  . . .
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  X . .  . . -
"""}),
      step("x/b becomes web too", [add_pod("x/b", {"tier": "web"})], [TCP80, SCTP81])])

case("match-expressions-exists",
     "namespaceSelector `team Exists`: no namespace has the key at first (x/a admits nothing); "
     "z gets team=red, then y gets team with an empty value (Exists still matches), then z "
     "loses it.",
     [step("x/a from team Exists",
           [create(np("x", "p", pods("a"), ingress=[rin([peer(ns=sel(exprs=[
               ex("team", "Exists")]))])]))], [TCP80, UDP81], hand={TCP80: """
x/a - . .  . . .  . . .
x/b X - .  . . .  . . .
x/c X . -  . . .  . . .
y/a X . .  - . .  . . .
y/b X . .  . - .  . . .
y/c X . .  . . -  . . .
z/a X . .  . . .  - . .
z/b X . .  . . .  . - .
z/c X . .  . . .  . . -
"""}),
      step("z gets team=red", [add_ns("z", {"team": "red"})], [TCP80, UDP81]),
      step("y gets team=\"\"", [add_ns("y", {"team": ""})], [TCP80, SCTP80], hand={TCP80: """
x/a - . .  . . .  . . .
x/b X - .  . . .  . . .
x/c X . -  . . .  . . .
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""}),
      step("z loses team", [rm_ns("z", "team")], [TCP80])])

case("match-expressions-doesnotexist",
     "podSelector `role DoesNotExist` (with namespaceSelector {}): every pod is admitted into x "
     "until it gets a role label (any value); removing the label admits it again.",
     [step("x from pods without role",
           [create(np("x", "p", ALL, ingress=[rin([peer(
               pod=sel(exprs=[ex("role", "DoesNotExist")]), ns=ALL)])]))],
           [TCP80, UDP80], hand={TCP80: OPEN}),
      step("y/b and x/c get a role", [add_pod("y/b", {"role": "client"}),
                                      add_pod("x/c", {"role": ""})],
           [TCP80, UDP80], hand={UDP80: """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c X X -  . . .  . . .
y/a . . .  - . .  . . .
y/b X X X  . - .  . . .
y/c . . .  . . -  . . .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""}),
      step("y/b loses its role", [rm_pod("y/b", "role")], [TCP80, SCTP81])])

case("match-expressions-multiple-anded",
     "All requirements of a selector must hold: matchLabels tier=web AND env In [prod] admits "
     "only x/a; then tier Exists AND env NotIn [dev] admits x/a and x/c; the namespace selector "
     "also ANDs matchLabels and an expression.",
     [step("label x pods; z from (ns x AND tier=web AND env In [prod])",
           [add_pod("x/a", {"tier": "web", "env": "prod"}),
            add_pod("x/b", {"tier": "web", "env": "dev"}),
            add_pod("x/c", {"tier": "db", "env": "prod"}),
            add_pod("y/a", {"tier": "web", "env": "prod"}),
            create(np("z", "p", ALL, ingress=[rin([peer(
                pod=sel({"tier": "web"}, [ex("env", "In", "prod")]),
                ns=sel({"ns": "x"}, [ex("kubernetes.io/metadata.name", "NotIn", "y")]))])]))],
           [TCP80, UDP81], hand={TCP80: """
x/a - . .  . . .  . . .
x/b . - .  . . .  X X X
x/c . . -  . . .  X X X
y/a . . .  - . .  X X X
y/b . . .  . - .  X X X
y/c . . .  . . -  X X X
z/a . . .  . . .  - X X
z/b . . .  . . .  X - X
z/c . . .  . . .  X X -
"""}),
      step("z from (any ns AND tier Exists AND env NotIn [dev])",
           [update(np("z", "p", ALL, ingress=[rin([peer(
               pod=sel(exprs=[ex("tier", "Exists"), ex("env", "NotIn", "dev")]), ns=ALL)])]))],
           [TCP80, SCTP80], hand={TCP80: """
x/a - . .  . . .  . . .
x/b . - .  . . .  X X X
x/c . . -  . . .  . . .
y/a . . .  - . .  . . .
y/b . . .  . - .  X X X
y/c . . .  . . -  X X X
z/a . . .  . . .  - X X
z/b . . .  . . .  X - X
z/c . . .  . . .  X X -
"""})])

case("policy-target-match-expressions",
     "A policy's own podSelector with `tier NotIn [web]` isolates the pods that are not web, "
     "including those without a tier; relabelling moves pods in and out of isolation.",
     [step("x/a web, x/b db; deny ingress to tier NotIn [web]",
           [add_pod("x/a", {"tier": "web"}), add_pod("x/b", {"tier": "db"}),
            create(np("x", "deny", sel(exprs=[ex("tier", "NotIn", "web")]), types=["Ingress"]))],
           [TCP80, UDP80], hand={TCP80: """
x/a - X X  . . .  . . .
x/b . - X  . . .  . . .
x/c . X -  . . .  . . .
y/a . X X  - . .  . . .
y/b . X X  . - .  . . .
y/c . X X  . . -  . . .
z/a . X X  . . .  - . .
z/b . X X  . . .  . - .
z/c . X X  . . .  . . -
"""}),
      step("x/b becomes web", [add_pod("x/b", {"tier": "web"})], [TCP80, SCTP81]),
      step("x/a loses tier", [rm_pod("x/a", "tier")], [TCP80], hand={TCP80: """
x/a - . X  . . .  . . .
x/b X - X  . . .  . . .
x/c X . -  . . .  . . .
y/a X . X  - . .  . . .
y/b X . X  . - .  . . .
y/c X . X  . . -  . . .
z/a X . X  . . .  - . .
z/b X . X  . . .  . - .
z/c X . X  . . .  . . -
"""})])

case("egress-target-doesnotexist",
     "An egress deny policy whose podSelector is `role DoesNotExist` isolates the pods without "
     "a role; giving y/a a role frees its egress.",
     [step("y: deny egress for pods without role",
           [add_pod("y/b", {"role": "gateway"}),
            create(np("y", "deny", sel(exprs=[ex("role", "DoesNotExist")]), types=["Egress"]))],
           [TCP80, UDP81]),
      step("y/a gets a role", [add_pod("y/a", {"role": "gateway"})], [TCP80, UDP81])])

# =============================================================================================
# Several policies and namespaces.

case("policies-in-different-namespaces",
     "x admits ingress only from ns y while y denies all egress: y->x stays blocked until y "
     "allows egress to ns x; deleting x's policy leaves x open while y's egress stays limited.",
     [step("y denies egress; x admits only y",
           [create(np("y", "deny-egress", ALL, types=["Egress"])),
            create(np("x", "from-y", ALL, ingress=[rin([peer(ns=nss("y"))])]))],
           [TCP80, UDP80], hand={TCP80: """
x/a - X X  . . .  . . .
x/b X - X  . . .  . . .
x/c X X -  . . .  . . .
y/a X X X  - X X  X X X
y/b X X X  X - X  X X X
y/c X X X  X X -  X X X
z/a X X X  . . .  - . .
z/b X X X  . . .  . - .
z/c X X X  . . .  . . -
"""}),
      step("y allows egress to ns x",
           [create(np("y", "to-x", ALL, egress=[reg([peer(ns=nss("x"))])], types=["Egress"]))],
           [TCP80, SCTP81], hand={TCP80: """
x/a - X X  . . .  . . .
x/b X - X  . . .  . . .
x/c X X -  . . .  . . .
y/a . . .  - X X  X X X
y/b . . .  X - X  X X X
y/c . . .  X X -  X X X
z/a X X X  . . .  - . .
z/b X X X  . . .  . - .
z/c X X X  . . .  . . -
"""}),
      step("delete x's policy", [delete("x", "from-y")], [TCP80])])

case("deny-ingress-and-egress-different-namespaces",
     "x denies all egress and y denies all ingress: x's rows and y's columns are blocked; z is "
     "untouched.",
     [step("both policies", [create(np("x", "deny-egress", ALL, types=["Egress"])),
                             create(np("y", "deny-ingress", ALL))],
           [TCP80, UDP80, SCTP81], hand={UDP80: """
x/a - X X  X X X  X X X
x/b X - X  X X X  X X X
x/c X X -  X X X  X X X
y/a . . .  - X X  . . .
y/b . . .  X - X  . . .
y/c . . .  X X -  . . .
z/a . . .  X X X  - . .
z/b . . .  X X X  . - .
z/c . . .  X X X  . . -
"""}),
      step("delete y's policy", [delete("y", "deny-ingress")], [TCP81])])

UNION_1_TCP80 = """
x/a - X X  . . .  . . .
x/b . - X  . . .  . . .
x/c X X -  . . .  . . .
y/a X X X  - . .  . . .
y/b X X X  . - .  . . .
y/c X X X  . . -  . . .
z/a . X X  . . .  - . .
z/b . X X  . . .  . - .
z/c . X X  . . .  . . -
"""
UNION_1_TCP81 = """
x/a - X X  . . .  . . .
x/b . - X  . . .  . . .
x/c X X -  . . .  . . .
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a . X X  . . .  - . .
z/b . X X  . . .  . - .
z/c . X X  . . .  . . -
"""

case("union-of-policies",
     "Three policies select x/a: from pod=b, from ns z, and (for all of x) from ns y on TCP 81. "
     "x/a admits their union; x/b and x/c only y on TCP 81. Deleting policies one at a time "
     "removes exactly their contribution.",
     [step("three policies",
           [create(np("x", "from-b", pods("a"), ingress=[rin([peer(pod=pods("b"))])])),
            create(np("x", "from-z", pods("a"), ingress=[rin([peer(ns=nss("z"))])])),
            create(np("x", "from-y-81", ALL, ingress=[rin([peer(ns=nss("y"))], [port(81)])]))],
           [TCP80, TCP81, UDP81], hand={TCP80: UNION_1_TCP80, TCP81: UNION_1_TCP81,
                                        UDP81: UNION_1_TCP80}),
      step("delete from-b", [delete("x", "from-b")], [TCP80, TCP81], hand={TCP81: """
x/a - X X  . . .  . . .
x/b X - X  . . .  . . .
x/c X X -  . . .  . . .
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a . X X  . . .  - . .
z/b . X X  . . .  . - .
z/c . X X  . . .  . . -
"""}),
      step("delete from-y-81", [delete("x", "from-y-81")], [TCP80, TCP81], hand={TCP81: """
x/a - . .  . . .  . . .
x/b X - .  . . .  . . .
x/c X . -  . . .  . . .
y/a X . .  - . .  . . .
y/b X . .  . - .  . . .
y/c X . .  . . -  . . .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""})])

case("ingress-and-egress-in-one-policy",
     "One policy on x/a with both types: ingress only from x/b, egress only to ns y; then "
     "egress also to pod=c (x/c).",
     [step("x/a: from x/b, to ns y",
           [create(np("x", "p", pods("a"), types=["Ingress", "Egress"],
                      ingress=[rin([peer(pod=pods("b"))])],
                      egress=[reg([peer(ns=nss("y"))])]))],
           [TCP80, UDP80, SCTP81], hand={TCP80: """
x/a - X X  . . .  X X X
x/b . - .  . . .  . . .
x/c X . -  . . .  . . .
y/a X . .  - . .  . . .
y/b X . .  . - .  . . .
y/c X . .  . . -  . . .
z/a X . .  . . .  - . .
z/b X . .  . . .  . - .
z/c X . .  . . .  . . -
"""}),
      step("egress also to x/c",
           [update(np("x", "p", pods("a"), types=["Ingress", "Egress"],
                      ingress=[rin([peer(pod=pods("b"))])],
                      egress=[reg([peer(ns=nss("y")), peer(pod=pods("c"))])]))],
           [TCP80, UDP81])])

case("egress-only-policy-leaves-ingress-open",
     "policyTypes [Egress] with an egress rule to ns y: x's pods may only reach y (not each "
     "other), while every pod may still connect to x's pods... except from x itself.",
     [step("x egress only to ns y",
           [create(np("x", "p", ALL, types=["Egress"], egress=[reg([peer(ns=nss("y"))])]))],
           [TCP80, UDP80, SCTP80], hand={TCP80: """
x/a - X X  . . .  X X X
x/b X - X  . . .  X X X
x/c X X -  . . .  X X X
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""})])

case("policytypes-defaulting",
     "Without policyTypes, a policy with egress rules isolates both directions (ingress: no "
     "rules, so nothing); explicit [Egress] frees ingress; `ingress: [{}]` plus egress rules "
     "opens ingress only; an empty egress list without policyTypes is Ingress-only.",
     [step("x/b: egress to ns z, no policyTypes",
           [create(np("x", "p", pods("b"), egress=[reg([peer(ns=nss("z"))])]))],
           [TCP80, UDP81], hand={TCP80: """
x/a - X .  . . .  . . .
x/b X - X  X X X  . . .
x/c . X -  . . .  . . .
y/a . X .  - . .  . . .
y/b . X .  . - .  . . .
y/c . X .  . . -  . . .
z/a . X .  . . .  - . .
z/b . X .  . . .  . - .
z/c . X .  . . .  . . -
"""}),
      step("explicit policyTypes [Egress]",
           [update(np("x", "p", pods("b"), types=["Egress"],
                      egress=[reg([peer(ns=nss("z"))])]))],
           [TCP80], hand={TCP80: """
x/a - . .  . . .  . . .
x/b X - X  X X X  . . .
x/c . . -  . . .  . . .
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""}),
      step("no policyTypes, ingress [{}] and the egress rule",
           [update(np("x", "p", pods("b"), ingress=[{}], egress=[reg([peer(ns=nss("z"))])]))],
           [TCP80, SCTP81]),
      step("no policyTypes, no ingress, empty egress list",
           [update(np("x", "p", pods("b"), egress=[]))], [TCP80, UDP80], hand={TCP80: """
x/a - X .  . . .  . . .
x/b . - .  . . .  . . .
x/c . X -  . . .  . . .
y/a . X .  - . .  . . .
y/b . X .  . - .  . . .
y/c . X .  . . -  . . .
z/a . X .  . . .  - . .
z/b . X .  . . .  . - .
z/c . X .  . . .  . . -
"""})])

case("policy-selecting-no-pods",
     "Policies whose podSelector matches no pod (pods carry no `ns` label; no pod=d exists) "
     "have no effect; once x/a gets label ns=x it is isolated both ways.",
     [step("policies selecting nothing",
           [create(np("x", "deny-ns-x", sel({"ns": "x"}), types=["Ingress", "Egress"])),
            create(np("y", "deny-d", pods("d"), types=["Ingress", "Egress"]))],
           [TCP80, UDP80, SCTP81], hand={TCP80: OPEN, SCTP81: OPEN}),
      step("x/a gets ns=x", [add_pod("x/a", {"ns": "x"})], [TCP80, UDP80], hand={TCP80: """
x/a - X X  X X X  X X X
x/b X - .  . . .  . . .
x/c X . -  . . .  . . .
y/a X . .  - . .  . . .
y/b X . .  . - .  . . .
y/c X . .  . . -  . . .
z/a X . .  . . .  - . .
z/b X . .  . . .  . - .
z/c X . .  . . .  . . -
"""})])

case("multiple-rules-or",
     "Rules of one policy are ORed; within a rule peers and ports are ANDed: x/a admits x/b on "
     "TCP 80, ns y on TCP 81, and z/c on any UDP port.",
     [step("three rules",
           [create(np("x", "p", pods("a"), ingress=[
               rin([peer(pod=pods("b"))], [port(80)]),
               rin([peer(ns=nss("y"))], [port(81, "TCP")]),
               rin([peer(pod=pods("c"), ns=nss("z"))], [port(proto="UDP")])]))],
           [TCP80, TCP81, UDP80, UDP81, SCTP80], hand={TCP80: """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c X . -  . . .  . . .
y/a X . .  - . .  . . .
y/b X . .  . - .  . . .
y/c X . .  . . -  . . .
z/a X . .  . . .  - . .
z/b X . .  . . .  . - .
z/c X . .  . . .  . . -
""", TCP81: """
x/a - . .  . . .  . . .
x/b X - .  . . .  . . .
x/c X . -  . . .  . . .
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a X . .  . . .  - . .
z/b X . .  . . .  . - .
z/c X . .  . . .  . . -
""", UDP80: """
x/a - . .  . . .  . . .
x/b X - .  . . .  . . .
x/c X . -  . . .  . . .
y/a X . .  - . .  . . .
y/b X . .  . - .  . . .
y/c X . .  . . -  . . .
z/a X . .  . . .  - . .
z/b X . .  . . .  . - .
z/c . . .  . . .  . . -
""", SCTP80: """
x/a - . .  . . .  . . .
x/b X - .  . . .  . . .
x/c X . -  . . .  . . .
y/a X . .  - . .  . . .
y/b X . .  . - .  . . .
y/c X . .  . . -  . . .
z/a X . .  . . .  - . .
z/b X . .  . . .  . - .
z/c X . .  . . .  . . -
"""})])

case("ingress-rule-ports-without-peers",
     "A rule with ports but no `from` admits every source on those ports; another rule of the "
     "same policy admits x/a on every port.",
     [step("y/b: anyone on UDP 81, x/a on anything",
           [create(np("y", "p", pods("b"), ingress=[
               rin(ports=[port(81, "UDP")]),
               rin([peer(ns=nss("x"), pod=pods("a"))])]))],
           [TCP80, UDP80, UDP81, SCTP81])])

# =============================================================================================
# Ports.

case("ingress-numeric-port",
     "An ingress rule with port 80 and no protocol (TCP by default) and no peers admits only "
     "TCP 80 into x; then port 81 with explicit TCP.",
     [step("x: TCP 80 from anywhere",
           [create(np("x", "p", ALL, ingress=[rin(ports=[port(80)])]))], ALL6,
           hand={TCP80: OPEN, TCP81: DENY_X, UDP80: DENY_X, UDP81: DENY_X, SCTP80: DENY_X,
                 SCTP81: DENY_X}),
      step("x: TCP 81 from anywhere",
           [update(np("x", "p", ALL, ingress=[rin(ports=[port(81, "TCP")])]))], ALL6,
           hand={TCP80: DENY_X, TCP81: OPEN, UDP81: DENY_X})])

case("ingress-port-udp-only",
     "port 80 protocol UDP admits only UDP 80 into y/a (TCP 80 and SCTP 80 stay blocked).",
     [step("y/a: UDP 80 from anywhere",
           [create(np("y", "p", pods("a"), ingress=[rin(ports=[port(80, "UDP")])]))], ALL6)])

case("ingress-port-sctp-only",
     "port 81 protocol SCTP (from any namespace) admits only SCTP 81 into z.",
     [step("z: SCTP 81 from any namespace",
           [create(np("z", "p", ALL, ingress=[rin([peer(ns=ALL)], [port(81, "SCTP")])]))], ALL6)])

case("protocol-only-ports",
     "A port entry with only a protocol admits every port of that protocol: UDP (80 and 81), "
     "then SCTP, then TCP and SCTP.",
     [step("x: any UDP port", [create(np("x", "p", ALL, ingress=[rin(ports=[port(proto="UDP")])]))],
           ALL6, hand={UDP80: OPEN, UDP81: OPEN, TCP80: DENY_X, SCTP81: DENY_X}),
      step("x: any SCTP port",
           [update(np("x", "p", ALL, ingress=[rin(ports=[port(proto="SCTP")])]))], ALL6),
      step("x: any TCP or SCTP port",
           [update(np("x", "p", ALL, ingress=[rin(ports=[port(proto="TCP"), port(proto="SCTP")])]))],
           ALL6, hand={TCP81: OPEN, SCTP80: OPEN, UDP80: DENY_X})])

XA_ONLY_DENIED = """
x/a - . .  . . .  . . .
x/b X - .  . . .  . . .
x/c X . -  . . .  . . .
y/a X . .  - . .  . . .
y/b X . .  . - .  . . .
y/c X . .  . . -  . . .
z/a X . .  . . .  - . .
z/b X . .  . . .  . - .
z/c X . .  . . .  . . -
"""

case("endport-range",
     "endPort ranges are inclusive: TCP 80-81 admits 80 and 81 into x/a; TCP 81-90 admits "
     "only 81; UDP 79-80 only UDP 80; SCTP 81-81 only SCTP 81.",
     [step("TCP 80-81", [create(np("x", "p", pods("a"), ingress=[rin(ports=[port(80, end=81)])]))],
           ALL6, hand={TCP80: OPEN, TCP81: OPEN, UDP80: XA_ONLY_DENIED, SCTP81: XA_ONLY_DENIED}),
      step("TCP 81-90", [update(np("x", "p", pods("a"),
                                   ingress=[rin(ports=[port(81, "TCP", 90)])]))],
           ALL6, hand={TCP80: XA_ONLY_DENIED, TCP81: OPEN}),
      step("UDP 79-80 and SCTP 81-81",
           [update(np("x", "p", pods("a"), ingress=[rin(ports=[port(79, "UDP", 80),
                                                               port(81, "SCTP", 81)])]))],
           ALL6, hand={UDP80: OPEN, UDP81: XA_ONLY_DENIED, SCTP81: OPEN, SCTP80: XA_ONLY_DENIED,
                       TCP80: XA_ONLY_DENIED})])

case("endport-range-egress",
     "Egress port ranges: y may reach ns x on SCTP 70-80 and anything on UDP 81-65535.",
     [step("y egress ranges",
           [create(np("y", "p", ALL, types=["Egress"], egress=[
               reg([peer(ns=nss("x"))], [port(70, "SCTP", 80)]),
               reg(ports=[port(81, "UDP", 65535)])]))], ALL6, hand={UDP81: OPEN, SCTP80: """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c . . -  . . .  . . .
y/a . . .  - X X  X X X
y/b . . .  X - X  X X X
y/c . . .  X X -  X X X
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""})])

case("named-port-ingress",
     "Named ports in ingress rules are resolved on the selected (destination) pod: "
     "serve-81-tcp admits TCP 81 only; then serve-80-udp/UDP and serve-81-sctp/SCTP.",
     [step("x: serve-81-tcp", [create(np("x", "p", ALL, ingress=[rin(ports=[port("serve-81-tcp")])]))],
           ALL6, hand={TCP81: OPEN, TCP80: DENY_X, UDP81: DENY_X, SCTP81: DENY_X}),
      step("x: serve-80-udp/UDP and serve-81-sctp/SCTP",
           [update(np("x", "p", ALL, ingress=[rin(ports=[port("serve-80-udp", "UDP"),
                                                         port("serve-81-sctp", "SCTP")])]))],
           ALL6, hand={UDP80: OPEN, SCTP81: OPEN, UDP81: DENY_X, SCTP80: DENY_X, TCP80: DENY_X,
                       TCP81: DENY_X})])

case("named-port-mismatched-protocol",
     "A named port whose container port has another protocol than the rule's matches nothing: "
     "serve-80-udp with the default TCP, serve-80-tcp with UDP, and an unknown name all leave "
     "x/a closed; serve-80-tcp with TCP opens TCP 80.",
     [step("serve-80-udp with default protocol TCP",
           [create(np("x", "p", pods("a"), ingress=[rin(ports=[port("serve-80-udp")])]))],
           ALL6, hand={TCP80: XA_ONLY_DENIED, UDP80: XA_ONLY_DENIED}),
      step("serve-80-tcp with UDP", [update(np("x", "p", pods("a"), ingress=[
          rin(ports=[port("serve-80-tcp", "UDP")])]))], ALL6,
           hand={TCP80: XA_ONLY_DENIED, UDP80: XA_ONLY_DENIED}),
      step("unknown name http", [update(np("x", "p", pods("a"), ingress=[
          rin(ports=[port("http"), port("http", "UDP")])]))], ALL6),
      step("serve-80-tcp with TCP", [update(np("x", "p", pods("a"), ingress=[
          rin(ports=[port("serve-80-tcp", "TCP")])]))], ALL6, hand={TCP80: OPEN,
                                                                    TCP81: XA_ONLY_DENIED})])

case("named-port-egress",
     "Named ports in egress rules are resolved on the destination pods: x may reach ns y on "
     "serve-80-tcp (TCP 80); then also anything on serve-81-udp/UDP (UDP 81).",
     [step("x egress to ns y on serve-80-tcp",
           [create(np("x", "p", ALL, types=["Egress"],
                      egress=[reg([peer(ns=nss("y"))], [port("serve-80-tcp")])]))],
           ALL6, hand={TCP80: """
x/a - X X  . . .  X X X
x/b X - X  . . .  X X X
x/c X X -  . . .  X X X
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
""", TCP81: DENY_EGRESS_X, UDP80: DENY_EGRESS_X}),
      step("plus any destination on serve-81-udp/UDP",
           [update(np("x", "p", ALL, types=["Egress"],
                      egress=[reg([peer(ns=nss("y"))], [port("serve-80-tcp")]),
                              reg(ports=[port("serve-81-udp", "UDP")])]))],
           ALL6, hand={UDP81: OPEN, UDP80: DENY_EGRESS_X})])

case("named-port-egress-mismatched-protocol",
     "Egress with named port serve-81-sctp but protocol UDP matches nothing (y stays unable to "
     "send); with protocol SCTP it opens SCTP 81.",
     [step("serve-81-sctp/UDP", [create(np("y", "p", ALL, types=["Egress"],
                                            egress=[reg(ports=[port("serve-81-sctp", "UDP")])]))],
           ALL6),
      step("serve-81-sctp/SCTP", [update(np("y", "p", ALL, types=["Egress"],
                                             egress=[reg(ports=[port("serve-81-sctp", "SCTP")])]))],
           ALL6)])

case("mixed-numeric-and-named-ports",
     "One rule mixing numeric and named ports: UDP 81, serve-80-tcp (TCP) and "
     "serve-81-sctp/SCTP; from ns z only.",
     [step("z/b from ns z on mixed ports",
           [create(np("z", "p", pods("b"), ingress=[rin([peer(ns=nss("z"))], [
               port(81, "UDP"), port("serve-80-tcp"), port("serve-81-sctp", "SCTP")])]))],
           ALL6, hand={TCP80: """
x/a - . .  . . .  . X .
x/b . - .  . . .  . X .
x/c . . -  . . .  . X .
y/a . . .  - . .  . X .
y/b . . .  . - .  . X .
y/c . . .  . . -  . X .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""})])

# =============================================================================================
# ipBlock.

case("ipblock-single-pod-ingress",
     "An ipBlock with y/b's address as a /32 admits exactly y/b into x/a; adding a second "
     "peer with z/c's /32 admits z/c too.",
     [step("from y/b's /32", [create(np("x", "p", pods("a"), ingress=[rin([ipb(ip32("y/b"))])]))],
           [TCP80, UDP81], hand={TCP80: """
x/a - . .  . . .  . . .
x/b X - .  . . .  . . .
x/c X . -  . . .  . . .
y/a X . .  - . .  . . .
y/b . . .  . - .  . . .
y/c X . .  . . -  . . .
z/a X . .  . . .  - . .
z/b X . .  . . .  . - .
z/c X . .  . . .  . . -
"""}),
      step("and z/c's /32", [update(np("x", "p", pods("a"), ingress=[
          rin([ipb(ip32("y/b")), ipb(ip32("z/c"))])]))], [TCP80, SCTP80])])

case("ipblock-except-ingress",
     "ipBlock 0.0.0.0/0 except y/a's /32 admits every pod but y/a into x (pods of x "
     "included); then x/b is excepted too.",
     [step("0.0.0.0/0 except y/a",
           [create(np("x", "p", ALL, ingress=[rin([ipb("0.0.0.0/0", ip32("y/a"))])]))],
           [TCP80, UDP80], hand={TCP80: """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c . . -  . . .  . . .
y/a X X X  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""}),
      step("except y/a and x/b",
           [update(np("x", "p", ALL, ingress=[rin([ipb("0.0.0.0/0", ip32("y/a"), ip32("x/b"))])]))],
           [TCP80, SCTP81], hand={SCTP81: """
x/a - . .  . . .  . . .
x/b X - X  . . .  . . .
x/c . . -  . . .  . . .
y/a X X X  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""})])

case("ipblock-egress",
     "y may send only to z/c's /32 (ipBlock); then to 0.0.0.0/0 except the /32s of z/c and "
     "x/a.",
     [step("y egress to z/c only",
           [create(np("y", "p", ALL, types=["Egress"], egress=[reg([ipb(ip32("z/c"))])]))],
           [TCP80, UDP81], hand={UDP81: """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c . . -  . . .  . . .
y/a X X X  - X X  X X .
y/b X X X  X - X  X X .
y/c X X X  X X -  X X .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""}),
      step("y egress to everything but z/c and x/a",
           [update(np("y", "p", ALL, types=["Egress"],
                      egress=[reg([ipb("0.0.0.0/0", ip32("z/c"), ip32("x/a"))])]))],
           [TCP80, SCTP80], hand={TCP80: """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c . . -  . . .  . . .
y/a X . .  - . .  . . X
y/b X . .  . - .  . . X
y/c X . .  . . -  . . X
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""})])

case("ipblock-and-selectors-in-one-rule",
     "One rule whose peers are an ipBlock (y/a), a podSelector (x/c) and a namespace+pod "
     "selector (z/b) admits exactly those three (OR); adding UDP 81 as the rule's only port "
     "ANDs it with all three peers.",
     [step("three kinds of peer",
           [create(np("x", "p", pods("a"), ingress=[rin([ipb(ip32("y/a")), peer(pod=pods("c")),
                                                         peer(pod=pods("b"), ns=nss("z"))])]))],
           [TCP80, UDP81], hand={TCP80: """
x/a - . .  . . .  . . .
x/b X - .  . . .  . . .
x/c . . -  . . .  . . .
y/a . . .  - . .  . . .
y/b X . .  . - .  . . .
y/c X . .  . . -  . . .
z/a X . .  . . .  - . .
z/b . . .  . . .  . - .
z/c X . .  . . .  . . -
"""}),
      step("only UDP 81",
           [update(np("x", "p", pods("a"), ingress=[rin([ipb(ip32("y/a")), peer(pod=pods("c")),
                                                         peer(pod=pods("b"), ns=nss("z"))],
                                                        [port(81, "UDP")])]))],
           [TCP80, UDP81, UDP80], hand={TCP80: XA_ONLY_DENIED})])

case("ipblock-egress-and-ingress-combined",
     "z denies ingress except from 0.0.0.0/0 minus x/b, while x/b may only send to z/a's /32: "
     "x/b->z/a is blocked by z's ingress although x/b's egress allows it.",
     [step("both policies",
           [create(np("z", "in", ALL, ingress=[rin([ipb("0.0.0.0/0", ip32("x/b"))])])),
            create(np("x", "out", pods("b"), types=["Egress"], egress=[reg([ipb(ip32("z/a"))])]))],
           [TCP80, UDP80], hand={TCP80: """
x/a - . .  . . .  . . .
x/b X - X  X X X  X X X
x/c . . -  . . .  . . .
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""}),
      step("z stops excepting x/b", [update(np("z", "in", ALL, ingress=[rin([ipb("0.0.0.0/0")])]))],
           [TCP80])])

# =============================================================================================
# Updates, deletions, labels.

case("policy-update-ports-and-peers",
     "Updating a policy replaces it: y/c from ns x on TCP 80, then from ns x on UDP 81, then "
     "from ns z on any port, then from nobody (`ingress: []`).",
     [step("from ns x on TCP 80",
           [create(np("y", "p", pods("c"), ingress=[rin([peer(ns=nss("x"))], [port(80)])]))],
           [TCP80, UDP81]),
      step("from ns x on UDP 81",
           [update(np("y", "p", pods("c"), ingress=[rin([peer(ns=nss("x"))], [port(81, "UDP")])]))],
           [TCP80, UDP81]),
      step("from ns z on any port",
           [update(np("y", "p", pods("c"), ingress=[rin([peer(ns=nss("z"))])]))],
           [TCP80, UDP81, SCTP80]),
      step("from nobody", [update(np("y", "p", pods("c"), ingress=[]))], [TCP80, UDP81])])

case("policy-deletion-restores",
     "Three policies (deny ingress x, deny egress y, deny both z/a) are deleted one at a time; "
     "each deletion restores exactly its share of the traffic.",
     [step("three deny policies",
           [create(np("x", "deny-in", ALL)),
            create(np("y", "deny-out", ALL, types=["Egress"])),
            create(np("z", "deny-a", pods("a"), types=["Egress", "Ingress"]))],
           [TCP80, UDP80], hand={TCP80: """
x/a - X X  . . .  X . .
x/b X - X  . . .  X . .
x/c X X -  . . .  X . .
y/a X X X  - X X  X X X
y/b X X X  X - X  X X X
y/c X X X  X X -  X X X
z/a X X X  X X X  - X X
z/b X X X  . . .  X - .
z/c X X X  . . .  X . -
"""}),
      step("delete deny-out", [delete("y", "deny-out")], [TCP80, SCTP81]),
      step("delete deny-in", [delete("x", "deny-in")], [TCP80, SCTP81]),
      step("delete deny-a", [delete("z", "deny-a")], [TCP80, SCTP81], hand={TCP80: OPEN})])

case("namespace-labels-add-set-remove",
     "z admits namespaces with team=blue on any port and ns=y on TCP 81 only. Adding team=blue "
     "to x admits x; setNamespaceLabels y {team: red} drops y's `ns` label (y loses TCP 81); "
     "setting y to {ns: y, team: blue} admits y on every port, then {ns: y} back to TCP 81 "
     "only; finally x loses team.",
     [step("policies", [create(np("z", "blue", ALL, ingress=[rin([peer(ns=sel({"team": "blue"}))])])),
                        create(np("z", "y-81", ALL, ingress=[rin([peer(ns=nss("y"))], [port(81)])]))],
           [TCP80, TCP81]),
      step("x gets team=blue", [add_ns("x", {"team": "blue"})], [TCP80, TCP81]),
      step("y's labels become exactly {team: red}", [set_ns("y", {"team": "red"})],
           [TCP80, TCP81], hand={TCP81: """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c . . -  . . .  . . .
y/a . . .  - . .  X X X
y/b . . .  . - .  X X X
y/c . . .  . . -  X X X
z/a . . .  . . .  - X X
z/b . . .  . . .  X - X
z/c . . .  . . .  X X -
"""}),
      step("y's labels become exactly {ns: y, team: blue}", [set_ns("y", {"ns": "y", "team": "blue"})],
           [TCP80, TCP81, UDP81], hand={UDP81: """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c . . -  . . .  . . .
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a . . .  . . .  - X X
z/b . . .  . . .  X - X
z/c . . .  . . .  X X -
"""}),
      step("y's labels become exactly {ns: y}", [set_ns("y", {"ns": "y"})], [TCP80, TCP81]),
      step("x loses team", [rm_ns("x", "team")], [TCP80, TCP81], hand={TCP80: """
x/a - . .  . . .  X X X
x/b . - .  . . .  X X X
x/c . . -  . . .  X X X
y/a . . .  - . .  X X X
y/b . . .  . - .  X X X
y/c . . .  . . -  X X X
z/a . . .  . . .  - X X
z/b . . .  . . .  X - X
z/c . . .  . . .  X X -
""", TCP81: """
x/a - . .  . . .  X X X
x/b . - .  . . .  X X X
x/c . . -  . . .  X X X
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a . . .  . . .  - X X
z/b . . .  . . .  X - X
z/c . . .  . . .  X X -
"""})])

case("namespace-selector-metadata-name",
     "kubernetes.io/metadata.name is always present: z admits ns name x on TCP 80 and label "
     "ns=x on TCP 81; after x's labels are set to {} only the metadata.name rule matches.",
     [step("policies",
           [create(np("z", "by-name", ALL, ingress=[rin([peer(ns=sel({"kubernetes.io/metadata.name": "x"}))],
                                                        [port(80)])])),
            create(np("z", "by-label", ALL, ingress=[rin([peer(ns=nss("x"))], [port(81)])]))],
           [TCP80, TCP81]),
      step("x's labels set to {}", [set_ns("x", {})], [TCP80, TCP81], hand={TCP81: """
x/a - . .  . . .  X X X
x/b . - .  . . .  X X X
x/c . . -  . . .  X X X
y/a . . .  - . .  X X X
y/b . . .  . - .  X X X
y/c . . .  . . -  X X X
z/a . . .  . . .  - X X
z/b . . .  . . .  X - X
z/c . . .  . . .  X X -
""", TCP80: """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c . . -  . . .  . . .
y/a . . .  - . .  X X X
y/b . . .  . - .  X X X
y/c . . .  . . -  X X X
z/a . . .  . . .  - X X
z/b . . .  . . .  X - X
z/c . . .  . . .  X X -
"""})])

case("pod-labels-peer-add-remove",
     "x admits pods with role=client of its own namespace: none at first; x/c gets the label "
     "(admitted); y/c gets it too (not admitted: the peer is in x's namespace); x/c loses it.",
     [step("x from role=client", [create(np("x", "p", ALL, ingress=[rin([peer(pod=sel({"role": "client"}))])]))],
           [TCP80, UDP80], hand={TCP80: DENY_X}),
      step("x/c gets role=client", [add_pod("x/c", {"role": "client"})], [TCP80, UDP80]),
      step("y/c gets role=client", [add_pod("y/c", {"role": "client"})], [TCP80], hand={TCP80: """
x/a - X X  . . .  . . .
x/b X - X  . . .  . . .
x/c . . -  . . .  . . .
y/a X X X  - . .  . . .
y/b X X X  . - .  . . .
y/c X X X  . . -  . . .
z/a X X X  . . .  - . .
z/b X X X  . . .  . - .
z/c X X X  . . .  . . -
"""}),
      step("x/c loses role", [rm_pod("x/c", "role")], [TCP80, SCTP81])])

case("pod-labelled-into-policy-selector",
     "A policy selecting role=db (admitting pod=a of y) has no effect until y/b gets role=db "
     "(then only y/a reaches y/b); setPodLabels y/b {pod: b} removes role and the isolation.",
     [step("policy for role=db", [create(np("y", "db", sel({"role": "db"}),
                                             ingress=[rin([peer(pod=pods("a"))])]))],
           [TCP80, UDP80], hand={TCP80: OPEN}),
      step("y/b gets role=db", [add_pod("y/b", {"role": "db"})], [TCP80, UDP80], hand={TCP80: """
x/a - . .  . X .  . . .
x/b . - .  . X .  . . .
x/c . . -  . X .  . . .
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . X -  . . .
z/a . . .  . X .  - . .
z/b . . .  . X .  . - .
z/c . . .  . X .  . . -
"""}),
      step("y/b's labels set to {pod: b}", [set_pod("y/b", {"pod": "b"})], [TCP80],
           hand={TCP80: OPEN})])

case("set-pod-labels-replaces",
     "setPodLabels replaces all labels: x admits pod=b; x/b relabelled {role: b} loses pod=b "
     "(blocked), x/c relabelled {pod: b} gains it (admitted).",
     [step("x from pod=b", [create(np("x", "p", ALL, ingress=[rin([peer(pod=pods("b"))])]))],
           [TCP80, UDP81]),
      step("x/b -> {role: b}", [set_pod("x/b", {"role": "b"})], [TCP80, UDP81]),
      step("x/c -> {pod: b}", [set_pod("x/c", {"pod": "b"})], [TCP80, UDP81], hand={TCP80: """
x/a - X X  . . .  . . .
x/b X - X  . . .  . . .
x/c . . -  . . .  . . .
y/a X X X  - . .  . . .
y/b X X X  . - .  . . .
y/c X X X  . . -  . . .
z/a X X X  . . .  - . .
z/b X X X  . . .  . - .
z/c X X X  . . .  . . -
"""})])

case("egress-deny-then-allow-namespace",
     "x denies all egress; allow egress to ns y; allow egress to ns z on TCP 81 only; deleting "
     "the deny policy changes nothing (the allow policies still isolate); deleting them opens.",
     [step("deny egress", [create(np("x", "deny", ALL, types=["Egress"]))], [TCP80, TCP81],
           hand={TCP80: DENY_EGRESS_X}),
      step("allow to ns y", [create(np("x", "to-y", ALL, types=["Egress"],
                                       egress=[reg([peer(ns=nss("y"))])]))], [TCP80, TCP81]),
      step("allow to ns z on TCP 81", [create(np("x", "to-z-81", ALL, types=["Egress"],
                                                  egress=[reg([peer(ns=nss("z"))], [port(81)])]))],
           [TCP80, TCP81, UDP81], hand={TCP81: """
x/a - X X  . . .  . . .
x/b X - X  . . .  . . .
x/c X X -  . . .  . . .
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a . . .  . . .  - . .
z/b . . .  . . .  . - .
z/c . . .  . . .  . . -
"""}),
      step("delete the deny policy", [delete("x", "deny")], [TCP80, TCP81]),
      step("delete the allow policies", [delete("x", "to-y"), delete("x", "to-z-81")],
           [TCP80, TCP81], hand={TCP80: OPEN})])

case("egress-podselector-own-namespace",
     "Egress to podSelector {} alone stays inside the policy's namespace (z); a second rule "
     "adds pod=a of every namespace on UDP only.",
     [step("z egress within z", [create(np("z", "p", ALL, types=["Egress"],
                                          egress=[reg([peer(pod=ALL)])]))],
           [TCP80, UDP80]),
      step("plus pod=a anywhere on UDP",
           [update(np("z", "p", ALL, types=["Egress"],
                      egress=[reg([peer(pod=ALL)]),
                              reg([peer(pod=pods("a"), ns=ALL)], [port(proto="UDP")])]))],
           [TCP80, UDP80, UDP81, SCTP80], hand={UDP81: """
x/a - . .  . . .  . . .
x/b . - .  . . .  . . .
x/c . . -  . . .  . . .
y/a . . .  - . .  . . .
y/b . . .  . - .  . . .
y/c . . .  . . -  . . .
z/a . X X  . X X  - . .
z/b . X X  . X X  . - .
z/c . X X  . X X  . . -
"""})])

case("ingress-and-egress-policies-same-pod-different-peers",
     "x/a may send only to ns y (egress) and y/b admits only x/c (ingress): x/a->y/b is blocked "
     "by y/b's ingress even though x/a's egress allows it; x/c->y/b passes.",
     [step("policies",
           [create(np("x", "out", pods("a"), types=["Egress"], egress=[reg([peer(ns=nss("y"))])])),
            create(np("y", "in", pods("b"), ingress=[rin([peer(pod=pods("c"), ns=nss("x"))])]))],
           [TCP80, SCTP81], hand={TCP80: """
x/a - X X  . X .  X X X
x/b . - .  . X .  . . .
x/c . . -  . . .  . . .
y/a . . .  - X .  . . .
y/b . . .  . - .  . . .
y/c . . .  . X -  . . .
z/a . . .  . X .  - . .
z/b . . .  . X .  . - .
z/c . . .  . X .  . . -
"""})])

case("egress-allow-to-namespace-with-ports-and-ingress-deny",
     "y denies ingress to y/a, x may send to ns y on TCP 80 only (egress): TCP 80 from x "
     "reaches y/b and y/c, not y/a; TCP 81 from x reaches nothing.",
     [step("policies",
           [create(np("y", "deny-a", pods("a"), ingress=[])),
            create(np("x", "to-y-80", ALL, egress=[reg([peer(ns=nss("y"))], [port(80, "TCP")])],
                      types=["Egress"]))],
           [TCP80, TCP81, UDP80])])

# =============================================================================================
# Custom models.


def named_ports_model():
    # Every pod serves TCP 80, TCP 81 and UDP 80; the name "http" means different things.
    return _fix_port_order({
        "namespaces": [{"name": "x", "labels": {"ns": "x"}}, {"name": "y", "labels": {"ns": "y"}}],
        "pods": [
            custom_pod("x", "web1", {"pod": "web1", "app": "web"},
                       [(80, "TCP", "http"), (81, "TCP"), (80, "UDP", "dns")]),
            custom_pod("x", "web2", {"pod": "web2", "app": "web"},
                       [(80, "TCP"), (81, "TCP", "http"), (80, "UDP")]),
            custom_pod("x", "other", {"pod": "other"},
                       [(80, "TCP"), (81, "TCP"), (80, "UDP")]),
            custom_pod("y", "client", {"pod": "client"},
                       [(80, "TCP"), (81, "TCP"), (80, "UDP", "http")]),
            custom_pod("y", "web3", {"pod": "web3", "app": "web"},
                       [(80, "TCP"), (81, "TCP", "http"), (80, "UDP", "dns")]),
        ]})


case("custom-named-port-per-pod-ingress",
     "The name http resolves per destination pod: x/web1 http=80/TCP, x/web2 http=81/TCP, "
     "x/other has no http; y/client's http is 80/UDP, y/web3's 81/TCP. A rule on port http "
     "(TCP) in x opens TCP 80 on web1 and TCP 81 on web2 only; in y a rule on http/UDP opens "
     "UDP 80 on client only.",
     [step("x: port http; y: port http/UDP",
           [create(np("x", "http", ALL, ingress=[rin(ports=[port("http")])])),
            create(np("y", "http-udp", ALL, ingress=[rin(ports=[port("http", "UDP")])]))],
           [TCP80, TCP81, UDP80], hand={TCP80: """
x/web1   - X X  X X
x/web2   . - X  X X
x/other  . X -  X X
y/client . X X  - X
y/web3   . X X  X -
""", TCP81: """
x/web1   - . X  X X
x/web2   X - X  X X
x/other  X . -  X X
y/client X . X  - X
y/web3   X . X  X -
""", UDP80: """
x/web1   - X X  . X
x/web2   X - X  . X
x/other  X X -  . X
y/client X X X  - X
y/web3   X X X  . -
"""}),
      step("x: http or dns/UDP",
           [update(np("x", "http", ALL, ingress=[rin(ports=[port("http"), port("dns", "UDP")])]))],
           [TCP80, TCP81, UDP80], hand={UDP80: """
x/web1   - X X  . X
x/web2   . - X  . X
x/other  . X -  . X
y/client . X X  - X
y/web3   . X X  . -
"""})],
     model=named_ports_model())

case("custom-named-port-per-pod-egress",
     "Egress named ports resolve on each destination: y/client may send to any pod with app=web "
     "(any namespace) on http (TCP): web1 on TCP 80, web2 and web3 on TCP 81; nothing to "
     "x/other, nothing on UDP (client's own http/UDP does not matter for egress).",
     [step("y/client egress to app=web on http",
           [create(np("y", "out", pods("client"), types=["Egress"], egress=[
               reg([peer(pod=sel({"app": "web"}), ns=ALL)], [port("http")])]))],
           [TCP80, TCP81, UDP80], hand={TCP80: """
x/web1   - . .  . .
x/web2   . - .  . .
x/other  . . -  . .
y/client . X X  - X
y/web3   . . .  . -
""", TCP81: """
x/web1   - . .  . .
x/web2   . - .  . .
x/other  . . -  . .
y/client X . X  - .
y/web3   . . .  . -
""", UDP80: """
x/web1   - . .  . .
x/web2   . - .  . .
x/other  . . -  . .
y/client X X X  - X
y/web3   . . .  . -
"""}),
      step("y/client egress on http/UDP to anyone",
           [update(np("y", "out", pods("client"), types=["Egress"],
                      egress=[reg(ports=[port("http", "UDP")])]))],
           [TCP80, TCP81, UDP80], hand={UDP80: """
x/web1   - . .  . .
x/web2   . - .  . .
x/other  . . -  . .
y/client X X X  - X
y/web3   . . .  . -
"""})],
     model=named_ports_model())


def four_namespace_model():
    ports = [(80, "TCP", "web"), (81, "UDP", "stats")]
    nsl = {"x": {"ns": "x", "env": "dev"}, "y": {"ns": "y", "env": "prod"},
           "z": {"ns": "z"}, "w": {"ns": "w", "env": "prod", "tier": "edge"}}
    return _fix_port_order({
        "namespaces": [{"name": n, "labels": nsl[n]} for n in ("x", "y", "z", "w")],
        "pods": [custom_pod(n, p, {"pod": p}, ports) for n in ("x", "y", "z", "w")
                 for p in ("a", "b")]})


case("custom-fourth-namespace",
     "Four namespaces (x env=dev, y env=prod, z no env, w env=prod tier=edge), two pods each. w "
     "admits namespaces with env In [prod] (y and w); w's egress goes to env NotIn [dev] (y, z, "
     "w); then z is labelled env=prod and joins.",
     [step("w policies",
           [create(np("w", "in", ALL, ingress=[rin([peer(ns=sel(exprs=[ex("env", "In", "prod")]))])])),
            create(np("w", "out", ALL, types=["Egress"],
                      egress=[reg([peer(ns=sel(exprs=[ex("env", "NotIn", "dev")]))])]))],
           [TCP80, UDP81], hand={TCP80: """
x/a - .  . .  . .  X X
x/b . -  . .  . .  X X
y/a . .  - .  . .  . .
y/b . .  . -  . .  . .
z/a . .  . .  - .  X X
z/b . .  . .  . -  X X
w/a X X  . .  . .  - .
w/b X X  . .  . .  . -
"""}),
      step("z gets env=prod", [add_ns("z", {"env": "prod"})], [TCP80, UDP81], hand={UDP81: """
x/a - .  . .  . .  X X
x/b . -  . .  . .  X X
y/a . .  - .  . .  . .
y/b . .  . -  . .  . .
z/a . .  . .  - .  . .
z/b . .  . .  . -  . .
w/a X X  . .  . .  - .
w/b X X  . .  . .  . -
"""}),
      step("x admits only namespaces with tier=edge on named port web",
           [create(np("x", "edge", ALL, ingress=[rin([peer(ns=sel({"tier": "edge"}))], [port("web")])]))],
           [TCP80, UDP81], hand={TCP80: """
x/a - X  . .  . .  X X
x/b X -  . .  . .  X X
y/a X X  - .  . .  . .
y/b X X  . -  . .  . .
z/a X X  . .  - .  . .
z/b X X  . .  . -  . .
w/a X X  . .  . .  - .
w/b X X  . .  . .  . -
"""})],
     model=four_namespace_model())


def extra_pod_model():
    m = npcsem.standard_model()
    for p in m["pods"]:
        p["ports"] = [cp for cp in p["ports"] if cp["port"] == 80]
    m["pods"].insert(3, {"namespace": "x", "name": "d",
                         "labels": {"pod": "d", "role": "db", "tier": "backend"},
                         "ports": [cp for cp in npcsem.standard_ports() if cp["port"] == 80]})
    m["pods"].insert(7, {"namespace": "y", "name": "d", "labels": {"pod": "d", "role": "db"},
                         "ports": [cp for cp in npcsem.standard_ports() if cp["port"] == 80]})
    return _fix_port_order(m)


case("custom-extra-labelled-pods",
     "Standard namespaces plus x/d (role=db, tier=backend) and y/d (role=db), all serving port "
     "80 only. x isolates its role=db pod (x/d), admitting only pods with `pod In [a]` of "
     "any namespace; y/d (role=db, no tier) is unaffected by x's policy; a "
     "policy in y selecting role=db AND tier Exists selects nothing.",
     [step("x: role=db from pod=a anywhere; y: role=db with tier Exists",
           [create(np("x", "db", sel({"role": "db"}), ingress=[rin([peer(
               pod=sel(exprs=[ex("pod", "In", "a")]), ns=ALL)])])),
            create(np("y", "db-tier", sel({"role": "db"}, [ex("tier", "Exists")]),
                      types=["Ingress", "Egress"]))],
           [TCP80, UDP80, SCTP80], hand={TCP80: """
x/a - . . .  . . . .  . . .
x/b . - . X  . . . .  . . .
x/c . . - X  . . . .  . . .
x/d . . . -  . . . .  . . .
y/a . . . .  - . . .  . . .
y/b . . . X  . - . .  . . .
y/c . . . X  . . - .  . . .
y/d . . . X  . . . -  . . .
z/a . . . .  . . . .  - . .
z/b . . . X  . . . .  . - .
z/c . . . X  . . . .  . . -
"""}),
      step("y/d gets tier=backend", [add_pod("y/d", {"tier": "backend"})], [TCP80, UDP80],
           hand={UDP80: """
x/a - . . .  . . . X  . . .
x/b . - . X  . . . X  . . .
x/c . . - X  . . . X  . . .
x/d . . . -  . . . X  . . .
y/a . . . .  - . . X  . . .
y/b . . . X  . - . X  . . .
y/c . . . X  . . - X  . . .
y/d X X X X  X X X -  X X X
z/a . . . .  . . . X  - . .
z/b . . . X  . . . X  . - .
z/c . . . X  . . . X  . . -
"""}),
      step("x/d loses role", [rm_pod("x/d", "role")], [TCP80])],
     model=extra_pod_model())


def high_ports_model():
    ports = [(80, "TCP", "http"), (8080, "TCP", "http-alt"), (9090, "TCP"), (5353, "UDP", "mdns")]
    return _fix_port_order({
        "namespaces": [{"name": n, "labels": {"ns": n}} for n in ("x", "y")],
        "pods": [custom_pod(n, p, {"pod": p}, ports) for n in ("x", "y") for p in ("a", "b", "c")]})


case("custom-endport-wide-range",
     "Pods serving TCP 80, 8080, 9090 and UDP 5353: TCP 8000-9000 admits 8080 only; TCP "
     "1-65535 admits every TCP port but not UDP; then named http-alt plus UDP 5000-6000.",
     [step("x: TCP 8000-9000",
           [create(np("x", "p", ALL, ingress=[rin(ports=[port(8000, "TCP", 9000)])]))],
           [(80, "TCP"), (8080, "TCP"), (9090, "TCP"), (5353, "UDP")], hand={(8080, "TCP"): """
x/a - . .  . . .
x/b . - .  . . .
x/c . . -  . . .
y/a . . .  - . .
y/b . . .  . - .
y/c . . .  . . -
""", (9090, "TCP"): """
x/a - X X  . . .
x/b X - X  . . .
x/c X X -  . . .
y/a X X X  - . .
y/b X X X  . - .
y/c X X X  . . -
"""}),
      step("x: TCP 1-65535",
           [update(np("x", "p", ALL, ingress=[rin(ports=[port(1, "TCP", 65535)])]))],
           [(80, "TCP"), (8080, "TCP"), (9090, "TCP"), (5353, "UDP")]),
      step("x: http-alt and UDP 5000-6000 from ns y",
           [update(np("x", "p", ALL, ingress=[rin([peer(ns=nss("y"))],
                                                  [port("http-alt"), port(5000, "UDP", 6000)])]))],
           [(80, "TCP"), (8080, "TCP"), (9090, "TCP"), (5353, "UDP")])],
     model=high_ports_model())


def same_name_protocols_model():
    return _fix_port_order({
        "namespaces": [{"name": "x", "labels": {"ns": "x"}}, {"name": "y", "labels": {"ns": "y"}}],
        "pods": [
            custom_pod("x", "a", {"pod": "a"}, [(9100, "TCP", "metrics"), (9100, "UDP")]),
            custom_pod("x", "b", {"pod": "b"}, [(9100, "TCP"), (9100, "UDP", "metrics")]),
            custom_pod("y", "a", {"pod": "a"}, [(9100, "TCP", "metrics"), (9100, "UDP")]),
            custom_pod("y", "b", {"pod": "b"}, [(9100, "TCP"), (9100, "UDP")]),
        ]})


case("custom-named-port-protocol-per-pod",
     "The name metrics is 9100/TCP on x/a and y/a but 9100/UDP on x/b (y/b has no name). "
     "Ingress to x on metrics (TCP) opens TCP 9100 on x/a only; on metrics/UDP it opens UDP "
     "9100 on x/b only. Egress from y/b to metrics (TCP) reaches x/a and y/a on TCP.",
     [step("x: metrics/TCP", [create(np("x", "m", ALL, ingress=[rin(ports=[port("metrics", "TCP")])]))],
           [(9100, "TCP"), (9100, "UDP")], hand={(9100, "TCP"): """
x/a - X  . .
x/b . -  . .
y/a . X  - .
y/b . X  . -
""", (9100, "UDP"): """
x/a - X  . .
x/b X -  . .
y/a X X  - .
y/b X X  . -
"""}),
      step("x: metrics/UDP", [update(np("x", "m", ALL, ingress=[rin(ports=[port("metrics", "UDP")])]))],
           [(9100, "TCP"), (9100, "UDP")], hand={(9100, "UDP"): """
x/a - .  . .
x/b X -  . .
y/a X .  - .
y/b X .  . -
"""}),
      step("y/b egress on metrics/TCP; x open again",
           [delete("x", "m"),
            create(np("y", "out", pods("b"), types=["Egress"],
                      egress=[reg([peer(ns=ALL)], [port("metrics")])]))],
           [(9100, "TCP"), (9100, "UDP")], hand={(9100, "TCP"): """
x/a - .  . .
x/b . -  . .
y/a . .  - .
y/b . X  . -
""", (9100, "UDP"): """
x/a - .  . .
x/b . -  . .
y/a . .  - .
y/b X X  X -
"""})],
     model=same_name_protocols_model())

# =============================================================================================
# Output.


def parse_hand(text, pods_order):
    rows = {}
    for line in text.strip().splitlines():
        parts = line.split()
        key, cells = parts[0], [c for c in "".join(parts[1:])]
        if len(cells) != len(pods_order):
            raise ValueError("hand row %s has %d cells" % (key, len(cells)))
        rows[key] = [None if c == "-" else c == "." for c in cells]
    if list(rows) != pods_order:
        raise ValueError("hand matrix rows %s != %s" % (list(rows), pods_order))
    return rows


def render_row(cells, pods_order):
    out = []
    prev_ns = None
    for dst, c in zip(pods_order, cells):
        ns = dst.split("/")[0]
        if prev_ns is not None:
            out.append("  " if ns != prev_ns else " ")
        prev_ns = ns
        out.append("-" if c is None else ("." if c else "X"))
    return "".join(out)


def ip_assignments(pods_order):
    n = len(pods_order)
    rnd = random.Random(12345)
    yield {p: "10.32.0.%d" % (i + 1) for i, p in enumerate(pods_order)}
    yield {p: "10.32.0.%d" % (200 - i) for i, p in enumerate(pods_order)}
    nsidx = {}
    out = {}
    for p in pods_order:
        ns = p.split("/")[0]
        nsidx.setdefault(ns, len(nsidx))
        out[p] = "10.40.%d.%d" % (nsidx[ns], sum(1 for q in out if q.startswith(ns + "/")) + 2)
    yield out
    for _ in range(20):
        addrs = set()
        while len(addrs) < n:
            addrs.add("%d.%d.%d.%d" % (rnd.choice([10, 172, 192, 100]), rnd.randrange(256),
                                       rnd.randrange(256), rnd.randrange(1, 255)))
        yield dict(zip(pods_order, sorted(addrs, key=lambda _: rnd.random())))


def evaluate(c, ips):
    model = c["model"] or npcsem.standard_model()
    state = npcsem.State(model, ips)
    results = []
    for s in c["steps"]:
        for a in s["actions"]:
            state.apply(a)
        results.append([state.matrix(p, proto) for p, proto in s["probes"]])
    return state.pods, results


def build(c):
    model = c["model"] or npcsem.standard_model()
    pods_order = [p["namespace"] + "/" + p["name"] for p in model["pods"]]
    # Every pod must declare (serve) every probed port, so the case reads the same whether the
    # runner serves the declared ports or the probed ones.
    probed = {pp for s in c["steps"] for pp in s["probes"]}
    for p in model["pods"]:
        declared = {(cp["port"], cp["protocol"]) for cp in p["ports"]}
        missing = probed - declared
        if missing:
            raise ValueError("%s: pod %s/%s does not serve %s" % (c["name"], p["namespace"],
                                                                   p["name"], sorted(missing)))
    results = None
    for ips in ip_assignments(pods_order):
        order, r = evaluate(c, ips)
        assert order == pods_order
        if results is None:
            results = r
        elif r != results:
            raise ValueError("%s: matrices depend on pod addresses" % c["name"])
    steps_out = []
    for s, mats in zip(c["steps"], results):
        for key, text in s["hand"].items():
            if key not in s["probes"]:
                raise ValueError("%s / %s: hand matrix for unprobed %s" % (c["name"], s["name"], key))
            hand = parse_hand(text, pods_order)
            mat = mats[s["probes"].index(key)]
            for src in pods_order:
                for j, dst in enumerate(pods_order):
                    if src != dst and hand[src][j] != mat[src][j]:
                        raise ValueError("%s / %s / %s: %s -> %s: hand %s, computed %s" % (
                            c["name"], s["name"], key, src, dst, hand[src][j], mat[src][j]))
        if len(set(s["probes"])) != len(s["probes"]):
            raise ValueError("%s: duplicate probe" % c["name"])
        steps_out.append({
            "name": s["name"],
            "actions": s["actions"],
            "probes": [{"port": p, "protocol": proto,
                        "matrix": {src: render_row(m[src], pods_order) for src in pods_order}}
                       for (p, proto), m in zip(s["probes"], mats)],
        })
    out = {"name": c["name"], "description": c["description"]}
    if c["model"] is not None:
        out["model"] = c["model"]
    out["steps"] = steps_out
    return out


def main():
    check = "--check" in sys.argv[1:]
    names = [c["name"] for c in CASES]
    if len(set(names)) != len(names):
        raise SystemExit("duplicate case names")
    os.makedirs(CASES_DIR, exist_ok=True)
    hand_count = 0
    bad = 0
    for c in CASES:
        hand_count += sum(len(s["hand"]) for s in c["steps"])
        text = json.dumps(build(c), indent=2) + "\n"
        path = os.path.join(CASES_DIR, c["name"] + ".json")
        if check:
            with open(path) as f:
                if f.read() != text:
                    print("differs: %s" % path)
                    bad += 1
        else:
            with open(path, "w") as f:
                f.write(text)
    print("%d cases, %d hand-written matrices checked" % (len(CASES), hand_count))
    if bad:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
