"""``lexitui license``: an operator's keygen and issue, a user's install and status, round trip.

Run in-process through ``lexitui.cli.main``: the authority's folder is moved for the test only,
as nothing outside the process may move it.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from lexitui.cli import main
from lexitui.config import Paths
from lexitui.editions import authority
from lexitui.editions.service import license_path


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_status_on_a_fresh_install_says_unmanaged_and_why(
    capsys: pytest.CaptureFixture[str], site_dir: Path
) -> None:
    code, out, _ = cli(capsys, "license", "status")
    assert code == 0
    assert "unmanaged" in out and "no license authority is installed" in out
    code, out, _ = cli(capsys, "license", "status", "--json")
    report = json.loads(out)
    assert (report["tier"], report["managed"]) == ("unmanaged", False)


def install_authority(out: str, site_dir: Path) -> None:
    """What the operator does with keygen's output: the public key, as root, 0644."""
    pem = out[out.index("-----BEGIN PUBLIC KEY-----") :]
    pub = site_dir / authority.AUTHORITY_FILE
    pub.write_text(pem)
    pub.chmod(0o644)


def test_keygen_issue_install_status_round_trip(
    capsys: pytest.CaptureFixture[str], site_dir: Path, tmp_path: Path, paths: Paths
) -> None:
    keys = tmp_path / "operator"
    code, out, _ = cli(capsys, "license", "keygen", str(keys))
    assert code == 0
    private = keys / "authority.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert str(authority.authority_path()) in out
    install_authority(out, site_dir)

    code, out, _ = cli(capsys, "license", "status")
    assert "Core" in out and "no license is installed" in out

    lic = tmp_path / "ann.json"
    args = ["--key", str(private), "--tier", "writerpro", "--to", "ann", "--machine"]
    code, out, _ = cli(capsys, "license", "issue", *args, "--out", str(lic))
    assert code == 0
    code, out, _ = cli(capsys, "license", "install", str(lic))
    assert code == 0 and "WriterPro for ann" in out
    assert stat.S_IMODE(license_path(paths).stat().st_mode) == 0o600

    code, out, _ = cli(capsys, "license", "status", "--json")
    report = json.loads(out)
    assert (report["tier"], report["licensee"], report["managed"]) == ("WriterPro", "ann", True)
    assert report["limits"]["searches_per_day"] == 10


def test_install_refuses_a_forgery_and_keeps_the_license_in_place(
    capsys: pytest.CaptureFixture[str], site_dir: Path, tmp_path: Path, paths: Paths
) -> None:
    code, out, _ = cli(capsys, "license", "keygen", str(tmp_path / "op"))
    install_authority(out, site_dir)
    key = str(tmp_path / "op" / "authority.key")
    good = tmp_path / "good.json"
    cli(
        capsys,
        "license",
        "issue",
        "--key",
        key,
        "--tier",
        "teams",
        "--to",
        "ann",
        "--out",
        str(good),
    )
    assert cli(capsys, "license", "install", str(good))[0] == 0

    other = tmp_path / "other"
    cli(capsys, "license", "keygen", str(other))
    forged = tmp_path / "forged.json"
    args = ["--key", str(other / "authority.key"), "--tier", "enterprise", "--to", "ann"]
    cli(capsys, "license", "issue", *args, "--out", str(forged))
    code, out, err = cli(capsys, "license", "install", str(forged))
    assert code == 1
    assert err.startswith("lexitui: signed by an unknown key") and "Traceback" not in err
    assert license_path(paths).read_text() == good.read_text()


def test_install_on_an_unmanaged_machine_says_there_is_no_authority(
    capsys: pytest.CaptureFixture[str], site_dir: Path, tmp_path: Path
) -> None:
    cli(capsys, "license", "keygen", str(tmp_path / "op"))
    lic = tmp_path / "l.json"
    key = str(tmp_path / "op" / "authority.key")
    cli(capsys, "license", "issue", "--key", key, "--tier", "teams", "--to", "x", "--out", str(lic))
    code, _, err = cli(capsys, "license", "install", str(lic))
    assert code == 1 and "no license authority is installed" in err


def test_keygen_never_overwrites_a_key(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli(capsys, "license", "keygen", str(tmp_path))[0] == 0
    before = (tmp_path / "authority.key").read_bytes()
    code, _, err = cli(capsys, "license", "keygen", str(tmp_path))
    assert code == 1 and "already exists" in err
    assert (tmp_path / "authority.key").read_bytes() == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--limit", "speed=3"], "expected NAME=N"),
        (["--limit", "searches_per_day=lots"], "whole number"),
        (["--grace-days", "-1"], "cannot be negative"),
    ],
)
def test_issue_rejects_bad_input_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, extra: list[str], message: str
) -> None:
    cli(capsys, "license", "keygen", str(tmp_path))
    key = str(tmp_path / "authority.key")
    code, _, err = cli(
        capsys, "license", "issue", "--key", key, "--tier", "teams", "--to", "x", *extra
    )
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1


def test_status_shows_core_and_why_when_the_authority_is_unsafe(
    capsys: pytest.CaptureFixture[str], site_dir: Path, tmp_path: Path
) -> None:
    _, out, _ = cli(capsys, "license", "keygen", str(tmp_path / "op"))
    install_authority(out, site_dir)
    (site_dir / authority.AUTHORITY_FILE).chmod(0o666)
    _, out, _ = cli(capsys, "license", "status", "--json")
    report = json.loads(out)
    assert (report["tier"], report["managed"]) == ("Core", True)
    assert "writable by others" in report["reason"]
