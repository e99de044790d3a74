"""A model on a live signal: a decision every hop over a window of the latest frames (docs/live.md).

    s = Stream(spec, classify)        # classify: (1, M, P) float32 graph -> (1, C) logits (any runner)
    for d in s.push_pcm(chunk): ...   # or push_motion(time, values), push_frames(frames)
    s.flush()                         # the end: the front-end's last frames, the end-of-stream rule
    python -m lgrin_edge.live --dist DIR --wav F | --csv F | --mic

:mod:`.stream` is the engine (the stream definition, identical to export/src's lgrin_stream).
"""

from .stream import Decision, Plan, Stream, label_names, plan, softmax

__all__ = ["Decision", "Plan", "Stream", "label_names", "plan", "softmax"]
