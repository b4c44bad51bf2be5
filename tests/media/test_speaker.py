"""Active speakers from RFC 6464 audio levels (0 loud .. 127 silent)."""

from __future__ import annotations

from media.speaker import SpeakerDetector

LOUD, QUIET, SILENT = 20, 90, 127


def feed(detector: SpeakerDetector, levels: dict[int, int], packets: int = 15) -> list[int]:
    for _ in range(packets):
        for participant, level in levels.items():
            detector.add(participant, level)
    return detector.tick()


def test_the_loud_speak_and_the_quiet_do_not() -> None:
    detector = SpeakerDetector()
    assert feed(detector, {1: LOUD, 2: QUIET, 3: SILENT}) == [1]


def test_loudest_first() -> None:
    detector = SpeakerDetector()
    assert feed(detector, {1: 40, 2: 10}) == [2, 1]


def test_a_single_loud_packet_is_not_speech() -> None:
    detector = SpeakerDetector()
    detector.add(1, 0)
    assert detector.tick() == []


def test_silence_ends_speaking_and_so_does_no_packets() -> None:
    detector = SpeakerDetector()
    assert feed(detector, {1: LOUD, 2: LOUD}) == [1, 2]  # as loud: by id
    # 1 goes silent while 2 goes on talking
    assert feed(detector, {1: SILENT, 2: LOUD}) == [2]
    # then 2 sends nothing at all (muted, or gone): they fade out within a few ticks
    speaking = [feed(detector, {1: SILENT}) for _ in range(20)]
    assert speaking[0] == [2] and speaking[-1] == []


def test_forgotten_participants_are_gone() -> None:
    detector = SpeakerDetector()
    feed(detector, {1: LOUD})
    detector.forget(1)
    assert detector.tick() == []
