#!/usr/bin/env python3
"""Simulated participants, the study report and the study export at growing
study sizes.

On its own embedded PostgreSQL (var/bench-pgdata), makes a study and grows it
with simulated participants (the whole journey through the platform's
services, offline models unpaced) to each size N, then times: the admin
report's data (`journey.report.study_report`, simulated included), the
report page as a coordinator gets it (HTTP through Django's test client),
and `export_study` to a temporary directory. Prints one line per size, so
the growth from one size to the next can be read off as a ratio.

    .venv/bin/python bench/study_report.py --sizes 50,100,200
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MGE_DEV", "1")
os.environ.setdefault("MGE_PGDATA", str(ROOT / "var" / "bench-pgdata"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="50,100,200", help="participant counts to reach, comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from graph import services as graph_services
    from interviews import ratings
    from journey import exports, report, simulation
    from mgeplatform.services import upsert_staff_user
    from studies import services as journey
    from studies.models import Participant

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", verbosity=0)
    study, _ = journey.seed_case_study(f"bench-report-{int(time.time())}")
    email = f"bench-{study.pk}@example.org"
    upsert_staff_user(email=email, password="bench-pass-123", role="coordinator")
    client = Client()
    client.post("/accounts/login/", {"login": email, "password": "bench-pass-123"})

    print(f"{'participants':>12} {'sim s/part':>10} {'report s':>9} {'page s':>7} {'export s':>9} {'files MB':>8}")
    done = 0
    for size in sizes:
        result, sim_seconds = timed(lambda: simulation.simulate(study, size - done, seed=args.seed + done))
        done = size
        ratings.rate_study(study, include_simulated=True)
        graph_services.build_snapshot(study, include_simulated=True)
        _, report_seconds = timed(lambda: report.study_report(study, include_simulated=True))
        page, page_seconds = timed(lambda: client.get(f"/admin/studies/study/{study.pk}/report/?simulated=1"))
        assert page.status_code == 200, page.status_code
        with tempfile.TemporaryDirectory() as tmp:
            _, export_seconds = timed(lambda: exports.export_study(study, Path(tmp), include_simulated=True))
            megabytes = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
        assert Participant.objects.filter(study=study).count() == size
        print(
            f"{size:>12} {sim_seconds / result.participants:>10.2f} {report_seconds:>9.2f} {page_seconds:>7.2f} "
            f"{export_seconds:>9.2f} {megabytes:>8.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
