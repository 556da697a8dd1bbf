"""Render a kustomization without kubectl: the subset of kustomize these manifests use.

    python deploy/k8s/render.py deploy/k8s/overlays/example > rendered.yaml

Supported, and nothing else (any other key is refused, so a kustomization this cannot
render fails instead of rendering wrong): `resources` (files, or folders holding a
kustomization.yaml), `namespace`, `images` (newName, newTag), `replicas`, and `patches`
given inline as JSON 6902 operations (add, replace, remove) with a kind/name target.
tests/test_deploy.py checks that it agrees with `kubectl kustomize` where kubectl exists.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "IngressClass"}
WITH_PODS = {"Deployment": ("spec", "template"), "Job": ("spec", "template")}


def load(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def render(folder: Path) -> list[dict[str, Any]]:
    folder = Path(folder)
    spec = yaml.safe_load((folder / "kustomization.yaml").read_text())
    unknown = set(spec) - SUPPORTED
    if unknown:
        raise SystemExit(f"{folder}: render.py does not support {sorted(unknown)}")
    docs: list[dict[str, Any]] = []
    for entry in spec.get("resources", []):
        path = folder / entry
        docs += render(path) if path.is_dir() else load(path)
    docs = copy.deepcopy(docs)
    for patch in spec.get("patches", []):
        target = patch["target"]
        matches = [d for d in docs if _matches(d, target)]
        if not matches:
            raise SystemExit(f"{folder}: patch target {target} matches nothing")
        for doc in matches:
            for op in yaml.safe_load(patch["patch"]):
                _apply(doc, op)
    for image in spec.get("images", []):
        for doc in docs:
            for container in _containers(doc):
                name, _, tag = container["image"].partition(":")
                if name == image["name"]:
                    container["image"] = (
                        f"{image.get('newName', name)}:{image.get('newTag', tag or 'latest')}"
                    )
    for replicas in spec.get("replicas", []):
        found = [
            d
            for d in docs
            if d["metadata"]["name"] == replicas["name"] and "replicas" in d.get("spec", {})
        ]
        if not found:
            raise SystemExit(f"{folder}: replicas for {replicas['name']} match nothing")
        for doc in found:
            doc["spec"]["replicas"] = replicas["count"]
    if "namespace" in spec:
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = spec["namespace"]
    return docs


def _matches(doc: dict[str, Any], target: dict[str, str]) -> bool:
    return all(
        (doc["kind"] if key == "kind" else doc["metadata"].get(key)) == value
        for key, value in target.items()
    )


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if doc["kind"] not in WITH_PODS:
        return []
    pod = doc
    for key in WITH_PODS[doc["kind"]]:
        pod = pod[key]
    return pod["spec"].get("containers", []) + pod["spec"].get("initContainers", [])


def _apply(doc: dict[str, Any], op: dict[str, Any]) -> None:
    *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
    node: Any = doc
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        index = len(node) if last == "-" else int(last)
        if op["op"] == "add":
            node.insert(index, op["value"])
        elif op["op"] == "replace":
            node[index] = op["value"]
        elif op["op"] == "remove":
            del node[index]
        else:
            raise SystemExit(f"unsupported patch op {op['op']}")
    elif op["op"] in ("add", "replace"):
        if op["op"] == "replace" and last not in node:
            raise SystemExit(f"replace of a missing {op['path']}")
        node[last] = op["value"]
    elif op["op"] == "remove":
        del node[last]
    else:
        raise SystemExit(f"unsupported patch op {op['op']}")


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    yaml.safe_dump_all(render(Path(sys.argv[1])), sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
