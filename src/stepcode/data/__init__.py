"""data stage: programs, inputs, filters, decontamination and dataset builds.

* ``synth.synthesize_programs(level, n, seed, size)``: ExecVerify's six difficulty levels, typed
  random generation over the operation ``inventory``, execution-verified outputs.
* ``sources.load_source`` (a .py directory, JSONL, a Hugging Face dataset) + ``inputs`` (typed
  random and mutated example inputs) for real code.
* ``filters``: identifier-normalised dedup and n-gram decontamination against benchmarks.
* ``build.build_dataset(cfg, out_dir)``: the whole pipeline behind ``stepcode data build``
  (``config.DataBuildConfig``), resumable and byte-reproducible.
Not done here: LLM-written programs (ExecVerify's optional step) and execution itself (that is
``stepcode.execution``).
"""
