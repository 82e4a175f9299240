"""The local JVM's class archive: built whole or not at all, used only when whole."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from glue_jobs import class_archive as ca


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv(ca.DUMP_ENV, raising=False)
    monkeypatch.delenv(ca.SWITCH_ENV, raising=False)
    for variable in ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "SPARK_SUBMIT_OPTS"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path / "energy-lake" / "jvm"


def _fake_builder(monkeypatch, payload: bytes | None, returncode: int = 0) -> list[dict]:
    """subprocess.run replaced by a child that 'dumps' `payload` where the JVM would."""
    calls: list[dict] = []

    def run(command, env, **_kwargs):
        calls.append(env)
        if payload is not None:
            Path(env[ca.DUMP_ENV]).write_bytes(payload)
        return subprocess.CompletedProcess(command, returncode, "", "the child's last words")

    monkeypatch.setattr(ca.subprocess, "run", run)
    return calls


def test_a_built_archive_is_used_by_the_next_jvm(cache, monkeypatch):
    calls = _fake_builder(monkeypatch, b"\x00" * 4096)
    archive = ca.build("/x/fast-local-fs.jar")
    assert archive is not None and archive.parent == cache and archive.stat().st_size == 4096
    assert calls[0][ca.DUMP_ENV] != str(archive)  # dumped elsewhere, moved in when whole
    assert list(cache.glob("*.tmp")) == []
    assert ca.java_options("/x/fast-local-fs.jar") == [f"-XX:SharedArchiveFile={archive}"]
    assert ca.build("/x/fast-local-fs.jar") == archive and len(calls) == 1  # not rebuilt


def test_a_truncated_archive_is_never_mapped(cache, monkeypatch):
    """A JVM maps a truncated archive and dies of SIGBUS: the recorded size guards it."""
    _fake_builder(monkeypatch, b"\x00" * 4096)
    archive = ca.build(None)
    assert archive is not None
    archive.write_bytes(b"\x00" * 1000)
    assert not ca.usable(archive)
    assert ca.java_options(None) == []


def test_a_failed_build_leaves_nothing_behind(cache, monkeypatch, capsys):
    _fake_builder(monkeypatch, b"\x00" * 100, returncode=1)
    assert ca.build(None) is None
    assert list(cache.iterdir()) == []
    assert "the child's last words" in capsys.readouterr().err
    assert ca.java_options(None) == []


def test_the_archive_follows_the_class_path_and_the_pyspark_install(cache, monkeypatch):
    import pyspark

    java = ca.java_binary()
    assert java is not None
    first = ca.archive_path(java, "/a.jar")
    assert ca.archive_path(java, "/b.jar") != first
    monkeypatch.setattr(pyspark, "__version__", "9.9.9")
    second = ca.archive_path(java, "/a.jar")
    assert second != first
    # Another clone's virtualenv: other jar paths, which the JVM checks against the archive's.
    monkeypatch.setattr(pyspark, "__file__", "/elsewhere/.venv/site-packages/pyspark/__init__.py")
    assert ca.archive_path(java, "/a.jar") != second


def test_switched_off_and_builder_options(cache, monkeypatch):
    _fake_builder(monkeypatch, b"\x00" * 64)
    assert ca.build(None) is not None
    monkeypatch.setenv(ca.SWITCH_ENV, "off")
    assert ca.java_options(None) == [] and ca.archive_in_use(None) is None
    assert ca.build(None) is None  # neither used nor built
    monkeypatch.setenv(ca.DUMP_ENV, "/tmp/x.jsa")
    assert ca.java_options(None)[0] == "-XX:ArchiveClassesAtExit=/tmp/x.jsa"


@pytest.mark.parametrize(
    ("variable", "options"),
    [
        ("JAVA_TOOL_OPTIONS", "-javaagent:/opt/agent.jar"),
        ("PYSPARK_SUBMIT_ARGS", "--driver-java-options -agentpath:/x.so pyspark-shell"),
        (None, "-XX:StartFlightRecording=filename=run.jfr"),
    ],
)
def test_no_archive_under_an_agent_or_a_flight_recording(cache, monkeypatch, variable, options):
    """JDK 17 crashes loading an archived class while an agent or JFR transforms classes."""
    _fake_builder(monkeypatch, b"\x00" * 64)
    assert ca.build(None) is not None and ca.java_options(None, "-XX:+UseParallelGC")
    if variable:
        monkeypatch.setenv(variable, options)
        assert ca.java_options(None, "-XX:+UseParallelGC") == []
    else:
        assert ca.java_options(None, f"-XX:+UseParallelGC {options}") == []


def test_this_session_jvm_maps_the_archive(spark):
    """`make test` builds the archive first; the tests' own JVM then maps it (not rejected)."""
    from glue_jobs.local_fs import fast_local_fs_jar

    java = ca.java_binary()
    archive = ca.archive_path(java, fast_local_fs_jar()) if java else None
    if archive is None or not ca.usable(archive):
        pytest.skip("no JVM class archive on this machine (make jvm-archive builds it)")
    pid = spark._jvm.java.lang.ProcessHandle.current().pid()
    assert str(archive) in Path(f"/proc/{pid}/maps").read_text()
