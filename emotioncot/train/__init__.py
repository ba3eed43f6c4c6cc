"""Training on an emotioncot export: SFT, then GRPO-PTR (DESIGN.md section 6).

Pure-Python pieces (rewards, the PTR trust weight and switch, graders, metrics, config) import without torch;
the trainers (``sft``, ``grpo``, ``policies``, ``evaluate``) need the ``train`` extra:
``pip install emotioncot[train]``.
"""
