"""flask backup create / list / verify / restore / cleanup, on SQLite and PostgreSQL."""
from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Member, PointLot, PointTransaction
from app.services import backups, ledger_check
from app.services import ledger as ledger_service


@pytest.fixture
def backup_dir(app, tmp_path) -> Path:
    path = tmp_path / "backups"
    app.config["BACKUP_DIR"] = str(path)
    return path


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def run(*args: str, input: str | None = None):
        result = runner.invoke(args=list(args), input=input, catch_exceptions=False)
        return result
    return run


def state() -> dict[str, list[tuple]]:
    """The ledger, lots and balances, exactly."""
    tables = {"transactions": PointTransaction.__table__, "lots": PointLot.__table__,
              "members": Member.__table__, "audit": AuditLog.__table__}
    result = {name: [tuple(r) for r in db.session.execute(
        select(table).order_by(table.c.id)).all()] for name, table in tables.items()}
    db.session.commit()
    return result


@pytest.fixture
def ledger(tenant, make_member, actor):
    make_member(tenant, "alice", email="alice@example.com", phone="+86 138 0013 8000")
    make_member(tenant, "bob")
    ledger_service.earn(tenant.id, actor, user_id="alice", points_amount=500, category="login")
    ledger_service.earn(tenant.id, actor, user_id="bob", points_amount=70, category="referral")
    ledger_service.spend(tenant.id, actor, user_id="alice", points_amount=120, category="payment")
    tx = ledger_service.earn(tenant.id, actor, user_id="bob", points_amount=30, category="community")
    ledger_service.reverse(tenant.id, actor, tx.transaction.id, reason="duplicate")
    return tenant


def change_everything(tenant, make_member, actor) -> None:
    ledger_service.earn(tenant.id, actor, user_id="alice", points_amount=999, category="license")
    ledger_service.spend(tenant.id, actor, user_id="bob", points_amount=70, category="payment")
    make_member(tenant, "carol")
    ledger_service.earn(tenant.id, actor, user_id="carol", points_amount=5, category="login")


def only_backup(backup_dir: Path) -> Path:
    files = [p for p in backup_dir.glob("jifen-*") if not p.name.endswith(".manifest.json")]
    assert len(files) == 1, files
    return files[0]


@pytest.mark.parametrize("compress", [True, False])
def test_backup_change_restore_gives_back_exactly_the_ledger(
        app, cli, backup_dir, ledger, make_member, actor, compress, db_backend):
    before = state()
    result = cli("backup", "create", *([] if compress else ["--no-compress"]))
    assert result.exit_code == 0, result.output
    path = only_backup(backup_dir)
    assert path.name.endswith(".gz") == compress
    if compress:
        with gzip.open(path) as handle:
            handle.read(16)  # really gzip

    change_everything(ledger, make_member, actor)
    assert state() != before

    result = cli("backup", "restore", str(path), "--yes")
    assert result.exit_code == 0, result.output
    assert state() == before
    assert ledger_check.verify() == []
    # The restored database takes new writes (sequences came back too).
    outcome = ledger_service.earn(ledger.id, actor, user_id="bob", points_amount=1, category="login")
    assert outcome.transaction.id == max(r[0] for r in before["transactions"]) + 1


def test_the_manifest_describes_the_backup(app, cli, backup_dir, ledger, db_backend):
    cli("backup", "create")
    path = only_backup(backup_dir)
    manifest = json.loads((path.parent / (path.name + ".manifest.json")).read_text())
    assert manifest["database_kind"] == db_backend
    assert manifest["migration_revision"] == backups.code_revision()
    assert manifest["row_counts"]["point_transactions"] == 5
    assert manifest["row_counts"]["members"] == 2
    assert manifest["compressed"] is True
    assert manifest["size"] == path.stat().st_size
    assert manifest["sha256"] == backups.sha256_of(path)
    assert cli("backup", "verify", path.name).exit_code == 0


@pytest.fixture
def backed_up_then_changed(app, cli, backup_dir, ledger, make_member, actor):
    assert cli("backup", "create").exit_code == 0
    path = only_backup(backup_dir)
    change_everything(ledger, make_member, actor)
    return path, state()


def corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def wrong_revision(path: Path) -> None:
    manifest = path.parent / (path.name + ".manifest.json")
    data = json.loads(manifest.read_text())
    data["migration_revision"] = "0000_not_this_code"
    manifest.write_text(json.dumps(data))


def no_manifest(path: Path) -> None:
    (path.parent / (path.name + ".manifest.json")).unlink()


@pytest.mark.parametrize("damage, message", [
    (corrupt, "checksum mismatch"),
    (truncate, "truncated"),
    (wrong_revision, "migration revision"),
    (no_manifest, "no manifest"),
])
def test_it_refuses_a_bad_backup_and_leaves_the_database_untouched(
        app, cli, backed_up_then_changed, damage, message):
    path, current = backed_up_then_changed
    damage(path)
    result = cli("backup", "restore", str(path), "--yes")
    assert result.exit_code != 0
    assert message in result.output
    assert state() == current


def test_it_refuses_a_gzip_that_does_not_decompress_even_with_a_matching_checksum(
        app, backup_dir, ledger):
    path, manifest = backups.create()
    truncate(path)  # and forge a manifest that matches the damaged file
    manifest_file = path.parent / (path.name + ".manifest.json")
    data = json.loads(manifest_file.read_text())
    data.update(size=path.stat().st_size, sha256=backups.sha256_of(path))
    manifest_file.write_text(json.dumps(data))
    before = state()
    with pytest.raises(backups.BackupError, match="gzip"):
        backups.restore(path)
    assert state() == before


def test_it_asks_before_restoring(app, cli, backed_up_then_changed):
    path, current = backed_up_then_changed
    result = cli("backup", "restore", path.name, input="n\n")
    assert result.exit_code != 0
    assert "Replace all data" in result.output
    assert state() == current
    result = cli("backup", "restore", path.name, input="y\n")
    assert result.exit_code == 0, result.output
    assert state() != current


def test_it_shows_progress_when_asked(app, cli, backup_dir, ledger):
    result = cli("backup", "create", "--progress")
    assert result.exit_code == 0, result.output
    assert "compressing:" in result.output


def test_it_lists_and_cleans_up_old_backups(app, cli, backup_dir, ledger):
    old, _ = backups.create()
    middle, _ = backups.create(compress=False)
    newest, _ = backups.create()
    for path, age in ((old, 40), (middle, 31)):
        manifest_file = path.parent / (path.name + ".manifest.json")
        data = json.loads(manifest_file.read_text())
        data["created_at"] = (datetime.now(UTC) - timedelta(days=age)).isoformat()
        manifest_file.write_text(json.dumps(data))
    listing = cli("backup", "list").output
    assert all(p.name in listing for p in (old, middle, newest))

    result = cli("backup", "cleanup", "--days", "30")
    assert result.exit_code == 0
    assert not old.exists() and not middle.exists() and newest.exists()
    assert not (old.parent / (old.name + ".manifest.json")).exists()
    # The newest backup stays, however old.
    assert backups.cleanup(0, now=datetime.now(UTC) + timedelta(days=365)) == []
    assert newest.exists()


def forge_manifest(path: Path) -> None:
    """Make the manifest match the file as it is now, as an attacker (or a bad copy
    with its manifest regenerated) would."""
    manifest_file = path.parent / (path.name + ".manifest.json")
    data = json.loads(manifest_file.read_text())
    data.update(size=path.stat().st_size, sha256=backups.sha256_of(path))
    manifest_file.write_text(json.dumps(data))


def scramble_sqlite(raw: bytes) -> bytes:
    """Overwrite the pages after the first: still an SQLite header, no database."""
    data = bytearray(raw)
    for i in range(4096, len(data)):
        data[i] = (i * 7919) & 0xFF
    return bytes(data)


@pytest.mark.parametrize("compress", [True, False])
def test_a_corrupt_sqlite_backup_with_a_matching_manifest_is_a_one_line_error(
        app, cli, backed_up_then_changed, db_backend, compress):
    if db_backend != "sqlite":
        pytest.skip("an SQLite file backup")
    path, current = backed_up_then_changed
    raw = gzip.decompress(path.read_bytes())
    if compress:
        path.write_bytes(gzip.compress(scramble_sqlite(raw)))
    else:
        target = path.with_name(path.name.removesuffix(".gz"))
        path.with_name(path.name + ".manifest.json").rename(
            target.with_name(target.name + ".manifest.json"))
        path.unlink()
        target.write_bytes(scramble_sqlite(raw))
        manifest_file = target.with_name(target.name + ".manifest.json")
        data = json.loads(manifest_file.read_text())
        data.update(file=target.name, compressed=False)
        manifest_file.write_text(json.dumps(data))
        path = target
    forge_manifest(path)

    result = cli("backup", "restore", str(path), "--yes")
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and result.output.rstrip().endswith(errors[0]), result.output
    assert "corrupt" in errors[0] or "integrity" in errors[0]
    assert state() == current
    assert ledger_check.verify() == []
