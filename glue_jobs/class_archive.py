"""A class-data-sharing archive of the classes a local Spark JVM loads (JDK dynamic CDS).

Every local job starts a JVM that loads and verifies some 13,000 classes from Spark's jars
before and while it runs its first dataset. With this archive they are mapped from one file
instead: each job starts ~3 s sooner (a 50k-row lake, both jobs as their own processes,
interleaved: 24.3/23.9 s against 27.4/28.5 s for raw_to_processed, 20.4/22.0 s against
25.0/23.9 s for processed_to_curated). Glue's JVMs are not ours to start: local runs only.

`python -m glue_jobs.class_archive` builds it (`make demo`, `test` and `bench` do; a no-op when it
is there): a child process runs the pipeline on a tiny generated lake in a JVM started with
`-XX:ArchiveClassesAtExit`, and once that JVM has exited cleanly the archive is moved into
~/.cache/energy-lake/jvm. Without it, or with ENERGY_LAKE_CLASS_ARCHIVE=off, jobs run as before.

A JVM maps the archive as it finds it, and a truncated one crashes it (SIGBUS), so it is
used only when its size is the one recorded when it was built. The file name carries a key of
the java binary, the pyspark install and the class path, so a JDK or pyspark upgrade, or another
clone's virtualenv, builds a new one (about 150 MB each; delete ~/.cache/energy-lake/jvm to
reclaim them); a JVM that finds the archive does not fit ignores it, with a warning.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DUMP_ENV = "ENERGY_LAKE_CLASS_ARCHIVE_DUMP"  # set for the builder's child: dump, do not use
SWITCH_ENV = "ENERGY_LAKE_CLASS_ARCHIVE"  # "off": start the JVM without the archive
RECIPE = "1"  # bump when the workload below changes
STALE_SECONDS = 3600  # a half-written archive older than this is from a builder that died


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "energy-lake" / "jvm"


def java_binary() -> Path | None:
    """The java that spark-submit starts: $JAVA_HOME/bin/java, else the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    found = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    return Path(found).resolve() if found and Path(found).exists() else None


def archive_path(java: Path, class_path: str | None) -> Path:
    """Where the archive of this java, this pyspark install and this extra class path lives.

    The JVM checks the class path it was dumped with: Spark's jars are in the virtualenv, so
    each clone's venv gets its own archive (one shared between two clones would be refused).
    """
    import pyspark

    stat = java.stat()
    jars = str(Path(pyspark.__file__).resolve().parent)
    key = "\0".join(
        (RECIPE, str(java), str(stat.st_size), str(stat.st_mtime_ns), pyspark.__version__, jars)
        + ((class_path,) if class_path else ())
    )
    return _cache_root() / f"spark-classes-{hashlib.sha256(key.encode()).hexdigest()[:16]}.jsa"


def _record(archive: Path) -> Path:
    return archive.with_suffix(".json")


def usable(archive: Path) -> bool:
    """The archive exists and has the size recorded when it was built (not truncated)."""
    try:
        recorded = json.loads(_record(archive).read_text())["size"]
        return archive.stat().st_size == recorded
    except (OSError, ValueError, KeyError, TypeError):
        return False


# Where a JVM finds options we did not give it. An agent or a flight recording transforms classes
# as they load, and JDK 17 then crashes on a class from a dynamic archive (SIGSEGV in
# KlassFactory::check_shared_class_file_load_hook, met with -XX:StartFlightRecording).
_OPTION_ENVS = ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "SPARK_SUBMIT_OPTS", "PYSPARK_SUBMIT_ARGS")
_TRANSFORMERS = ("-javaagent", "-agentlib", "-agentpath", "FlightRecord")


def _transforming_classes(extra_options: str) -> bool:
    given = " ".join([extra_options, *(os.environ.get(name, "") for name in _OPTION_ENVS)])
    return any(flag in given for flag in _TRANSFORMERS)


def _switched_off() -> bool:
    return os.environ.get(SWITCH_ENV) == "off"


def archive_in_use(class_path: str | None, extra_options: str = "") -> Path | None:
    """The archive a local Spark driver starts with, or None: none built, switched off, or an
    agent or a flight recording among `extra_options` (the driver's other options) or in the
    JVM's option variables."""
    java = java_binary()
    if java is None or _switched_off() or _transforming_classes(extra_options):
        return None
    archive = archive_path(java, class_path)
    return archive if usable(archive) else None


def java_options(class_path: str | None, extra_options: str = "") -> list[str]:
    """The JVM options for a local Spark driver: dump (in the builder) or use the archive."""
    dump = os.environ.get(DUMP_ENV)
    if dump:
        return [f"-XX:ArchiveClassesAtExit={dump}", "-Xlog:cds=off", "-Xlog:cds+dynamic=off"]
    archive = archive_in_use(class_path, extra_options)
    return [] if archive is None else [f"-XX:SharedArchiveFile={archive}"]


def _remove_stale(folder: Path) -> None:
    cutoff = time.time() - STALE_SECONDS
    for leftover in folder.glob("spark-classes-*.tmp"):
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except OSError:
            pass  # another builder's, or already gone


def build(class_path: str | None) -> Path | None:
    """Build the archive unless a usable one exists or it is switched off; its path, or None."""
    if _switched_off():
        return None
    java = java_binary()
    if java is None:
        print("energy-lake: no java found; no JVM class archive", file=sys.stderr)
        return None
    archive = archive_path(java, class_path)
    if usable(archive):
        return archive
    archive.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(archive.parent)
    partial = archive.with_name(f"{archive.stem}.{os.getpid()}.tmp")
    print(f"energy-lake: building the JVM class archive {archive} (once, ~1 min)", file=sys.stderr)
    child = subprocess.run(
        [sys.executable, "-m", "glue_jobs.class_archive", "--workload"],
        env={**os.environ, DUMP_ENV: str(partial)},
        capture_output=True,
        text=True,
    )
    if child.returncode != 0 or not partial.exists():
        partial.unlink(missing_ok=True)
        tail = "\n".join(child.stderr.strip().splitlines()[-5:])
        print(f"energy-lake: the JVM class archive was not built:\n{tail}", file=sys.stderr)
        return None
    size = partial.stat().st_size
    _record(archive).write_text(json.dumps({"size": size, "java": str(java)}) + "\n")
    os.replace(partial, archive)  # atomic: a reader sees no archive or a whole one
    print(f"energy-lake: JVM class archive built: {archive} ({size / 2**20:,.0f} MiB)")
    return archive


def _workload() -> int:
    """Both jobs on a tiny generated lake, in this process's JVM; returns its exit code.

    The classes this loads are the archive's content. The JVM dumps them as it exits, which it
    does when its stdin closes; waiting for it here means the archive is whole on return.
    """
    from pyspark import SparkContext

    from energy_lake.cli import run_jobs
    from energy_lake.generate import generate
    from energy_lake.ingest import ingest_file

    with tempfile.TemporaryDirectory(prefix="energy-lake-archive-") as work:
        incoming, lake = Path(work) / "incoming", Path(work) / "lake"
        generate(incoming, days=3, clients=20, providers=5, transactions=300)
        for path in sorted(incoming.glob("*.csv")):
            ingest_file(str(lake), path)
        for _report in run_jobs(str(lake), "all"):
            pass
        gateway = SparkContext._gateway
        SparkContext.getOrCreate().stop()
    assert gateway is not None and gateway.proc is not None
    gateway.proc.stdin.close()
    return gateway.proc.wait(timeout=300)


def main(argv: list[str] | None = None) -> int:
    """Build the archive (the default), or, with --workload, be the builder's child."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--workload"]:
        return _workload()
    from glue_jobs.local_fs import fast_local_fs_jar

    build(fast_local_fs_jar())
    return 0  # without an archive the jobs run as before: never a failed make target


if __name__ == "__main__":
    sys.exit(main())
