"""① execution: the only package that runs untrusted code.

``run_program`` / ``run_batch`` (sandbox over warm forking workers), ``trace_program`` (line tracer
with REval semantics) and ``instrument`` (trace anchors).
"""

from stepcode.execution.isolation import IsolationReport, detect_isolation
from stepcode.execution.pool import SandboxPool, get_default_pool
from stepcode.execution.sandbox import Job, RawRun, run_batch, run_job, run_jobs, run_program

__all__ = [
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
]
