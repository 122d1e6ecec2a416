"""A training run that SIGKILLs itself at a given step (shared by the resume tests).

``python -c SCRIPT STEP KEY=VALUE ...``: ``stepcode.rl.train.train`` on the embedded default with the
overrides, killed when its progress callback reaches ``STEP``."""

SCRIPT = """
import os, signal, sys
from stepcode.config import load_config
from stepcode.rl.config import TrainConfig
from stepcode.rl.train import train

def die_at(phase, step, total, metrics):
    if step == int(sys.argv[1]):
        os.kill(os.getpid(), signal.SIGKILL)

train(load_config(TrainConfig, None, sys.argv[2:]), progress=die_at)
"""
