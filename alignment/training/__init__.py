"""Training data from a moral graph (paper 6.2), one module per job:
`prompts` (the prompt set), `examples` (guided answers and judged pairs, one
row each), `runs` (starting, estimating, queueing and exporting a run) and
`files` (the JSONL files and the dataset card). Callers use
`alignment.training.<name>`; the names are listed here so the public surface
is in one place."""

from alignment.training.examples import (
    COMPLETION_TOKENS,
    CONTEXT_TOKENS,
    DROP_REASONS,
    JUDGE_TOKENS,
    Completion,
    Progress,
    counts,
    edge_key,
    guided_completion,
    kept_edges,
    process,
    prompt_versions,
)
from alignment.training.files import (
    FILES,
    dataset_card,
    file_text,
    jsonl_lines,
    participants_behind,
    write_files,
)
from alignment.training.prompts import (
    prompt_set,
    read_prompts,
)
from alignment.training.runs import (
    AlreadyQueued,
    Estimate,
    estimate,
    estimate_for,
    existing_run,
    export,
    graph_contexts,
    job_status,
    queue_export,
    run_key,
    start_run,
    units_in_context,
)

__all__ = [
    "read_prompts",
    "prompt_set",
    "edge_key",
    "kept_edges",
    "prompt_versions",
    "Completion",
    "guided_completion",
    "Progress",
    "process",
    "counts",
    "COMPLETION_TOKENS",
    "JUDGE_TOKENS",
    "CONTEXT_TOKENS",
    "DROP_REASONS",
    "run_key",
    "existing_run",
    "start_run",
    "Estimate",
    "estimate",
    "estimate_for",
    "units_in_context",
    "graph_contexts",
    "AlreadyQueued",
    "job_status",
    "queue_export",
    "export",
    "participants_behind",
    "jsonl_lines",
    "file_text",
    "write_files",
    "dataset_card",
    "FILES",
]
