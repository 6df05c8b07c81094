"""The soak: `python -m benchmarks.soak [--orders 200] [--kills 20] [--setup sqlite|scaled|both]`.

Prints one verdict line per set-up (and the problems found); exits 1 if any failed. Needs
PostgreSQL's and Redis's binaries on this machine for the scaled set-up (servers of its
own, which it restarts)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from pathlib import Path

from benchmarks.soak.run import soak
from benchmarks.soak.shop import SETUPS


async def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak")
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--setup", choices=[*SETUPS, "both"], default="both")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument(
        "--kill-every", type=float, default=8.0, help="mean seconds between SIGKILLs"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    failed = False
    for setup in SETUPS if args.setup == "both" else (args.setup,):
        workdir = Path(tempfile.mkdtemp(prefix=f"soak-{setup}-"))
        verdict = await soak(
            setup,
            orders=args.orders,
            kills=args.kills,
            seed=args.seed,
            workdir=workdir,
            kill_every=args.kill_every,
        )
        print(verdict.line(), flush=True)
        for problem in verdict.problems[:30]:
            print(f"  problem: {problem}", flush=True)
        if not verdict.passed:
            print(f"  logs: {workdir}", flush=True)
        failed = failed or not verdict.passed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
