#!/usr/bin/env python3
"""HNSW nearest-neighbour search on pgvector, measured on the platform's query.

The platform asks for the k canonical values of one study closest to a card,
among vectors of the same embedding model (values/selectors.py,
nearest_canonical_values), and keeps those within DEDUP_MAX_DISTANCE. This
bench loads N synthetic 384-d unit vectors into a scratch table shaped like
values_canonicalvalue (study_id and embedding_model with their b-tree
indexes) on its own embedded PostgreSQL (var/bench-pgdata), spread over
studies of very unequal size, then for each HNSW index asked for (vector or
halfvec, m, ef_construction) sweeps hnsw.ef_search and hnsw.iterative_scan
over queries filtered to a study of 100%, 60%, 10% and 1% of the rows.

Truth is exact top-5 computed in numpy on the float32 vectors. A returned
row counts as a hit when its true distance is within the 5th true distance
(ties are not misses). "recall<=cut" counts only the true top-5 within
--cutoff (the neighbours the deduplicator would see); "short" is the share
of queries that got fewer than 5 rows. "study-first" is the same query with
the HNSW index switched off: the b-tree on study_id, then exact distances.

    .venv/bin/python bench/vector_search.py --sizes 100000 --dataset clustered \\
        --indexes vector:16:64,halfvec:16:64 --ef-search 40,100,200
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MGE_DEV", "1")
os.environ.setdefault("MGE_PGDATA", str(ROOT / "var" / "bench-pgdata"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DB_POOL", "0")

DIM = 384
K = 5
MODEL = "bench-384"
# Share of the rows in each study: study 1 is the "one study holds most"
# case, studies 2-4 are mid-sized, 5-14 are small minorities.
STUDY_SHARES = [0.6] + [0.1] * 3 + [0.01] * 10
# (label, study_id or None for "every row matches")
SCENARIOS = [("all rows", None), ("study 60%", 1), ("study 10%", 2), ("study 1%", 5)]


def synthetic(n: int, dataset: str, rng: np.random.Generator) -> np.ndarray:
    """clustered: 2,000 "values" that many cards crowd around (noise 0.6).
    spread: 50,000 centres, more noise (0.9), so neighbours are farther apart.
    uniform: uniform on the sphere, no structure at all (the worst case)."""
    if dataset == "uniform":
        vectors = rng.standard_normal((n, DIM), dtype=np.float32)
    else:
        centres, noise = {"clustered": (2000, 0.6), "spread": (50_000, 0.9)}[dataset]
        centre_vectors = rng.standard_normal((centres, DIM), dtype=np.float32)
        vectors = centre_vectors[rng.integers(0, centres, n)]
        vectors += noise * rng.standard_normal((n, DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def exact_top(data, ids, queries):
    """True top-K ids and distances per query, among rows `ids` (0-based)."""
    sub = data[ids]
    top_ids, top_d = [], []
    for start in range(0, len(queries), 64):
        sims = queries[start : start + 64] @ sub.T
        part = np.argpartition(-sims, K, axis=1)[:, :K]
        for row, cols in zip(sims, part):
            order = cols[np.argsort(-row[cols])]
            top_ids.append(ids[order])
            top_d.append(1.0 - row[order])
    return top_ids, top_d


def plan_of(cursor, sql, params) -> str:
    cursor.execute("EXPLAIN " + sql, params)
    text = " ".join(row[0] for row in cursor.fetchall())
    if "hnsw" in text:
        return "hnsw"
    if "Bitmap" in text or "study" in text:
        return "btree+sort"
    return "seq+sort"


def measure(cursor, sql, scenario_queries, data, cutoff):
    """p50, p99 (ms), recall@5, recall within cutoff, share of short answers."""
    latencies, hits, cut_hits, cut_total, short = [], 0, 0, 0, 0
    for params, q, truth_d in scenario_queries:
        t = time.perf_counter()
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        latencies.append((time.perf_counter() - t) * 1000)
        got = [row[0] - 1 for row in rows]
        short += len(got) < K
        if got:
            true_d = 1.0 - data[got] @ q
            hits += int(np.sum(true_d <= truth_d[-1] + 1e-6))
            within = truth_d <= cutoff
            if within.any():
                cut_total += int(within.sum())
                cut_hits += min(int(within.sum()), int(np.sum(true_d <= truth_d[within][-1] + 1e-6)))
        else:
            cut_total += int(np.sum(truth_d <= cutoff))
    n = len(scenario_queries)
    return (
        pct(latencies, 0.5),
        pct(latencies, 0.99),
        hits / (K * n),
        cut_hits / cut_total if cut_total else float("nan"),
        short / n,
    )


def run(n, args, rng) -> None:
    import django

    django.setup()
    from django.db import connection
    from pgvector.psycopg import register_vector

    from mgeplatform import dbroles

    dbroles.switch_to_owner()  # the scratch table needs a role that may create tables
    data = synthetic(n, args.dataset, rng)
    study = rng.choice(len(STUDY_SHARES), n, p=STUDY_SHARES) + 1
    connection.ensure_connection()
    raw = connection.connection  # the psycopg connection: binary vectors, no Django wrapping
    raw.autocommit = True
    register_vector(raw)
    with raw.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        pgvector = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        shared_buffers = cursor.fetchone()[0]
        cursor.execute("DROP TABLE IF EXISTS bench_values")
        cursor.execute(
            f"CREATE TABLE bench_values (id bigserial PRIMARY KEY, study_id int NOT NULL, "
            f"embedding_model varchar(64) NOT NULL, embedding vector({DIM}))"
        )
        started = time.perf_counter()
        with cursor.copy(
            "COPY bench_values (study_id, embedding_model, embedding) FROM STDIN WITH (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["int4", "varchar", "vector"])
            for s, vector in zip(study, data):
                copy.write_row([int(s), MODEL, vector])
        load_s = time.perf_counter() - started
        # The b-tree indexes Django makes for the foreign key and db_index.
        cursor.execute("CREATE INDEX ON bench_values (study_id)")
        cursor.execute("CREATE INDEX ON bench_values (embedding_model)")
        cursor.execute("VACUUM ANALYZE bench_values")
        print(
            f"\nN = {n:,} ({args.dataset}), pgvector {pgvector}, shared_buffers {shared_buffers}: load {load_s:.1f}s",
            flush=True,
        )

        # A new card near an existing one: a small perturbation (norm ~0.3) of a
        # stored vector of the study asked about.
        scenarios = []
        for label, study_id in [SCENARIOS[int(i)] for i in args.scenarios.split(",")]:
            ids = np.arange(n) if study_id is None else np.flatnonzero(study == study_id)
            picks = ids[rng.integers(0, len(ids), args.queries)]
            noise = rng.standard_normal((args.queries, DIM), dtype=np.float32) * (0.3 / np.sqrt(DIM))
            queries = data[picks] + noise
            queries /= np.linalg.norm(queries, axis=1, keepdims=True)
            _, truth_d = exact_top(data, ids, queries)
            scenarios.append((label, study_id, len(ids), queries, truth_d))

        for spec in args.indexes.split(","):
            kind, m, efc = spec.split(":")
            column = "embedding" if kind == "vector" else f"(embedding::halfvec({DIM}))"
            cast = "" if kind == "vector" else f"::halfvec({DIM})"
            cursor.execute("DROP INDEX IF EXISTS bench_values_hnsw")
            cursor.execute(f"SET maintenance_work_mem = '{args.maintenance_work_mem}'")
            cursor.execute("SET max_parallel_maintenance_workers = 1")
            started = time.perf_counter()
            cursor.execute(
                f"CREATE INDEX bench_values_hnsw ON bench_values USING hnsw ({column} {kind}_cosine_ops) "
                f"WITH (m = {int(m)}, ef_construction = {int(efc)})"
            )
            build_s = time.perf_counter() - started
            cursor.execute("SELECT pg_relation_size('bench_values_hnsw')")
            size_mb = cursor.fetchone()[0] / 2**20
            cursor.execute("ANALYZE bench_values")
            load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
            print(
                f"\n{kind} m={m} ef_construction={efc}: build {build_s:.1f}s, index {size_mb:,.0f} MB "
                f"(load average {load})",
                flush=True,
            )
            print(
                f"{'scenario':<10} {'rows':>9} {'iterative':>13} {'ef':>4} {'plan':>10} {'p50 ms':>7} "
                f"{'p99 ms':>7} {'recall@5':>8} {'<=cut':>6} {'short':>6}",
                flush=True,
            )
            for label, study_id, rows, queries, truth_d in scenarios:
                where = "embedding_model = %s AND embedding IS NOT NULL"
                if study_id is not None:
                    where = "study_id = %s AND " + where
                sql = (
                    f"SELECT id, embedding{cast} <=> %s{cast} AS distance FROM bench_values WHERE {where} "
                    f"ORDER BY distance LIMIT {K}"
                )
                prefix = [] if study_id is None else [study_id]
                sq = [([q, *prefix, MODEL], q, d) for q, d in zip(queries, truth_d)]
                for mode in args.iterative.split(","):
                    cursor.execute(f"SET hnsw.iterative_scan = {mode}")
                    for ef in [int(e) for e in args.ef_search.split(",")]:
                        cursor.execute(f"SET hnsw.ef_search = {ef}")
                        plan = plan_of(cursor, sql, sq[0][0])
                        p50, p99, recall, recall_cut, short = measure(cursor, sql, sq, data, args.cutoff)
                        print(
                            f"{label:<10} {rows:>9,} {mode:>13} {ef:>4} {plan:>10} {p50:>7.2f} {p99:>7.2f} "
                            f"{recall:>8.3f} {recall_cut:>6.3f} {short:>6.2f}",
                            flush=True,
                        )
                if study_id is not None and args.study_first:
                    sample = args.queries // 2 if rows <= 100_000 else 30  # an exact sort of 600k rows takes seconds
                    cursor.execute("SET enable_indexscan = off")  # the b-tree on study_id, then exact order
                    plan = plan_of(cursor, sql, sq[0][0])
                    p50, p99, recall, recall_cut, short = measure(cursor, sql, sq[:sample], data, args.cutoff)
                    cursor.execute("SET enable_indexscan = on")
                    print(
                        f"{label:<10} {rows:>9,} {'study-first':>13} {'-':>4} {plan:>10} {p50:>7.2f} {p99:>7.2f} "
                        f"{recall:>8.3f} {recall_cut:>6.3f} {short:>6.2f}",
                        flush=True,
                    )
            cursor.execute("SET hnsw.iterative_scan = off")
        cursor.execute("DROP TABLE bench_values")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--dataset", choices=["clustered", "spread", "uniform"], default="clustered")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument(
        "--indexes", default="vector:16:64", help="comma-separated kind:m:ef_construction, kind vector or halfvec"
    )
    parser.add_argument("--ef-search", default="40,100,200")
    parser.add_argument(
        "--iterative", default="off,strict_order", help="hnsw.iterative_scan modes: off, relaxed_order, strict_order"
    )
    parser.add_argument(
        "--scenarios", default="0,1,2,3", help="which of: 0 all rows, 1 study of 60%%, 2 study of 10%%, 3 study of 1%%"
    )
    parser.add_argument("--cutoff", type=float, default=0.5, help="the deduplicator's DEDUP_MAX_DISTANCE")
    parser.add_argument("--study-first", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--maintenance-work-mem", default="2GB")
    args = parser.parse_args()
    from mgeplatform import embedded_db

    pgdata = Path(os.environ["MGE_PGDATA"])
    started_here = not os.environ.get("DATABASE_URL") and not embedded_db.is_running(pgdata)
    rng = np.random.default_rng(7)
    try:
        for n in [int(s) for s in args.sizes.split(",")]:
            run(n, args, rng)
    finally:
        if started_here:
            from django.db import connections

            connections.close_all()
            embedded_db.stop(pgdata)
    return 0


if __name__ == "__main__":
    sys.exit(main())
