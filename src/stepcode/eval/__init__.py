"""eval stage: benchmarks scored exactly as the official harnesses (``eval.benchmarks``: CRUXEval-I/O,
LiveCodeBench execution, REval HumanEval part), unbiased pass@k (``eval.passk``), scoring of official
generation files (``eval.score``), HTML/PNG reports (``eval.report``). Generation lives in
``eval.harness`` (``stepcode eval run``). Nothing is imported here: import the submodule you need.
"""
