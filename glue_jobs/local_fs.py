"""A faster local file system for Spark on a laptop (see jvm/FastLocalFileSystem.java).

The class is compiled on first use with the JDK's `javac` against the pyspark jars and cached
under ~/.cache/energy-lake (keyed by the source and the pyspark version). Without a JDK the
local runner falls back to Hadoop's RawLocalFileSystem: slower on many small files, same result.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCE = Path(__file__).with_name("jvm") / "FastLocalFileSystem.java"
CLASS_NAME = "energylake.FastLocalFileSystem"


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "energy-lake" / "jvm"


def fast_local_fs_jar() -> str | None:
    """Path of the compiled jar, building it if needed; None when no JDK can build it."""
    import pyspark

    source = SOURCE.read_bytes()
    key = hashlib.sha256(source + pyspark.__version__.encode()).hexdigest()[:16]
    jar = _cache_root() / f"fast-local-fs-{key}.jar"
    if jar.exists():
        return str(jar)
    javac, jar_tool = shutil.which("javac"), shutil.which("jar")
    if javac is None or jar_tool is None:
        print(
            "energy-lake: no JDK (javac/jar) found; local Spark writes are slower", file=sys.stderr
        )
        return None
    classpath = str(Path(pyspark.__file__).parent / "jars" / "*")
    jar.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=jar.parent) as work:
        classes = Path(work) / "classes"
        built = Path(work) / jar.name
        try:
            subprocess.run(
                [javac, "-nowarn", "-cp", classpath, "-d", str(classes), str(SOURCE)],
                check=True,
                capture_output=True,
            )
            subprocess.run(
                [jar_tool, "cf", str(built), "-C", str(classes), "."],
                check=True,
                capture_output=True,
            )
        except subprocess.CalledProcessError as error:
            message = error.stderr.decode(errors="replace").strip().splitlines()[-1:]
            print(f"energy-lake: could not build the local file system: {message}", file=sys.stderr)
            return None
        os.replace(built, jar)  # atomic: concurrent first runs agree on one jar
    return str(jar)
