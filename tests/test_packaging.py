"""Packaging: every third-party import is a declared dependency, and the schemas ship inside
the package (an installed qualtrace validates without a checkout)."""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

import qualtrace

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# Code that runs as part of the pipeline: the package, the notebooks and the rule scripts.
RUNTIME_CODE = ["src", "analysis", "workflow/scripts"]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _normal(re.match(r"[A-Za-z0-9._-]+", requirement).group(0))


def top_level_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def third_party_imports(folders) -> dict[str, set[str]]:
    """Import name -> files importing it, for everything not stdlib and not qualtrace."""
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for name in top_level_imports(path):
                if name in sys.stdlib_module_names or name == "qualtrace" or name.startswith("_"):
                    continue
                found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def undeclared(imports: dict[str, set[str]], declared: set[str]) -> list[str]:
    distributions = packages_distributions()
    problems = []
    for name, files in sorted(imports.items()):
        dists = {_normal(d) for d in distributions.get(name, [])}
        if not dists:
            problems.append(f"{name} (imported by {sorted(files)}) is not installed")
        elif not dists & declared:
            problems.append(f"{name} (distribution {sorted(dists)}, imported by {sorted(files)}) "
                            "is not in pyproject.toml's dependencies")
    return problems


def test_every_third_party_import_is_declared():
    declared = {_requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    imports = third_party_imports(RUNTIME_CODE)
    assert {"yaml", "matplotlib", "pypandoc", "rocrate"} <= set(imports)  # the scan sees them
    assert undeclared(imports, declared) == []


def test_the_check_catches_an_undeclared_import():
    declared = {_requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert undeclared({"matplotlib": {"x.py"}}, declared - {"matplotlib"})


def test_every_declared_dependency_is_pinned_in_the_runtime_lock():
    pinned = {_normal(line.split("==")[0]) for line in
              (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
              if "==" in line and not line.startswith("#")}
    declared = {_requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert declared - pinned == set()


def test_optional_tools_are_pinned_in_the_dev_lock():
    extras = PYPROJECT["project"]["optional-dependencies"]
    pinned = {_normal(line.split("==")[0]) for name in ("requirements.lock",
                                                         "requirements-dev.lock")
              for line in (ROOT / name).read_text(encoding="utf-8").splitlines()
              if "==" in line and not line.startswith("#")}
    wanted = {_requirement_name(r) for r in extras["test"] + extras["notebooks"]} - {"qualtrace"}
    assert wanted - pinned == set()


def test_schemas_ship_as_package_data():
    package_data = PYPROJECT["tool"]["setuptools"]["package-data"]["qualtrace"]
    shipped = {path.relative_to(qualtrace.SCHEMA_DIR.parent).as_posix()
               for path in qualtrace.SCHEMA_DIR.rglob("*") if path.is_file()}
    assert shipped and {"schemas/config.schema.yaml", "schemas/refi-qda/Project.xsd"} <= shipped
    unmatched = {p for p in shipped if not any(Path(p).match(pattern) for pattern in package_data)}
    assert unmatched == set()
    assert not (ROOT / "workflow" / "schemas").exists()  # one copy


def test_snakemake_report_builds(mini_build, tmp_path):
    """`snakemake --report report.zip`, which the README says works (it needs Pygments, a
    declared runtime dependency), on a finished build."""
    import zipfile

    from workflow_helpers import snakemake

    declared = {_requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert "pygments" in declared
    target = tmp_path / "report.zip"
    snakemake(mini_build, "--report", str(target))
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
    assert any(name.endswith("report.html") for name in names), names[:20]


def test_conda_environment_installs_the_same_pins():
    import yaml

    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-r requirements.lock" in pip and "-e ." in pip
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    minimum = PYPROJECT["project"]["requires-python"].removeprefix(">=")
    assert tuple(map(int, python.split("=")[1].split("."))) >= tuple(map(int, minimum.split(".")))


# Locks installed into one environment. The interop locks get virtualenvs of their own (the
# tools they test pin versions ours cannot share, e.g. qc: xmlschema<4, taguette: SQLAlchemy<1.5),
# so each is only checked against itself.
INSTALLED_TOGETHER = {"dev": ["requirements-dev.lock"], "slurm": ["requirements-slurm.lock"],
                      "dev and slurm": ["requirements-dev.lock", "requirements-slurm.lock"],
                      "conda": ["environment.yml"],
                      "interop-qc": ["requirements-interop-qc.lock"],
                      "interop-taguette": ["requirements-interop-taguette.lock"]}


def lock_pins(name: str, seen: frozenset = frozenset()) -> list[tuple[str, str, str]]:
    """(package, version, where) for every `==` pin of a lock, following its `-r` includes."""
    if name in seen:
        return []
    pins = []
    for number, line in enumerate((ROOT / name).read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            pins += lock_pins(line[3:].strip(), seen | {name})
        elif "==" in line:
            package, version = line.split("==", 1)
            pins.append((_normal(package), version.split(";")[0].strip(), f"{name}:{number}"))
    return pins


def environment_pins() -> list[tuple[str, str, str]]:
    """Pins of environment.yml: conda `name=version` entries and its pip list (with -r)."""
    import yaml

    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pins = []
    for entry in env["dependencies"]:
        if isinstance(entry, str) and "=" in entry and not entry.startswith("python="):
            package, version = re.split(r"=+", entry, maxsplit=1)
            pins.append((_normal(package), version, f"environment.yml: {entry}"))
        elif isinstance(entry, dict):
            for item in entry.get("pip", []):
                if item.startswith("-r "):
                    pins += lock_pins(item[3:].strip())
                elif "==" in item:
                    package, version = item.split("==", 1)
                    pins.append((_normal(package), version, f"environment.yml: {item}"))
    return pins


def conflicting_pins(pins) -> dict[str, list[str]]:
    versions: dict[str, dict[str, list[str]]] = {}
    for package, version, where in pins:
        versions.setdefault(package, {}).setdefault(version, []).append(where)
    return {package: [f"{version} ({', '.join(places)})" for version, places in sorted(found.items())]
            for package, found in sorted(versions.items()) if len(found) > 1}


@pytest.mark.parametrize("environment", sorted(INSTALLED_TOGETHER))
def test_locks_installed_together_pin_each_package_once(environment):
    pins = [pin for name in INSTALLED_TOGETHER[environment]
            for pin in (environment_pins() if name == "environment.yml" else lock_pins(name))]
    runtime = {pin[:2] for pin in lock_pins("requirements.lock")}
    assert environment.startswith("interop") or runtime <= {pin[:2] for pin in pins}  # via -r
    assert conflicting_pins(pins) == {}


def test_the_pin_check_catches_two_versions():
    pins = lock_pins("requirements-slurm.lock") + [("pandas", "0.1", "other.lock:1"),
                                                  ("numpy", "0.1", "other.lock:2")]
    assert set(conflicting_pins(pins)) == {"pandas", "numpy"}
