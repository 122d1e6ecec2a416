"""① execution: the only package that runs untrusted code.

``run_program`` / ``run_batch`` (sandbox over warm forking workers), ``trace_program`` (line tracer
with REval semantics) and ``instrument`` (trace anchors).
"""

from stepcode.execution.anchors import (
    AnchorPolicy,
    AnchorSpec,
    Instrumented,
    instrument,
    run_instrumented,
)
from stepcode.execution.isolation import IsolationReport, detect_isolation
from stepcode.execution.pool import SandboxPool, get_default_pool
from stepcode.execution.sandbox import (
    Job,
    RawRun,
    run_batch,
    run_job,
    run_jobs,
    run_program,
    tamper_reason,
)
from stepcode.execution.tracer import (
    coverage,
    next_lines,
    next_lines_of,
    occurrences,
    state_after_occurrence,
    states_after,
    trace_batch,
    trace_program,
    value_after,
)

__all__ = [
    "AnchorPolicy",
    "AnchorSpec",
    "Instrumented",
    "coverage",
    "instrument",
    "next_lines",
    "next_lines_of",
    "occurrences",
    "run_instrumented",
    "state_after_occurrence",
    "states_after",
    "trace_batch",
    "trace_program",
    "value_after",
    "IsolationReport",
    "Job",
    "RawRun",
    "SandboxPool",
    "detect_isolation",
    "get_default_pool",
    "run_batch",
    "run_job",
    "run_jobs",
    "run_program",
    "tamper_reason",
]
