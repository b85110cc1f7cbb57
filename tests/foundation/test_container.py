"""The Dockerfile, checked without docker.

The static tests read the Dockerfile itself. The build test does what its build
stage does, from exactly the files it copies (minus what .dockerignore drops):
build the wheel, install it into a fresh virtual environment and run the console
script from there, outside the source tree. The runtime dependencies come from
the test environment through a path file instead of the package registry, so the
test takes seconds and needs no network beyond the build backend.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import REPO
from worker.settings import Settings

DOCKERFILE = REPO / "Dockerfile"


@dataclass
class Stage:
    """One FROM ... stage: its base image and its instructions in order."""

    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def stages() -> list[Stage]:
    """The Dockerfile's stages, with continuation lines joined and comments dropped."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    found: list[Stage] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), " ".join(args.split())
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else ""
            found.append(Stage(words[0], name))
        else:
            found[-1].instructions.append((keyword, args))
    return found


def exec_form(args: str) -> list[str]:
    """The JSON array of an exec-form instruction (ENTRYPOINT, CMD, HEALTHCHECK ... CMD)."""
    parsed = json.loads(args)
    assert isinstance(parsed, list), f"not in exec form: {args}"
    return [str(word) for word in parsed]


def environment(stage: Stage) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for args in stage.all("ENV"):
        for word in shlex.split(args):
            name, _, value = word.partition("=")
            pairs[name] = value
    return pairs


def test_build_and_runtime_are_separate_slim_stages() -> None:
    """Multi-stage on a slim Python base whose version the package accepts."""
    build, runtime = stages()[0], stages()[-1]
    assert len(stages()) >= 2
    assert runtime.base.startswith("python:")
    assert runtime.base.endswith("-slim")
    assert build.base.endswith("-slim")
    version = tuple(int(part) for part in runtime.base.split(":")[1].split("-")[0].split("."))
    required = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert required == ">=3.11"
    assert version >= (3, 11)
    # The final image gets the built wheels only, never the build stage's tools or source.
    copies = runtime.all("COPY")
    assert copies
    assert all(args.startswith(f"--from={build.name}") for args in copies)


def test_runs_as_a_non_root_user_with_the_worker_as_entrypoint() -> None:
    """The last USER is unprivileged; the container's command is `recovery-worker run`."""
    runtime = stages()[-1]
    user = runtime.all("USER")[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert any(user in args and "useradd" in args for args in runtime.all("RUN"))
    assert exec_form(runtime.all("ENTRYPOINT")[-1]) == ["recovery-worker", "run"]
    assert not runtime.all("CMD"), "arguments belong to the operator, not the image"


def test_healthcheck_asks_healthz_on_the_configured_port() -> None:
    """HEALTHCHECK hits /healthz on the port the worker serves, read from the same setting."""
    runtime = stages()[-1]
    (healthcheck,) = runtime.all("HEALTHCHECK")
    options, _, command = healthcheck.partition(" CMD ")
    assert "--interval=" in options
    probe = " ".join(exec_form(command))
    assert "/healthz" in probe
    env = environment(runtime)
    assert "RECOVERY_WORKER_HEALTH__PORT" in probe
    assert env["RECOVERY_WORKER_HEALTH__PORT"] in runtime.all("EXPOSE")
    # The probe comes from inside the container; a worker bound to 127.0.0.1 would still pass
    # it but be unreachable from outside, so the image binds every interface.
    assert env["RECOVERY_WORKER_HEALTH__HOST"] == "0.0.0.0"


def test_no_secret_is_baked_in() -> None:
    """No ENV or ARG names a secret; configuration comes from the environment at run time."""
    suspicious = ("PASSWORD", "TOKEN", "SECRET", "PAT", "KEY", "CREDENTIAL")
    for stage in stages():
        names = list(environment(stage))
        names += [args.split("=")[0] for args in stage.all("ARG")]
        for name in names:
            parts = name.upper().replace("__", "_").split("_")
            assert not any(word in parts for word in suspicious), name
    assert ".env" in (REPO / ".dockerignore").read_text().split()


def test_environment_of_the_image_sets_real_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each RECOVERY_WORKER_ variable the image sets reaches the setting it names."""
    env = {k: v for k, v in environment(stages()[-1]).items() if k.startswith("RECOVERY_WORKER_")}
    assert env
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    for name, value in env.items():
        node: object = settings
        for part in name.removeprefix("RECOVERY_WORKER_").lower().split("__"):
            node = getattr(node, part)
        assert str(getattr(node, "value", node)) == value, name


def ignored(relative: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps this path (relative to the context) out of the build."""
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatch(part, pattern[3:]) for part in relative.split("/")):
                return True
        elif fnmatch.fnmatch(relative, pattern) or relative.startswith(pattern + "/"):
            return True
    return False


def build_context(target: Path) -> Path:
    """Copy what the build stage's COPY lines copy into ``target``; the stage's WORKDIR."""
    build = stages()[0]
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copies = [args.split() for args in build.all("COPY")]
    assert copies
    for *sources, destination in copies:
        assert not any(s.startswith("--") for s in sources), "the build stage copies from context"
        into = target / destination.removeprefix(build.all("WORKDIR")[-1]).lstrip("/")
        for source in sources:
            origin = REPO / source
            if origin.is_dir():
                for path in origin.rglob("*"):
                    relative = path.relative_to(REPO).as_posix()
                    if path.is_file() and not ignored(relative, patterns):
                        copy = into / path.relative_to(origin)
                        copy.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(path, copy)
            else:
                into.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, into / origin.name if destination.endswith("/") else into)
    return target


@pytest.mark.slow
def test_the_wheel_built_from_the_copied_files_installs_and_runs(tmp_path: Path) -> None:
    """The build stage's wheel holds every package file and its console script runs outside."""
    context = build_context(tmp_path / "src")
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", wheels,
         context],
        check=True,
        timeout=300,
    )  # fmt: skip
    (wheel,) = wheels.glob("recovery_worker-*.whl")

    # Every file of the package, data included (defaults, demo mails, py.typed), is in the wheel.
    packaged = {n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("worker/")}
    source = {
        p.relative_to(context).as_posix()
        for p in (context / "worker").rglob("*")
        if p.is_file() and not p.name.endswith(".pyc")
    }
    assert source - packaged == set()
    assert any(n.startswith("worker/defaults/") and n.endswith(".toml") for n in packaged)
    assert any(n.startswith("worker/demo/mails/") and n.endswith(".eml") for n in packaged)

    fresh = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(fresh)
    python = fresh / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
         "--no-index", wheel],
        check=True,
        timeout=120,
    )  # fmt: skip
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # The dependencies, not the package: the editable install's finder is not activated by a
    # plain path line, so `worker` can only come from the wheel.
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        "PATH": f"{fresh / 'bin'}:/usr/bin:/bin",
        "HOME": str(elsewhere),
        "TMPDIR": str(elsewhere),
        "RECOVERY_WORKER_STORE__URL": f"sqlite:///{elsewhere / 'state.db'}",
        "RECOVERY_WORKER_LOG__FORMAT": "json",
    }

    def run(*argv: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120, check=False
        )

    where = run(python, "-c", "import worker; print(worker.__file__)")
    assert where.stdout.startswith(str(site)), where.stdout + where.stderr

    script = fresh / "bin" / "recovery-worker"
    helped = run(script, "--help")
    assert helped.returncode == 0, helped.stderr
    assert "complaint" in helped.stdout

    once = run(script, "run", "--once")
    assert once.returncode == 0, once.stderr
    events = [json.loads(line)["event"] for line in once.stdout.splitlines() if line]
    assert "worker.once.finished" in events
    assert (elsewhere / "state.db").is_file()

    # The demo reads the packaged defaults and demo mails: proof they are found when installed.
    demo = run(script, "demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "SUP-1" in demo.stdout

    broken = run(sys.executable, "-m", "pip", "--python", python, "check")
    assert broken.returncode == 0, broken.stdout


def test_no_build_line_needs_a_registry_beyond_the_base_image() -> None:
    """No parser directive: `# syntax=` would pull a BuildKit frontend image from a registry."""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        assert not re.match(r"#\s*syntax\s*=", line, re.IGNORECASE), line
    for stage in stages():
        bases = {s.name for s in stages()} | {stage.base}
        assert all(
            args.split("=", 1)[1].split()[0] in bases
            for args in stage.all("COPY")
            if args.startswith("--from=")
        )


def constraints() -> dict[str, str]:
    """constraints.txt as normalised package name -> pinned version."""
    pins: dict[str, str] = {}
    for raw in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, version = line.partition("==")
        assert version, f"not pinned to one version: {line}"
        pins[canonicalize_name(name)] = version
    return pins


def test_the_image_and_ci_install_the_pinned_versions() -> None:
    """The build stage and .ci/setup-venv both install with constraints.txt; the runtime stage
    installs the built wheels alone, so the image cannot pick other versions."""
    build, runtime = stages()[0], stages()[-1]
    assert any("constraints.txt" in args.split() for args in build.all("COPY"))
    assert any(
        "-c constraints.txt" in args and args.startswith("pip ") for args in build.all("RUN")
    )
    installs = [args for args in runtime.all("RUN") if "pip install" in args]
    assert installs
    assert all("--no-index" in args for args in installs)
    setup = (REPO / ".ci" / "setup-venv").read_text(encoding="utf-8")
    assert "pip install --quiet -c constraints.txt -e '.[dev]'" in setup


def test_constraints_pin_every_dependency_within_what_the_project_accepts() -> None:
    """Each runtime and dev dependency, and all they need in turn, is pinned to a version the
    project's own requirements allow; the project itself is not pinned."""
    pins = constraints()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert canonicalize_name(project["name"]) not in pins
    wanted = [Requirement(r) for r in project["dependencies"]]
    wanted += [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    seen: set[str] = set()
    while wanted:
        requirement = wanted.pop()
        name = canonicalize_name(requirement.name)
        if name in seen or (requirement.marker and not requirement.marker.evaluate()):
            continue
        seen.add(name)
        assert name in pins, f"{requirement.name} is not in constraints.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), requirement
        try:
            needs = metadata.requires(requirement.name) or []
        except metadata.PackageNotFoundError:
            continue  # not installed here: its own needs cannot be read
        for text in needs:
            need = Requirement(text)
            extras = requirement.extras or {""}
            if need.marker is None or any(need.marker.evaluate({"extra": e}) for e in extras):
                wanted.append(Requirement(str(need).split(";")[0]))


def test_ignored_follows_dockerignore_rules() -> None:
    """`**/x` matches at any depth; a plain pattern only from the context's root."""
    patterns = ["**/__pycache__", "tests", "*.db"]
    assert ignored("worker/core/__pycache__/a.pyc", patterns)
    assert ignored("tests/foundation/test_cli.py", patterns)
    assert ignored("state.db", patterns)
    assert not ignored("worker/tests.py", patterns)
    assert not ignored("worker/core/state.db.py", patterns)
