"""stepcode: train and evaluate code LLMs on execution reasoning with execution-trace supervision.

Data flow (each folder is one stage; a stage imports only shared modules and earlier stages)::

    program -(1 execution)-> Trace -(2 tasks)-> Task(prompt, reference) -(3 rollout)-> Rollout
            -(4 rewards)-> Reward(outcome, per-step) -(5 rl.advantages)-> advantages -(5 rl.loss)-> update
    program/model -(6 eval: tasks + rollout + rewards.verify)-> scores
    data: corpus -> filtered programs -> traces -> task JSONL (beside the flow)
"""

__version__ = "0.1.0"
