"""`energy-lake`: the command line. A thin shell over the modules that do the work."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from energy_lake import contract

JOBS = ("raw_to_processed", "processed_to_curated")
DEMO_MARKER = ".energy-lake-demo"


class UsageError(Exception):
    """Bad arguments: one line on stderr, exit code 2."""


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def cmd_generate(args: argparse.Namespace) -> int:
    from energy_lake.generate import generate

    manifest = generate(
        args.out,
        seed=args.seed,
        days=args.days,
        clients=args.clients,
        providers=args.providers,
        transactions=args.transactions,
    )
    for name, totals in manifest["datasets"].items():
        print(
            f"{name}: {totals['rows']} rows in {args.days} files "
            f"({totals['expected_rejected']} dirty on purpose) -> {args.out}"
        )
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from energy_lake.ingest import ConflictError, IngestError, ingest_file

    status = 0
    for path in args.files:
        try:
            landed = ingest_file(
                args.lake, path, dataset=args.dataset, ingest_date=args.ingest_date
            )
        except ConflictError as error:
            print(f"conflict: {error}", file=sys.stderr)
            status = 1
            continue
        except IngestError as error:
            raise UsageError(str(error)) from None
        if not args.quiet:
            print(f"{landed.status:9} {landed.target}")
    return status


def run_jobs(lake: str, job: str, extra: Sequence[str] = ()) -> list[dict]:
    """Run the Glue entry scripts in this process on local Spark; returns their reports."""
    from energy_lake.layout import Lake
    from glue_jobs import processed_to_curated, raw_to_processed

    if not (Path(lake) / "raw").is_dir():
        raise UsageError(f"{lake}: no raw zone here ({lake}/raw); land files with `ingest` first")
    argv = [*Lake.local(lake).as_job_arguments(), *extra]
    scripts = {"raw_to_processed": raw_to_processed, "processed_to_curated": processed_to_curated}
    chosen = JOBS if job == "all" else (job,)
    return [scripts[name].run(argv).as_dict() for name in chosen]


def cmd_run(args: argparse.Namespace) -> int:
    from energy_lake.report_view import render
    from glue_jobs.lock import LakeLockedError

    extra = ["--full-rebuild", "true"] if args.full_rebuild else []
    if args.load:
        extra += ["--load", args.load]
    if args.datasets:
        extra += ["--datasets", args.datasets]
    try:
        reports = run_jobs(args.lake, args.job, extra)
    except LakeLockedError as error:
        print(f"energy-lake run: {error}", file=sys.stderr)
        return 1
    for report in reports:
        print(render(report), end="\n\n")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Fresh lake, generated sources, ingest, both jobs, reports, analyses."""
    from energy_lake.generate import generate
    from energy_lake.ingest import ingest_file
    from energy_lake.report_view import render

    lake = Path(args.lake)
    if lake.exists() and any(lake.iterdir()):
        if not (lake / DEMO_MARKER).exists():
            raise UsageError(f"{lake} exists and is not a demo lake; pick another --lake")
        shutil.rmtree(lake)
    lake.mkdir(parents=True)
    (lake / DEMO_MARKER).write_text("created by `energy-lake demo`; safe to delete\n")
    incoming = lake / "incoming"
    print(f"1/4 generating {args.transactions} transactions over {args.days} days -> {incoming}")
    generate(incoming, days=args.days, transactions=args.transactions, clients=args.clients)
    files = sorted(incoming.glob("*.csv"))
    print(f"2/4 landing {len(files)} source files in {lake / 'raw'}")
    for path in files:
        ingest_file(str(lake), path)
    print("3/4 running raw_to_processed and processed_to_curated on local Spark\n")
    for report in run_jobs(str(lake), "all"):
        print(render(report), end="\n\n")
    print("4/4 the analyses over the curated zone (DuckDB, the same SQL as Athena)\n")
    from athena.cli import print_analyses

    print_analyses(str(lake))
    print(f"\nThe lake is in {lake}; run reports under {lake / 'reports'}.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="energy-lake",
        description="The energy-trading data lake: locally on Spark + DuckDB, or on AWS.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write deterministic sample source files")
    gen.add_argument("--out", required=True, help="folder for the CSV files and manifest.json")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--days", type=_positive, default=30, help="load days (one file each)")
    gen.add_argument("--clients", type=_positive, default=500)
    gen.add_argument("--providers", type=_positive, default=40)
    gen.add_argument("--transactions", type=int, default=20_000)
    gen.set_defaults(func=cmd_generate)

    ing = sub.add_parser("ingest", help="land source files in the raw zone")
    ing.add_argument("--lake", required=True, help="local lake folder or s3://<raw-bucket>")
    ing.add_argument("files", nargs="+", metavar="FILE")
    ing.add_argument("--dataset", choices=tuple(contract.DATASETS))
    ing.add_argument("--ingest-date", help="load date YYYY-MM-DD (default: from the name)")
    ing.add_argument("--quiet", action="store_true")
    ing.set_defaults(func=cmd_ingest)

    run = sub.add_parser("run", help="run the Glue jobs on local Spark")
    run.add_argument("--lake", required=True, help="local lake folder")
    run.add_argument("--job", choices=(*JOBS, "all"), default="all")
    run.add_argument("--full-rebuild", action="store_true", help="rebuild curated from scratch")
    run.add_argument("--load", help="(re)process one load: DATASET/YYYY-MM-DD")
    run.add_argument("--datasets", help="comma-separated datasets (default: all)")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="the whole pipeline on generated data, locally")
    demo.add_argument("--lake", default=".lake/demo")
    demo.add_argument("--days", type=_positive, default=60)
    demo.add_argument("--transactions", type=_positive, default=100_000)
    demo.add_argument("--clients", type=_positive, default=1_000)
    demo.set_defaults(func=cmd_demo)

    from athena.cli import register as register_query
    from energy_lake.bench import register as register_bench
    from redshift.cli import register as register_redshift

    register_query(sub)
    register_bench(sub)
    register_redshift(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as error:
        print(f"energy-lake {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
