"""The per-frame loops of Praat's "Sound: To Pitch (ac)" (candidates, their refinement, the path finder),
compiled from ``_pitch_kernels.pyx``: see that file for the port and why it is compiled."""

from emotioncot.measure.compiled import load

_kernels = load("_pitch_kernels")

frame_matrix = _kernels.frame_matrix
power_in_place = _kernels.power_in_place
all_candidates = _kernels.all_candidates
path_finder = _kernels.path_finder
