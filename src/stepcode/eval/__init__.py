"""eval stage: benchmarks scored exactly as the official harnesses (``eval.benchmarks``: CRUXEval-I/O,
LiveCodeBench execution, REval, stepcode's aligned CRUXEval; ``get_benchmark`` is the one front
door), ``EvalConfig`` (``eval.config``), generation + scoring of a model (``eval.harness``:
``stepcode eval CONFIG.yaml`` / ``eval run``), scoring of official generation files
(``eval.score``: ``eval score``), the one ``samples.jsonl`` schema on disk (``eval.records``),
HTML/PNG reports (``eval.report``), unbiased pass@k (``eval.passk``). Nothing is imported here:
import the submodule you need.
"""
