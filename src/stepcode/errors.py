"""Exception hierarchy. Operator input fails loudly; model output and programs never raise."""


class StepcodeError(Exception):
    """Base of every error stepcode raises on purpose."""


class ConfigError(StepcodeError):
    """A config file, a ``--set`` override or a CLI argument is wrong (exit code 2)."""


class DataError(StepcodeError):
    """A data file or source is malformed or missing (exit code 2)."""


class SandboxError(StepcodeError):
    """The execution infrastructure itself failed (cannot spawn, pool broken). Never bad code."""
