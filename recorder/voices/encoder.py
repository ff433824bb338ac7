"""A speaker embedding per stretch of speech, in numpy: the GE2E voice encoder that the
`resemblyzer` package ships (a 3-layer LSTM over 40 mel channels, 256 numbers out).

An utterance is cut into partial windows of 1.6 s (1.3 per second, the last one kept when it
is three-quarters full); each window's mel spectrogram (25 ms windows every 10 ms, power, not
log) goes through the LSTM, the last hidden state through a linear layer and a ReLU; the
utterance's embedding is the L2-normalised mean of its windows' normalised embeddings. The
same voice gives nearby embeddings (cosine similarity close to 1) whatever it says.

All the windows of all the utterances asked for at once go through the network together, a
batch at a time, so the per-step work is a few large matrix products rather than many small
ones.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from recorder.streaming_vad import SAMPLE_RATE
from recorder.voices.weights import VoiceModelError, checkpoint_path, load_checkpoint

WINDOW = 400  # 25 ms
HOP = 160  # 10 ms
MEL_CHANNELS = 40
PARTIAL_FRAMES = 160  # 1.6 s per partial window
PARTIALS_PER_SECOND = 1.3
MIN_COVERAGE = 0.75  # the last partial window is kept when this much of it is audio
TARGET_DBFS = -30.0  # quiet speech is brought up to this level (the encoder saw it so in training)
LAYERS = 3
HIDDEN = 256
EMBEDDING_SIZE = 256
BATCH = 64  # partial windows through the LSTM at once: about 40 MB of gate inputs
MIN_SECONDS = PARTIAL_FRAMES * HOP / SAMPLE_RATE * MIN_COVERAGE  # shorter audio says little about a voice


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """The Slaney mel scale: linear below 1 kHz, logarithmic above."""
    mel = hz / (200.0 / 3)
    log_part = hz >= 1000.0
    return np.where(log_part, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), mel)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    hz = mel * (200.0 / 3)
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0)), hz)


def mel_filters(sample_rate: int = SAMPLE_RATE, n_fft: int = WINDOW, n_mels: int = MEL_CHANNELS) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangular filters on the Slaney scale, each normalised to
    unit area (as the encoder's training features were made)."""
    bins = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(np.array(0.0)), _hz_to_mel(np.array(sample_rate / 2.0)), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - bins[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


_MEL = mel_filters()
_HANN = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WINDOW) / WINDOW)).astype(np.float32)  # periodic


def mel_spectrogram(samples: np.ndarray) -> np.ndarray:
    """(frames, 40) mel power spectrogram of 16 kHz samples, a frame centred every 10 ms."""
    padded = np.pad(np.asarray(samples, dtype=np.float32), WINDOW // 2)
    count = 1 + len(samples) // HOP
    frames = np.lib.stride_tricks.as_strided(padded, shape=(count, WINDOW),
                                             strides=(HOP * padded.itemsize, padded.itemsize))
    power = np.abs(np.fft.rfft(frames * _HANN, axis=1)) ** 2
    return (power.astype(np.float32) @ _MEL.T).astype(np.float32)


def partial_starts(samples: int) -> list[int]:
    """First mel frame of each partial window over an utterance of `samples` samples."""
    frames = int(np.ceil((samples + 1) / HOP))
    step = int(round(SAMPLE_RATE / PARTIALS_PER_SECOND / HOP))
    starts = list(range(0, max(1, frames - PARTIAL_FRAMES + step + 1), step))
    coverage = (samples - starts[-1] * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < MIN_COVERAGE and len(starts) > 1:
        starts.pop()
    return starts


def louder(samples: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    """Quiet audio brought up to `target_dbfs`; louder audio left as it is."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
    if rms <= 0.0:
        return samples
    gain = 10 ** ((target_dbfs - 20 * np.log10(rms)) / 20)
    return samples * np.float32(gain) if gain > 1 else samples


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 + 0.5 * np.tanh(0.5 * x)


class VoiceEncoder:
    """Speaker embeddings of 16 kHz mono utterances. Safe to share between threads (it keeps
    no state between calls)."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        try:
            self._layers = [(weights[f"lstm.weight_ih_l{n}"].T.copy(), weights[f"lstm.weight_hh_l{n}"].T.copy(),
                             weights[f"lstm.bias_ih_l{n}"] + weights[f"lstm.bias_hh_l{n}"]) for n in range(LAYERS)]
            self._linear = (weights["linear.weight"].T.copy(), weights["linear.bias"])
        except KeyError as exc:
            raise VoiceModelError(f"The voice encoder's weights lack {exc.args[0]}") from None

    @classmethod
    def load(cls, path: Path | None = None) -> VoiceEncoder:
        """The encoder with the installed package's weights (or those at `path`). Raises
        VoiceModelError when they are missing or not the expected file."""
        return cls(load_checkpoint(path or checkpoint_path()))

    def embed(self, utterances: Sequence[np.ndarray]) -> np.ndarray:
        """(len(utterances), 256) unit-length embeddings, one per utterance of 16 kHz samples."""
        windows: list[np.ndarray] = []
        owners: list[int] = []
        for index, samples in enumerate(utterances):
            starts = partial_starts(len(samples))
            needed = (starts[-1] + PARTIAL_FRAMES) * HOP
            audio = louder(np.asarray(samples, dtype=np.float32))
            mel = mel_spectrogram(np.pad(audio, (0, max(0, needed - len(audio)))))
            windows += [mel[start:start + PARTIAL_FRAMES] for start in starts]
            owners += [index] * len(starts)
        if not windows:
            return np.zeros((0, EMBEDDING_SIZE), np.float32)
        partials = np.concatenate([self._forward(np.stack(windows[i:i + BATCH]))
                                   for i in range(0, len(windows), BATCH)])
        sums = np.zeros((len(utterances), EMBEDDING_SIZE), np.float32)
        np.add.at(sums, np.asarray(owners), partials)
        return _unit(sums)

    def _forward(self, mels: np.ndarray) -> np.ndarray:
        """(batch, 160, 40) mel windows -> (batch, 256) unit-length embeddings."""
        batch, steps, _ = mels.shape
        inputs = mels
        hidden = np.zeros((batch, HIDDEN), np.float32)
        for number, (w_in, w_hidden, bias) in enumerate(self._layers):
            gates_in = (inputs.reshape(batch * steps, -1) @ w_in + bias).reshape(batch, steps, 4 * HIDDEN)
            last = number == LAYERS - 1
            outputs = None if last else np.empty((batch, steps, HIDDEN), np.float32)
            hidden = np.zeros((batch, HIDDEN), np.float32)
            cell = np.zeros((batch, HIDDEN), np.float32)
            for t in range(steps):
                gates = gates_in[:, t] + hidden @ w_hidden  # PyTorch's gate order: in, forget, cell, out
                cell = _sigmoid(gates[:, HIDDEN:2 * HIDDEN]) * cell + \
                    _sigmoid(gates[:, :HIDDEN]) * np.tanh(gates[:, 2 * HIDDEN:3 * HIDDEN])
                hidden = _sigmoid(gates[:, 3 * HIDDEN:]) * np.tanh(cell)
                if outputs is not None:
                    outputs[:, t] = hidden
            if outputs is not None:
                inputs = outputs
        weight, bias = self._linear
        return _unit(np.maximum(hidden @ weight + bias, 0.0))


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)
