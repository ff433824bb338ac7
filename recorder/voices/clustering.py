"""Voices of one recording told apart: speaker embeddings grouped by who spoke them.

Agglomerative clustering with average linkage on cosine distance: every utterance starts as
its own voice and the two closest voices merge until the closest pair is further apart than
THRESHOLD, so the number of speakers is estimated, not asked for. Utterances too short to
say much about a voice do not take part; each joins the voice its embedding is nearest to.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Average cosine distance at which two groups stay apart, tuned on espeak-ng voices: one
# voice's sentences are about 0.1 apart, its closest pitch variant (en+f2 / en+f4) 0.18. Real
# voices vary more: a person may be split in two, whom a rename into one name merges again.
THRESHOLD = 0.16


def cluster_voices(embeddings: np.ndarray, *, threshold: float = THRESHOLD) -> list[int]:
    """A voice number per unit-length embedding, numbered in order of first appearance."""
    count = len(embeddings)
    if count == 0:
        return []
    distance = 1.0 - np.clip(embeddings @ embeddings.T, -1.0, 1.0).astype(np.float64)
    np.fill_diagonal(distance, np.inf)
    sizes = np.ones(count)
    members: dict[int, list[int]] = {i: [i] for i in range(count)}
    while len(members) > 1:
        flat = int(np.argmin(distance))
        a, b = divmod(flat, count)
        if distance[a, b] > threshold:
            break
        # Lance-Williams update for average linkage: the merged voice keeps index a.
        merged = (sizes[a] * distance[a] + sizes[b] * distance[b]) / (sizes[a] + sizes[b])
        distance[a], distance[:, a] = merged, merged
        distance[a, a] = np.inf
        distance[b], distance[:, b] = np.inf, np.inf
        sizes[a] += sizes[b]
        members[a] += members.pop(b)
    return _numbered({index: group for group, (_, indices) in enumerate(members.items()) for index in indices},
                     count)


def label_voices(embeddings: np.ndarray, reliable: Sequence[bool], *, threshold: float = THRESHOLD) -> list[int]:
    """Voice numbers for all utterances: the `reliable` ones (long enough) clustered, each
    other one given the voice whose mean embedding is nearest. With no reliable utterance
    all are clustered."""
    chosen = [i for i, ok in enumerate(reliable) if ok] or list(range(len(embeddings)))
    groups = cluster_voices(embeddings[chosen], threshold=threshold) if chosen else []
    if not groups:
        return []
    centroids = np.stack([embeddings[[i for i, g in zip(chosen, groups) if g == voice]].mean(axis=0)
                          for voice in range(max(groups) + 1)])
    nearest = np.argmax(embeddings @ centroids.T, axis=1)
    voice_of = dict(zip(chosen, groups))
    return _numbered({i: voice_of.get(i, int(nearest[i])) for i in range(len(embeddings))}, len(embeddings))


def _numbered(groups: dict[int, int], count: int) -> list[int]:
    """Group ids renumbered 0, 1, ... in order of each group's first utterance."""
    order: dict[int, int] = {}
    return [order.setdefault(groups[i], len(order)) for i in range(count)]
