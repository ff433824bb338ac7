"""A recording's segment files as one timeline on the session clock: where each audio file
begins, how long it plays, the screen video of the same period, and which file and offset
play a given session time."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from recorder.offline_transcription import NoRecordedAudio, container_seconds, recorded_audio
from recorder.segments import VIDEO_NAME


@dataclass(frozen=True)
class PlaybackPart:
    audio: Path
    video: Path | None  # the screen video of the same period, where one was recorded
    start: float  # session seconds of the file's first sample
    duration: float  # as the container tells; 0 when the file cannot be read


@dataclass(frozen=True)
class Timeline:
    parts: tuple[PlaybackPart, ...]

    @property
    def end(self) -> float:
        return max((part.start + part.duration for part in self.parts), default=0.0)

    def locate(self, seconds: float) -> tuple[int, float]:
        """(part index, offset into its file) that plays session time `seconds`. A time before
        the recording or in a hole between files (a file missing or cut short) plays from the
        next file's beginning; a time past the end is the end of the last file."""
        last = len(self.parts) - 1
        for index, part in enumerate(self.parts):
            if seconds < part.start + part.duration or index == last:
                return index, min(max(0.0, seconds - part.start), part.duration)
        raise ValueError("an empty timeline has no times")

    def session_time(self, index: int, offset: float) -> float:
        return self.parts[index].start + offset


def recording_timeline(folder: Path, *, start: float | None, segment_seconds: float | None) -> Timeline:
    """The recording in `folder` (empty when it holds no audio). `start` and `segment_seconds`
    are the facts the session kept (where its audio begins, how long each file covers);
    without them the files are taken to follow one another from session time 0."""
    try:
        found = recorded_audio(folder, start=start, segment_seconds=segment_seconds)
    except NoRecordedAudio:
        return Timeline(())
    parts: list[PlaybackPart] = []
    for found_part in found:
        duration = container_seconds(found_part.path)
        begins = found_part.start if found_part.start is not None else parts[-1].start + parts[-1].duration
        # Video files are numbered by the same periods; each begins at its first frame, which
        # the screen captures within a frame of the audio.
        video = found_part.path.with_name(VIDEO_NAME.format(int(found_part.path.stem.partition("_")[2])))
        parts.append(PlaybackPart(found_part.path, video if video.is_file() else None, begins, duration))
    return Timeline(tuple(parts))
