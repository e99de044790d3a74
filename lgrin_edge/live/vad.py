"""Voice activity for the utterance stream (docs/live.md): each front-end frame's energy, measured on the
PCM it covers, and the rule that cuts frames into utterances. export/src/lgrin_stream.c computes the same,
bit for bit (the sums in double, in sample order).

Frame k covers input samples [a_k, b_k), a_k = ceil(k hop r / fs), b_k = ceil((k hop + L) r / fs) (r the
PCM's rate, fs the front-end's, hop and L its hop and frame length); its energy is the mean square of those
samples (float32 values, squared and added in double), over the samples there are once the stream ends.
"""

from __future__ import annotations

from collections import deque

import numpy as np


class Energies:
    """Push the PCM (float64 values of float32 samples); :meth:`take` gives the energies of the next
    frames the front-end gives, in order."""

    def __init__(self, rate: int, front_rate: int, hop: int, length: int) -> None:
        self.rate, self.front_rate, self.hop, self.length = rate, front_rate, hop, length
        self._pcm = np.zeros(0)  # the samples from index _start on
        self._start = 0
        self._received = 0  # N
        self._next = 0  # the frame whose energy comes next
        self._ready: deque[float] = deque()

    def span(self, k: int) -> tuple[int, int]:
        """[a_k, b_k): the input samples frame k covers (integer ceilings)."""
        r, fs = self.rate, self.front_rate
        return -(-k * self.hop * r // fs), -(-(k * self.hop + self.length) * r // fs)

    def push(self, x: np.ndarray) -> None:
        """Append samples; the energy of every frame whose span they complete is computed now."""
        self._pcm = np.concatenate([self._pcm, x])
        self._received += len(x)
        while self.span(self._next)[1] <= self._received:
            self._ready.append(self._energy(self._next))
            self._next += 1
        drop = min(self.span(self._next)[0], self._received) - self._start
        self._pcm, self._start = self._pcm[drop:], self._start + drop

    def _energy(self, k: int) -> float:
        a, b = self.span(k)
        b = min(b, self._received)
        if b <= a:
            return 0.0
        seg = self._pcm[a - self._start : b - self._start]
        return float(np.cumsum(seg * seg)[-1]) / float(b - a)  # cumsum: added in order, as C does

    def take(self, count: int) -> list[float]:
        """The energies of the next ``count`` frames (those the PCM so far does not complete: over the
        samples there are, for the frames a flush gives)."""
        out = []
        for _ in range(count):
            if self._ready:
                out.append(self._ready.popleft())
            else:
                out.append(self._energy(self._next))
                self._next += 1
        return out


class Cutter:
    """The utterance rule: frames in, with whether each is speech; :meth:`push` returns an ended
    utterance as (its kept frames, the number of frames after its last speech frame), or None."""

    def __init__(self, min_speech: int, hangover: int, longest: int, width: int) -> None:
        self.min_speech, self.hangover, self.longest = min_speech, hangover, longest
        self.frames = np.zeros((longest, width), np.float32)
        self.length = self.speech = self.silence = 0
        self.active = False

    def push(self, frame: np.ndarray, speech: bool) -> tuple[np.ndarray, int] | None:
        """One frame; an utterance that ends with it (dropped ones: frames of length 0)."""
        if not self.active:
            if not speech:
                return None
            self.active, self.length, self.speech, self.silence = True, 0, 0, 0
        self.frames[self.length] = frame
        self.length += 1
        self.speech, self.silence = (self.speech + 1, 0) if speech else (self.speech, self.silence + 1)
        if self.silence == self.hangover or self.length == self.longest:
            return self.end()
        return None

    def end(self) -> tuple[np.ndarray, int] | None:
        """End the open utterance (None where none is open): its frames up to its last speech frame,
        none where it has fewer than ``min_speech`` speech frames."""
        if not self.active:
            return None
        self.active = False
        kept = self.length - self.silence if self.speech >= self.min_speech else 0
        return self.frames[:kept].copy(), self.silence
