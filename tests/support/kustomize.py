"""Renders deploy/k8s with the part of Kustomize those manifests use, in Python, so CI checks them offline.

Kustomize is a Go program: no PyPI package ships it for our Python, Debian's kubectl (1.20) carries a 2019
Kustomize, and building it needs a Go toolchain. The overlays therefore keep to four fields, and this module
refuses any other, so a manifest can never mean something here that it does not mean to Kustomize:

- ``resources``: files (every YAML document in them) and directories (another kustomization, rendered first);
- ``namespace``: set on every object;
- ``images``: ``newName`` / ``newTag`` of the containers whose image is ``name``;
- ``patches``: a strategic-merge patch file naming its object (maps merged, scalars replaced; a patch with a
  list is refused, since lists merge by per-type keys this module does not know), or a JSON 6902 patch
  (the ``jsonpatch`` package) with a ``target`` of kind and name (``a|b`` alternatives).

tests/test_k8s.py compares this rendering with ``kubectl kustomize`` wherever kubectl is installed.
"""

from __future__ import annotations

import re
from pathlib import Path

import jsonpatch
import yaml

SUPPORTED_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}


class UnsupportedKustomization(ValueError):
    pass


def _documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _merge(target: dict, patch: dict, where: str) -> None:
    for key, value in patch.items():
        if isinstance(value, list):
            raise UnsupportedKustomization(f"{where}: lists need a JSON 6902 patch ({key})")
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value, f"{where}.{key}")
        else:
            target[key] = value


def _find(objects: list[dict], kind: str, name_pattern: str) -> list[dict]:
    matches = [
        obj for obj in objects if obj["kind"] == kind and re.fullmatch(name_pattern, obj["metadata"]["name"])
    ]
    if not matches:
        raise UnsupportedKustomization(f"no {kind} named {name_pattern}")
    return matches


def _apply_patch(objects: list[dict], directory: Path, spec: dict) -> None:
    if set(spec) - {"path", "target"}:
        raise UnsupportedKustomization(f"patch fields {sorted(spec)}")
    docs = _documents(directory / spec["path"])
    if "target" in spec:
        target = spec["target"]
        if set(target) - {"kind", "name"}:
            raise UnsupportedKustomization(f"patch target fields {sorted(target)}")
        (operations,) = docs
        for index, obj in enumerate(objects):
            if obj in _find(objects, target["kind"], target["name"]):
                objects[index] = jsonpatch.apply_patch(obj, operations)
        return
    for patch in docs:
        (obj,) = _find(objects, patch["kind"], re.escape(patch["metadata"]["name"]))
        body = {key: value for key, value in patch.items() if key not in ("apiVersion", "kind", "metadata")}
        _merge(obj, body, f"{spec['path']}: {patch['kind']}/{patch['metadata']['name']}")


def _containers(obj: dict) -> list[dict]:
    spec = obj.get("spec", {})
    pod = spec.get("jobTemplate", {}).get("spec", spec).get("template", {}).get("spec", {})
    return pod.get("initContainers", []) + pod.get("containers", [])


def _set_images(objects: list[dict], images: list[dict]) -> None:
    for image in images:
        if set(image) - {"name", "newName", "newTag"}:
            raise UnsupportedKustomization(f"image fields {sorted(image)}")
        for obj in objects:
            for container in _containers(obj):
                name, _, tag = container["image"].partition(":")
                if name == image["name"]:
                    new_tag = image.get("newTag", tag)
                    container["image"] = image.get("newName", name) + (f":{new_tag}" if new_tag else "")


def render(directory: Path) -> list[dict]:
    """Every object of the kustomization in `directory`, as Kustomize would print them (unsorted)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED_FIELDS
    if unknown:
        raise UnsupportedKustomization(f"{directory}: unsupported fields {sorted(unknown)}")
    objects: list[dict] = []
    for entry in kustomization.get("resources", []):
        path = directory / entry
        objects.extend(render(path) if path.is_dir() else _documents(path))
    for spec in kustomization.get("patches", []):
        _apply_patch(objects, directory, spec)
    _set_images(objects, kustomization.get("images", []))
    if "namespace" in kustomization:
        for obj in objects:
            obj["metadata"]["namespace"] = kustomization["namespace"]
    return objects
