#!/usr/bin/env python3
"""HNSW nearest-neighbour search on pgvector at study scale and beyond.

Loads N synthetic 384-d unit vectors (drawn around 2,000 random "values", the
way many participants' cards crowd around shared values) into a scratch table
on its own embedded PostgreSQL (var/bench-pgdata), builds the same HNSW index
as the values app (cosine, m=16, ef_construction=64), then for Q query
vectors compares top-5 by the index with exact top-5 by a sequential scan.
Prints load and build time, p50/p99 query latency, and recall@5.

    .venv/bin/python bench/vector_search.py --sizes 100000,1000000
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


def synthetic(n: int, rng: np.random.Generator, centres: int = 2000) -> np.ndarray:
    centre_vectors = rng.standard_normal((centres, DIM)).astype(np.float32)
    picks = rng.integers(0, centres, n)
    vectors = centre_vectors[picks] + 0.6 * rng.standard_normal((n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def run(n: int, queries: int, ef_search: list[int], rng) -> None:
    import django

    django.setup()
    from django.db import connection
    from pgvector.psycopg import register_vector

    data = synthetic(n, rng)
    connection.ensure_connection()
    raw = connection.connection  # the psycopg connection: binary vectors, no Django wrapping
    raw.autocommit = True
    register_vector(raw)
    with raw.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_vectors")
        cursor.execute(f"CREATE TABLE bench_vectors (id bigserial PRIMARY KEY, embedding vector({DIM}))")
        started = time.perf_counter()
        with cursor.copy("COPY bench_vectors (embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["vector"])
            for vector in data:
                copy.write_row([vector])
        load_s = time.perf_counter() - started
        cursor.execute("SET maintenance_work_mem = '2GB'")
        cursor.execute("SET max_parallel_maintenance_workers = 1")
        started = time.perf_counter()
        cursor.execute("CREATE INDEX ON bench_vectors USING hnsw (embedding vector_cosine_ops) "
                       "WITH (m = 16, ef_construction = 64)")
        build_s = time.perf_counter() - started
        cursor.execute("ANALYZE bench_vectors")

        # A new card near an existing one: a small perturbation (norm ~0.3) of a stored vector.
        noise = rng.standard_normal((queries, DIM)).astype(np.float32) * (0.3 / np.sqrt(DIM))
        query_vectors = data[rng.integers(0, n, queries)] + noise
        query_vectors /= np.linalg.norm(query_vectors, axis=1, keepdims=True)
        sql = "SELECT id FROM bench_vectors ORDER BY embedding <=> %s LIMIT 5"

        exact, exact_ms = [], []
        cursor.execute("SET enable_indexscan = off")
        for q in query_vectors:
            t = time.perf_counter()
            cursor.execute(sql, [q])
            exact_ms.append((time.perf_counter() - t) * 1000)
            exact.append({row[0] for row in cursor.fetchall()})
        cursor.execute("SET enable_indexscan = on")

        print(f"\nN = {n:,}: load {load_s:.1f}s ({n / load_s:,.0f} vectors/s), HNSW build {build_s:.1f}s; "
              f"exact top-5 p50 {pct(exact_ms, 0.5):.1f} ms, p99 {pct(exact_ms, 0.99):.1f} ms")
        print(f"{'ef_search':>9} {'p50 ms':>8} {'p99 ms':>8} {'recall@5':>9}")
        for ef in ef_search:
            cursor.execute(f"SET hnsw.ef_search = {int(ef)}")
            latencies, hits = [], 0
            for q, truth in zip(query_vectors, exact):
                t = time.perf_counter()
                cursor.execute(sql, [q])
                latencies.append((time.perf_counter() - t) * 1000)
                hits += len(truth & {row[0] for row in cursor.fetchall()})
            print(f"{ef:>9} {pct(latencies, 0.5):>8.2f} {pct(latencies, 0.99):>8.2f} {hits / (5 * len(exact)):>9.3f}")
        cursor.execute("DROP TABLE bench_vectors")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ef-search", default="40,100")
    args = parser.parse_args()
    from mgeplatform import embedded_db

    pgdata = Path(os.environ["MGE_PGDATA"])
    started_here = not os.environ.get("DATABASE_URL") and not embedded_db.is_running(pgdata)
    rng = np.random.default_rng(7)
    try:
        for n in [int(s) for s in args.sizes.split(",")]:
            run(n, args.queries, [int(e) for e in args.ef_search.split(",")], rng)
    finally:
        if started_here:
            from django.db import connections

            connections.close_all()
            embedded_db.stop(pgdata)
    return 0


if __name__ == "__main__":
    sys.exit(main())
