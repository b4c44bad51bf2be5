"""Active speakers from the audio levels publishers put in their RTP packets.

Each Opus packet may carry the RFC 6464 audio level: 0 is the loudest
(0 dBov), 127 silence. The detector keeps a short, decaying average per
participant and calls someone speaking while their average is louder than
a threshold; the SFU asks it every ``speaker_interval`` and tells the room
when the set changes. Hysteresis (a louder level to start speaking than to
stop) keeps the set from flickering on every breath.
"""

from __future__ import annotations

from dataclasses import dataclass

SILENCE = 127


@dataclass(slots=True)
class _Level:
    loudness: float = 0.0  # 127 - level, smoothed: 0 silent, 127 the loudest
    speaking: bool = False
    heard: bool = False  # a packet arrived since the last tick


class SpeakerDetector:
    """Decides who speaks from audio levels (RFC 6464 units: 0 loud .. 127 silent)."""

    def __init__(
        self, *, start_below: int = 50, stop_above: int = 60, smoothing: float = 0.2
    ) -> None:
        # Speaking starts when the smoothed level is louder than -start_below dBov
        # and stops when it is quieter than -stop_above dBov.
        self._start = SILENCE - start_below
        self._stop = SILENCE - stop_above
        self._alpha = smoothing
        self._levels: dict[int, _Level] = {}

    def add(self, participant: int, level: int) -> None:
        """One audio packet's level from ``participant``."""
        state = self._levels.get(participant)
        if state is None:
            state = self._levels[participant] = _Level()
        loudness = SILENCE - min(max(level, 0), SILENCE)
        state.loudness += self._alpha * (loudness - state.loudness)
        state.heard = True

    def forget(self, participant: int) -> None:
        self._levels.pop(participant, None)

    def tick(self) -> list[int]:
        """Who speaks now, loudest first.

        A participant with no packet since the last tick (muted, or their
        network stalled) fades as if silent.
        """
        for state in self._levels.values():
            if not state.heard:
                state.loudness *= 1 - self._alpha
            state.heard = False
            if state.speaking and state.loudness < self._stop:
                state.speaking = False
            elif not state.speaking and state.loudness >= self._start:
                state.speaking = True
        talkers = [(-s.loudness, p) for p, s in self._levels.items() if s.speaking]
        return [p for _, p in sorted(talkers)]
