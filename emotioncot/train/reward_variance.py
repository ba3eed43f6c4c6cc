"""A warning when GRPO learns nothing: a group whose completions all get the same reward has zero advantage,
so a step where every group is like that (TRL logs ``frac_reward_zero_std`` 1.0) changes no weight.

The quick-start used to run 20 such steps in silence (reward 0, loss 0, grad_norm 0) on a policy that never
answered in the format; the warning says so when it happens, and the run's summary counts such steps."""

from __future__ import annotations

import logging

from transformers import TrainerCallback

logger = logging.getLogger("emotioncot.train.grpo")

ADVICE = ("every group of completions got the same reward, so the advantages are zero and the step teaches nothing; "
          "start GRPO from a policy that already answers in the format (train sft first), or raise "
          "--num-generations / grpo.temperature so that a group's answers differ")


class RewardVarianceWatch(TrainerCallback):
    """Counts the logged steps whose every group had zero reward variance; warns at the first one."""

    def __init__(self) -> None:
        self.logged = 0
        self.flat = 0

    def on_log(self, args, state, control, logs=None, **kwargs):
        share = (logs or {}).get("frac_reward_zero_std")
        if share is None:
            return
        self.logged += 1
        if share >= 1.0 - 1e-9:
            self.flat += 1
            if self.flat == 1:
                logger.warning("GRPO step %d: %s", state.global_step, ADVICE)

    def summary(self) -> dict:
        if self.logged and self.flat == self.logged:
            logger.warning("GRPO: none of the %d logged steps had reward variance: this run learned nothing", self.logged)
        return {"logged_steps": self.logged, "steps_without_reward_variance": self.flat}
