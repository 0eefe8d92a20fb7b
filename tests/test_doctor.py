"""doctor's checks, each failing and passing, with a fake Hub (the e2e tests use the sandbox)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spacectl.doctor import (
    Verdict,
    check_database_ports,
    check_dockerfile,
    check_free_hardware,
    check_hardware,
    check_large_files,
    check_port,
    check_readme,
    check_secrets_env,
    check_source,
    check_token,
    check_write_access,
    dockerfile_ports,
    render_checks,
    run_checks,
)
from spacectl.errors import AuthError, TransientHubError
from spacectl.files import scan_source
from spacectl.manifest import CardSpec, Manifest, SecretSpec, SpaceSpec
from spacectl.state import Identity, ReadmeCheck


class FakeHub:
    endpoint = "https://hub.example"

    def __init__(self, whoami: dict[str, Any] | Exception, readme_errors: tuple[str, ...] = ()):
        self._whoami = whoami
        self.readme_errors = readme_errors
        self.validated: list[str] = []

    def whoami(self) -> Identity:
        if isinstance(self._whoami, Exception):
            raise self._whoami
        token = self._whoami.get("auth", {}).get("accessToken", {})
        return Identity(self._whoami["name"], (), token.get("role"), self._whoami)

    def hardware_flavors(self) -> list[str]:
        return ["cpu-basic", "cpu-upgrade", "t4-small"]

    def validate_readme(self, content: str) -> ReadmeCheck:
        self.validated.append(content)
        return ReadmeCheck(errors=self.readme_errors, warnings=())


def _whoami(role: str, **extra: Any) -> dict[str, Any]:
    token: dict[str, Any] = {"role": role}
    if "fine" in extra:
        token["fineGrained"] = {"scoped": extra.pop("fine")}
    return {"name": "alice", "orgs": extra.pop("orgs", []), "auth": {"accessToken": token}}


def _spec(tmp_path: Path | None = None, files: dict[str, str | bytes] | None = None, **kw: Any):
    source = None
    if files is not None:
        assert tmp_path is not None
        source = tmp_path / "app"
        source.mkdir(exist_ok=True)
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            (source / name).write_bytes(data)
    return SpaceSpec(id="acme/demo", source=source, **kw)


DOCKER_OK = "FROM python:3.12\nEXPOSE 7860\nCMD python app.py\n"


# --- token and write access ---------------------------------------------------------------------


def test_token_missing_or_rejected_fails_valid_passes() -> None:
    missing, identity, reachable = check_token(FakeHub(AuthError("no Hugging Face token found")))
    assert missing.verdict is Verdict.FAIL and identity is None and missing.fix and reachable
    unreachable, _, reachable = check_token(FakeHub(TransientHubError("whoami: cannot reach")))
    assert unreachable.verdict is Verdict.FAIL and not reachable
    ok, identity, reachable = check_token(FakeHub(_whoami("write")))
    assert ok.verdict is Verdict.PASS and identity is not None and "alice" in ok.message


@pytest.mark.parametrize(
    ("whoami", "owner", "verdict"),
    [
        (_whoami("write"), "alice", Verdict.PASS),
        (_whoami("read"), "alice", Verdict.FAIL),
        (_whoami("write", orgs=[{"name": "acme", "roleInOrg": "write"}]), "acme", Verdict.PASS),
        (_whoami("write", orgs=[{"name": "acme", "roleInOrg": "admin"}]), "acme", Verdict.PASS),
        (_whoami("write", orgs=[{"name": "acme", "roleInOrg": "read"}]), "acme", Verdict.FAIL),
        (
            _whoami("write", orgs=[{"name": "acme", "roleInOrg": "contributor"}]),
            "acme",
            Verdict.WARN,
        ),
        (_whoami("write"), "acme", Verdict.FAIL),  # not a member
        (
            _whoami(
                "fineGrained",
                fine=[{"entity": {"type": "org", "name": "acme"}, "permissions": ["repo.write"]}],
            ),
            "acme",
            Verdict.PASS,
        ),
        (
            _whoami(
                "fineGrained",
                fine=[
                    {
                        "entity": {"type": "org", "name": "acme"},
                        "permissions": ["repo.content.read"],
                    }
                ],
            ),
            "acme",
            Verdict.FAIL,
        ),
        (
            _whoami(
                "fineGrained",
                fine=[{"entity": {"type": "user", "name": "alice"}, "permissions": ["repo.write"]}],
            ),
            "acme",
            Verdict.FAIL,
        ),
    ],
)
def test_write_access(whoami: dict[str, Any], owner: str, verdict: Verdict) -> None:
    check = check_write_access(whoami, owner)
    assert check.verdict is verdict, check
    assert (check.fix is not None) == (verdict is not Verdict.PASS)


# --- local checks -------------------------------------------------------------------------------


def test_secrets_env_lists_every_missing_and_empty_variable() -> None:
    spec = _spec(
        secrets={
            "A": SecretSpec(from_env="A_VAR"),
            "B": SecretSpec(from_env="B_VAR"),
            "C": SecretSpec(from_env="C_VAR"),
        }
    )
    check = check_secrets_env(spec, {"C_VAR": ""})
    assert check.verdict is Verdict.FAIL
    assert "not set: A_VAR, B_VAR" in check.message and "empty: C_VAR" in check.message
    ok = check_secrets_env(spec, {"A_VAR": "1", "B_VAR": "2", "C_VAR": "3"})
    assert ok.verdict is Verdict.PASS
    assert "1" not in ok.message + (ok.fix or "")


def test_source_missing_fails_and_existing_passes(tmp_path: Path) -> None:
    missing = SpaceSpec(id="acme/demo", source=tmp_path / "nope")
    check, files = check_source(missing)
    assert check.verdict is Verdict.FAIL and files is None and "does not exist" in check.message
    check, files = check_source(_spec(tmp_path, {"app.py": "print()"}))
    assert check.verdict is Verdict.PASS and files is not None and "app.py" in files


def test_dockerfile_missing_without_from_and_ok(tmp_path: Path) -> None:
    spec = _spec(tmp_path, {"app.py": ""}, sdk="docker")
    assert check_dockerfile(spec, scan_source(tmp_path / "app")).verdict is Verdict.FAIL
    no_from = _spec(tmp_path, {"Dockerfile": "# base\nRUN echo hi\n"}, sdk="docker")
    check = check_dockerfile(no_from, scan_source(tmp_path / "app"))
    assert check.verdict is Verdict.FAIL and "FROM" in check.message
    ok = _spec(tmp_path, {"Dockerfile": "ARG V=3\nFROM python:${V}\n"}, sdk="docker")
    assert check_dockerfile(ok, scan_source(tmp_path / "app")).verdict is Verdict.PASS


@pytest.mark.parametrize(
    ("dockerfile", "ports"),
    [
        ("FROM x\nEXPOSE 7860/tcp 9000\n", {7860, 9000}),
        ("FROM x\nENV PORT=8080\n", {8080}),
        ('FROM x\nCMD ["uvicorn", "app:app", "--host", "0.0.0.0", "--port", "8000"]\n', {8000}),
        ("FROM x\nCMD streamlit run app.py --server.port=8501\n", {8501}),
        ("FROM x\nCMD gunicorn -b 0.0.0.0:5000 \\\n  app:app\n", {5000}),
        ('FROM x\nENTRYPOINT ["sh", "-c", "python app.py -p 7000"]\n', {7000}),
        ("FROM x\nCMD python app.py --port $PORT\n", set()),
    ],
)
def test_dockerfile_ports(dockerfile: str, ports: set[int]) -> None:
    assert set(dockerfile_ports(dockerfile)) == ports


def test_port_matches_app_port_or_default(tmp_path: Path) -> None:
    spec = _spec(tmp_path, {"Dockerfile": DOCKER_OK}, sdk="docker")
    files = scan_source(tmp_path / "app")
    assert check_port(spec, files, {}).verdict is Verdict.PASS
    mismatch = check_port(spec, files, {"app_port": 8000})
    assert mismatch.verdict is Verdict.FAIL and "app_port" in (mismatch.fix or "")
    unknown = _spec(tmp_path, {"Dockerfile": "FROM x\nCMD python app.py\n"}, sdk="docker")
    result = check_port(unknown, scan_source(tmp_path / "app"), {})
    assert result.verdict is Verdict.WARN


def test_readme_checks(tmp_path: Path) -> None:
    hub = FakeHub(_whoami("write"))
    no_readme = _spec(tmp_path, {"app.py": ""})
    check = check_readme(no_readme, scan_source(tmp_path / "app"), hub)
    assert check is not None and check.verdict is Verdict.WARN
    rendered = _spec(tmp_path, {"app.py": ""}, sdk="gradio", card=CardSpec(title="Demo"))
    check = check_readme(rendered, scan_source(tmp_path / "app"), hub)
    assert (
        check is not None and check.verdict is Verdict.PASS and "title: Demo" in hub.validated[-1]
    )
    bad_yaml = _spec(tmp_path, {"README.md": "---\nsdk: [docker\n---\n"})
    check = check_readme(bad_yaml, scan_source(tmp_path / "app"), hub)
    assert check is not None and check.verdict is Verdict.FAIL and "YAML" in check.message
    no_sdk = _spec(tmp_path, {"README.md": "---\ntitle: x\n---\n"})
    check = check_readme(no_sdk, scan_source(tmp_path / "app"), hub)
    assert check is not None and check.verdict is Verdict.FAIL and "sdk" in check.message
    card_only = SpaceSpec(id="acme/demo", sdk="docker", card=CardSpec(app_port=8000))
    check = check_readme(card_only, None, hub)
    assert check is not None and check.verdict is Verdict.PASS
    assert "app_port: 8000" in hub.validated[-1]  # the README spacectl would write
    rejected = FakeHub(_whoami("write"), readme_errors=('"license" must be one of [...]',))
    check = check_readme(card_only, None, rejected)
    assert check is not None and check.verdict is Verdict.FAIL and "license" in check.message
    assert check_readme(SpaceSpec(id="acme/x"), None, hub) is None  # README not managed
    offline = check_readme(card_only, None, None)
    assert offline is not None and offline.verdict is Verdict.WARN


def test_hardware_known_unknown_and_unlisted() -> None:
    flavors = ["cpu-basic", "cpu-upgrade", "t4-small"]
    assert check_hardware(_spec(hardware="t4-small"), flavors).verdict is Verdict.PASS
    typo = check_hardware(_spec(hardware="t4-smal"), flavors)
    assert typo.verdict is Verdict.FAIL and "t4-small" in (typo.fix or "")
    unlisted = check_hardware(_spec(hardware="t4-small"), TransientHubError("503"))
    assert unlisted.verdict is Verdict.WARN


def test_free_hardware_warns_and_paid_does_not() -> None:
    free = check_free_hardware(_spec(hardware="cpu-basic"))
    assert free is not None and free.verdict is Verdict.WARN and "48 h" in free.message
    default = check_free_hardware(_spec())
    assert default is not None and default.verdict is Verdict.WARN
    assert check_free_hardware(_spec(hardware="t4-small")) is None


def test_database_ports_warn_with_file_and_line(tmp_path: Path) -> None:
    spec = _spec(
        tmp_path,
        {"app.py": "import os\nDB = 'postgresql://u@db.example.com/app'\n", "cache.py": ""},
    )
    check = check_database_ports(spec, scan_source(tmp_path / "app"))
    assert check.verdict is Verdict.WARN and "app.py:2" in check.message
    port_only = _spec(tmp_path, {"app.py": "redis.Redis(host='h', port=6379)\n"})
    assert check_database_ports(port_only, scan_source(tmp_path / "app")).verdict is Verdict.WARN
    clean = _spec(tmp_path, {"app.py": "requests.get('https://api.example.com:443/x')\n"})
    assert check_database_ports(clean, scan_source(tmp_path / "app")).verdict is Verdict.PASS


def test_large_files_warn(tmp_path: Path) -> None:
    spec = _spec(tmp_path, {"app.py": "print()\n"})
    assert check_large_files(spec, scan_source(tmp_path / "app")).verdict is Verdict.PASS
    (tmp_path / "app" / "model.bin").write_bytes(b"\x00\x01" * 10)
    check = check_large_files(spec, scan_source(tmp_path / "app"))
    assert check.verdict is Verdict.WARN and "model.bin" in check.message


def test_run_checks_and_rendering(tmp_path: Path) -> None:
    spec = _spec(
        tmp_path,
        {"Dockerfile": DOCKER_OK, "app.py": ""},
        sdk="docker",
        hardware="cpu-upgrade",
        secrets={"KEY": SecretSpec(from_env="KEY_VAR")},
    )
    manifest = Manifest(owner="acme", path=tmp_path / "spaces.yaml", spaces=(spec,))
    hub = FakeHub(_whoami("write", orgs=[{"name": "acme", "roleInOrg": "write"}]))
    checks = run_checks(manifest, hub, {})
    names = [c.name for c in checks]
    assert names[:2] == ["token", "write access (acme)"]
    assert {c.name.split(" (")[0] for c in checks} >= {
        "secrets",
        "source",
        "dockerfile",
        "port",
        "readme",
        "hardware",
        "database ports",
        "large files",
    }
    text = render_checks(checks)
    assert "FAIL  secrets (acme/demo): not set: KEY_VAR\n      fix: export KEY_VAR=" in text
    assert all(line[:6] in ("PASS  ", "WARN  ", "FAIL  ", "      ") for line in text.splitlines())
