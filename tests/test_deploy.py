"""Deploying: the GitHub Pages workflow builds with the Pages URL and publishes the output folder."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def test_github_pages_workflow_builds_and_deploys_on_push() -> None:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8"))
    assert workflow[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads the key "on" as true
    steps = workflow["jobs"]["build"]["steps"]
    runs = " ".join(step.get("run", "") for step in steps)
    assert "pip install -r requirements.txt" in runs
    assert 'python build.py build --base-url "${{ steps.pages.outputs.base_url }}/" --output _site' in runs
    upload = next(step for step in steps if step.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_site"
    assert any(step.get("uses", "").startswith("actions/deploy-pages") for step in workflow["jobs"]["deploy"]["steps"])


def test_github_pages_workflow_keeps_the_build_cache_keyed_on_the_generator() -> None:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["build"]["steps"]
    names = [step.get("uses", "") or step.get("run", "") for step in steps]
    cache = next(step for step in steps if step.get("uses", "").startswith("actions/cache"))
    build = next(step for step in steps if "build.py build" in step.get("run", ""))
    assert names.index(cache["uses"]) < names.index(build["run"])  # restored before the build
    assert cache["with"]["path"] == ".digest-cache"
    generator = "${{ hashFiles('digest/**/*.py', 'requirements.txt') }}"
    assert cache["with"]["key"] == f"digest-cache-{generator}-${{{{ github.sha }}}}"
    assert cache["with"]["restore-keys"].splitlines() == [f"digest-cache-{generator}-", "digest-cache-"]
