"""The audio policy on each speech LLM architecture it supports, on tiny random models built offline with the real
processor classes: the audio reaches the model, SFT labels start at the answer whichever side pads, no special token
is sampled, SFT -> GRPO-PTR -> evaluate run (Qwen2.5-Omni also from the released full-checkpoint layout), and a
model that takes audio never becomes a text policy by default.

The Omni, Phi-4 and Gemma 3n processors need torchvision (Gemma 3n also timm), which does not import beside the CPU torch of the default
environment: those cases skip there (see docs/training.md, "The CPU-torch trap"). Voxtral needs mistral-common (the
voxtral extra) and skips where it is absent."""

from __future__ import annotations

import importlib.util
import json
import math
import os

import pytest

from emotioncot.train.architectures import AUDIO_ARCHITECTURES, detect_kind

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _config(tmp_path, **config):
    (tmp_path / "config.json").write_text(json.dumps(config))
    return str(tmp_path)


# -- which policy: never a silent text policy for a model that hears --------------------------------------------


def test_auto_picks_audio_for_every_supported_type(tmp_path):
    for mtype in AUDIO_ARCHITECTURES:
        assert detect_kind(_config(tmp_path, model_type=mtype)) == "audio", mtype


@pytest.mark.parametrize("config", [
    {"model_type": "gemma4", "audio_config": {"hidden_size": 8}},
    {"model_type": "granite_speech", "audio_token_index": 5},
    {"model_type": "future_omni", "thinker_config": {"audio_config": {}}},
])
def test_an_unsupported_model_that_takes_audio_is_an_error(tmp_path, config):
    with pytest.raises(ValueError) as err:
        detect_kind(_config(tmp_path, **config))
    message = str(err.value)
    assert config["model_type"] in message and str(tmp_path) in message
    assert all(t in message for t in AUDIO_ARCHITECTURES)  # names every supported type
    # asking for the text policy is the user's choice
    assert detect_kind(str(tmp_path), "text") == "text"


def test_audio_requested_for_an_unknown_type_names_the_supported_ones(tmp_path):
    path = _config(tmp_path, model_type="llama")
    assert detect_kind(path) == "text"
    with pytest.raises(ValueError, match="supported: .*qwen2_5_omni.*qwen3_omni_moe"):
        detect_kind(path, "audio")


# -- tiny models of each architecture ---------------------------------------------------------------------------

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

NEEDS_TORCHVISION = {"qwen2_5_omni", "qwen3_omni_moe", "phi4_multimodal", "gemma3n"}
TINY = ["qwen2_audio", "qwen2_5_omni", "qwen3_omni_moe", "audioflamingo3", "phi4_multimodal", "gemma3n", "voxtral"]


def _torchvision_ok() -> bool:
    if importlib.util.find_spec("torchvision") is None:
        return False
    try:
        import torchvision  # noqa: F401  (PyPI's torchvision fails to load its operators beside the CPU torch)
    except Exception:  # noqa: BLE001
        return False
    return True


@pytest.fixture(scope="module")
def tiny_models(demo_build, tmp_path_factory):
    """model_type -> folder, built on first use."""
    from emotioncot.train.tiny import build_tiny_audio_policy
    from emotioncot.train.tiny_speech import build_tiny_speech_policy

    built: dict = {}

    def get(mtype: str, full_layout: bool = False):
        if mtype in NEEDS_TORCHVISION and not _torchvision_ok():
            pytest.skip(f"{mtype}: its processor needs torchvision, which does not load here (CPU torch)")
        if mtype == "gemma3n" and importlib.util.find_spec("timm") is None:
            pytest.skip("gemma3n: its vision tower needs timm (the omni extra)")
        if mtype == "voxtral" and importlib.util.find_spec("mistral_common") is None:
            pytest.skip("voxtral: its tokenizer needs mistral-common (the voxtral extra)")
        key = (mtype, full_layout)
        if key not in built:
            out = tmp_path_factory.mktemp(f"tiny-{mtype}")
            built[key] = (build_tiny_audio_policy(demo_build, out) if mtype == "qwen2_audio"
                          else build_tiny_speech_policy(mtype, demo_build, out, full_layout=full_layout))
        return str(built[key])

    return get


def _policy(path):
    from emotioncot.train.config import TrainConfig
    from emotioncot.train.policies import load_policy

    return load_policy(path, TrainConfig().policy)


def _rows(demo_build, n=3):
    from emotioncot.train.data import load_split, prepare_audio

    return [dict(r) for r in prepare_audio(load_split(demo_build), with_sft=True).select(range(n))]


@pytest.mark.parametrize("mtype", TINY)
def test_the_audio_reaches_the_model(tiny_models, demo_build, mtype):
    from emotioncot.train.sft import AudioSFTCollator

    policy = _policy(tiny_models(mtype))
    assert policy.kind == "audio" and type(policy.model).__name__ == AUDIO_ARCHITECTURES[mtype].model_class
    batch = AudioSFTCollator(policy.adapter)(_rows(demo_build))
    audio = policy.adapter.audio_fields(batch)
    floats = {k: v for k, v in audio.items() if v.is_floating_point()}
    assert floats and all(v.numel() > 0 and v.abs().sum() > 0 for v in floats.values())
    # the audio token is expanded to one per encoder frame, in every row
    audio_id = policy.tokenizer.convert_tokens_to_ids(policy.adapter.audio_token)
    counts = (batch["input_ids"] == audio_id).sum(-1)
    assert bool((counts >= 10).all()), counts
    # zeroed features, other logits
    policy.model.eval()
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    with torch.no_grad():
        a = policy.model(**inputs).logits
        b = policy.model(**dict(inputs, **{k: torch.zeros_like(v) for k, v in floats.items()})).logits
    assert not torch.allclose(a, b)


@pytest.mark.parametrize("padding_side", ["left", "right"])
@pytest.mark.parametrize("mtype", ["qwen2_audio", "qwen2_5_omni"])
def test_sft_labels_start_exactly_at_the_answer(tiny_models, demo_build, mtype, padding_side):
    from emotioncot.train.sft import AudioSFTCollator

    policy = _policy(tiny_models(mtype))
    rows = _rows(demo_build, 4)
    batch = AudioSFTCollator(policy.adapter, padding_side=padding_side)(rows)
    mask, labels, ids = batch["attention_mask"], batch["labels"], batch["input_ids"]
    padded = (mask == 0).any(-1)
    assert padded.any()  # rows of different lengths: the padding side matters
    edge = 0 if padding_side == "left" else -1
    assert bool((mask[padded][:, edge] == 0).all())  # padded on the side asked for
    decode = policy.tokenizer.decode
    for i, row in enumerate(rows):
        kept = (labels[i] != -100).nonzero().flatten()
        first = int(kept[0])
        assert kept.tolist() == list(range(first, first + len(kept)))
        assert decode(ids[i][kept]) == row["messages"][-1]["content"] + "<|im_end|>\n"
        assert decode(ids[i][:first][mask[i][:first] == 1]).endswith("<|im_start|>assistant\n")


def _far_rows(demo_build, n=40):
    """The rows with the shortest and the longest answer among the first ``n``: the shorter is padded far."""
    rows = sorted(_rows(demo_build, n), key=lambda r: len(r["messages"][-1]["content"]))
    return [rows[0], rows[-1]]


def _padded_past_the_window(model, mask) -> bool:
    """Whether a row is padded by more than the sliding window: its last padded positions attend to padding only."""
    return int((mask == 0).sum(-1).max()) > model.config.get_text_config().sliding_window


def test_a_padded_gemma3n_batch_has_finite_gradients_and_each_rows_own_logits(tiny_models, demo_build):
    """Gemma 3n: the pad id's embedding is the zero padding_idx row; a padded position past the sliding window sees
    padding only and stays zero to the last layer, where the model takes sqrt(mean(x**2)) with no epsilon: fed as
    padded, every gradient was NaN. The padded positions get EOS instead; being masked and unlabelled, they leave
    each row's logits as they are with the row alone."""
    from emotioncot.train.sft import AudioSFTCollator

    policy = _policy(tiny_models("gemma3n"))
    model = policy.model
    collate = AudioSFTCollator(policy.adapter)
    rows = _far_rows(demo_build)
    batch = collate(rows)
    mask = batch["attention_mask"]
    assert _padded_past_the_window(model, mask)
    model.eval()  # no dropout: the logits below must be comparable
    model.zero_grad()
    out = model(**batch)
    out.loss.backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    nonfinite = [n for n, g in grads.items() if not torch.isfinite(g).all()]
    assert grads and not nonfinite, f"{len(nonfinite)} non-finite gradients: {nonfinite[:3]}"
    assert any(g.abs().sum() > 0 for g in grads.values())
    padding_idx = model.get_input_embeddings().padding_idx  # the padded positions hold another id
    assert padding_idx is not None and not (batch["input_ids"] == padding_idx).any()
    with torch.no_grad():
        for i, row in enumerate(rows):
            alone = collate([row])
            assert bool(alone["attention_mask"].all())
            own = model(**alone).logits[0]
            torch.testing.assert_close(out.logits[i][mask[i] == 1].detach(), own, atol=1e-4, rtol=1e-4)


def test_gemma3n_grpo_log_prob_pass_on_padded_completions_has_finite_gradients(tiny_models, demo_build):
    """GRPO's loss pass gets prompt + completion ids as TRL pads them (the pad id after a completion's end): the
    audio trainer's log-prob pass fills them as the SFT collator does."""
    from contextlib import nullcontext
    from types import SimpleNamespace

    from trl.trainer.utils import add_fused_lm_head

    from emotioncot.train.grpo import AudioGRPOPTRTrainer

    policy = _policy(tiny_models("gemma3n"))
    model = policy.model
    add_fused_lm_head(model)  # as TRL's GRPOTrainer patches the policy: the pass asks for fused log-probs
    rows = _far_rows(demo_build)
    encoded = policy.adapter.encode_chats([r["messages"] for r in rows], [r["audio"] for r in rows],
                                          add_generation_prompt=False, padding_side="right")
    ids, mask = encoded["input_ids"], encoded["attention_mask"]
    assert _padded_past_the_window(model, mask) and bool((ids[mask == 0] == policy.tokenizer.pad_token_id).all())
    keep = int((mask == 0).sum(-1).max()) + 8  # the "completion": the shorter row's is its padding and more
    trainer = SimpleNamespace(_audio=policy.adapter.audio_fields(encoded), adapter=policy.adapter,
                              accelerator=SimpleNamespace(autocast=nullcontext))
    model.zero_grad()
    logps, _, _ = AudioGRPOPTRTrainer._get_per_token_logps_and_entropies(trainer, model, ids, mask, keep)
    assert logps.shape == (len(rows), keep)
    (logps * mask[:, -keep:]).sum().backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    nonfinite = [n for n, g in grads.items() if not torch.isfinite(g).all()]
    assert grads and not nonfinite, f"{len(nonfinite)} non-finite gradients: {nonfinite[:3]}"


def test_no_special_token_is_sampled(tiny_models, demo_build):
    from emotioncot.train.policies import forbidden_token_ids

    policy = _policy(tiny_models("qwen2_audio"))
    tok = policy.tokenizer
    forbidden = policy.forbidden_token_ids()
    names = set(tok.convert_ids_to_tokens(forbidden))
    assert {"<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>", "<|im_start|>", "<|endoftext|>"} <= names
    assert "<|im_end|>" not in names and "<think>" not in names and "<answer>" not in names
    assert forbidden_token_ids(tok, [tok.eos_token_id, tok.pad_token_id]) == sorted(
        set(forbidden) - {tok.pad_token_id})
    # a model that prefers them: sampled without suppression, never with it
    _assert_suppressed(policy, demo_build, tok.convert_tokens_to_ids(["<|audio_bos|>", "<|im_start|>"]), forbidden)


def _assert_suppressed(policy, demo_build, boost: list[int], forbidden: list[int]):
    """With ``boost`` made likely, sampling picks one of them; with ``forbidden`` suppressed, none of those."""
    lm_head = policy.model.get_output_embeddings()

    def prefer(_module, _inputs, logits):
        logits[..., boost] += 30.0
        return logits

    hook = lm_head.register_forward_hook(prefer)
    rows = _rows(demo_build, 2)
    inputs = policy.adapter.encode_chats([r["messages"][:-1] for r in rows], [r["audio"] for r in rows],
                                         add_generation_prompt=True, padding_side="left")
    policy.model.eval()
    try:
        with torch.no_grad():
            plain = policy.model.generate(**inputs, max_new_tokens=6, do_sample=True)
            kept = policy.model.generate(**inputs, max_new_tokens=6, do_sample=True, suppress_tokens=forbidden)
    finally:
        hook.remove()
    n = inputs["input_ids"].shape[1]
    assert torch.isin(plain[:, n:], torch.tensor(boost)).any()
    assert not torch.isin(kept[:, n:], torch.tensor(forbidden)).any()


def _cpu_config():
    from emotioncot.train.config import TrainConfig

    cfg = TrainConfig(use_cpu=True)
    cfg.sft.per_device_train_batch_size = 2
    cfg.sft.max_steps = cfg.sft.save_steps = 2
    cfg.sft.max_length = 512
    cfg.sft.logging_steps = cfg.grpo.logging_steps = 1
    g = cfg.grpo
    g.per_device_train_batch_size, g.num_generations, g.max_completion_length = 4, 2, 8
    g.max_steps = g.save_steps = 2
    cfg.ptr.switch.enabled_from_start = True
    return cfg


def _history(folder):
    return json.loads((folder / "checkpoint-2" / "trainer_state.json").read_text())["log_history"]


def _assert_finite_gradients(folder):
    """Every logged step's gradient norm is a number: a NaN one turns every weight NaN at that step's update."""
    norms = [float(e["grad_norm"]) for e in _history(folder) if "grad_norm" in e]
    assert norms and all(math.isfinite(x) for x in norms), norms


@pytest.mark.parametrize("mtype", ["qwen2_5_omni", "qwen3_omni_moe", "audioflamingo3", "phi4_multimodal", "gemma3n",
                                   "voxtral"])
def test_sft_grpo_evaluate(tiny_models, demo_build, tmp_path, mtype):
    from emotioncot.train.evaluate import run_evaluate
    from emotioncot.train.grpo import run_grpo_ptr
    from emotioncot.train.sft import run_sft

    cfg = _cpu_config()
    if mtype == "voxtral":  # every clip is padded to 30 s: 375 audio tokens before the text
        cfg.sft.max_length = 1024
    sft = run_sft(demo_build, tiny_models(mtype), tmp_path / "sft", cfg)
    assert sft["policy"] == "audio" and sft["global_step"] == 2
    losses = [e["loss"] for e in _history(tmp_path / "sft") if "loss" in e]
    assert losses and all(0 < float(x) < 100 for x in losses)
    _assert_finite_gradients(tmp_path / "sft")
    saved = json.loads((tmp_path / "sft" / "config.json").read_text())
    if AUDIO_ARCHITECTURES[mtype].moe:  # SFT trained with the router aux loss; the saved model returns no router logits
        assert any("aux_loss" in e for e in _history(tmp_path / "sft"))
        assert saved["text_config"]["output_router_logits"] is False
    grpo = run_grpo_ptr(demo_build, str(tmp_path / "sft"), tmp_path / "grpo", cfg)
    assert grpo["policy"] == "audio" and grpo["global_step"] == 2
    assert all(e["completions/mean_length"] > 0 for e in _history(tmp_path / "grpo") if "completions/mean_length" in e)
    _assert_finite_gradients(tmp_path / "grpo")
    report = run_evaluate(demo_build, str(tmp_path / "grpo"), limit=2, max_new_tokens=4, progress=False)
    assert report["n"] == 2 and report["policy"] == "audio"


def test_grpo_from_the_released_omni_checkpoint_layout(tiny_models, demo_build, tmp_path):
    """Released Qwen2.5-Omni checkpoints hold thinker + talker + token2wav; the policy and TRL's KL reference are
    the Thinker, with the checkpoint's weights."""
    from safetensors.torch import load_file

    from emotioncot.train.grpo import run_grpo_ptr

    path = tiny_models("qwen2_5_omni", full_layout=True)
    config = json.loads(open(os.path.join(path, "config.json")).read())
    assert config["model_type"] == "qwen2_5_omni" and "talker_config" in config
    policy = _policy(path)
    weights = load_file(os.path.join(path, "model.safetensors"))
    key = "model.language_model.layers.0.self_attn.q_proj.weight"
    assert torch.equal(policy.model.state_dict()[key], weights["thinker.model.layers.0.self_attn.q_proj.weight"])
    cfg = _cpu_config()
    assert cfg.grpo.beta > 0  # the reference model is built
    summary = run_grpo_ptr(demo_build, path, tmp_path / "grpo", cfg)
    assert summary["global_step"] == 2
    assert json.loads((tmp_path / "grpo" / "config.json").read_text())["model_type"] == "qwen2_5_omni_thinker"


# -- Voxtral: the chat goes through mistral-common, not a text template -------------------------------------------


def test_voxtral_without_mistral_common_names_the_extra(demo_build):
    """Where mistral-common is absent, transformers loads Voxtral's tekken.json as a plain tokenizer with no chat
    format: the adapter refuses it at once, naming the extra, instead of failing inside the trainer."""
    from transformers import VoxtralProcessor, WhisperFeatureExtractor

    from emotioncot.train.tiny import _export_texts, build_tokenizer
    from emotioncot.train.voxtral import VoxtralAdapter

    processor = VoxtralProcessor(WhisperFeatureExtractor(feature_size=128), build_tokenizer(_export_texts(demo_build)))
    with pytest.raises(ImportError, match=r"emotioncot\[voxtral\]"):
        VoxtralAdapter(processor)


@pytest.mark.parametrize("padding_side", ["left", "right"])
def test_voxtral_sft_labels_start_exactly_at_the_answer(tiny_models, demo_build, padding_side):
    """The full chat is what mistral-common's fine-tuning mode encodes (the answer closed with </s>), the audio is
    where the <audio> placeholder was, and the labels cover the answer and </s> only."""
    from emotioncot.train.sft import AudioSFTCollator

    path = tiny_models("voxtral")  # skips where mistral-common is absent
    from mistral_common.protocol.instruct.request import ChatCompletionRequest
    from mistral_common.protocol.instruct.validator import ValidationMode
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    policy = _policy(path)
    rows = _rows(demo_build, 4)
    batch = AudioSFTCollator(policy.adapter, padding_side=padding_side)(rows)
    mask, labels, ids = batch["attention_mask"], batch["labels"], batch["input_ids"]
    padded = (mask == 0).any(-1)
    assert padded.any()
    edge = 0 if padding_side == "left" else -1
    assert bool((mask[padded][:, edge] == 0).all())
    finetuning = MistralTokenizer.from_file(os.path.join(path, "tekken.json"), mode=ValidationMode.finetuning)
    decode = policy.tokenizer.decode
    for i, row in enumerate(rows):
        real = ids[i][mask[i] == 1]
        conversation = policy.adapter.conversation(row["messages"], policy.adapter.wav_base64(row["audio"]))
        for message in conversation:  # the audio part in mistral-common's own (OpenAI) form
            if isinstance(message["content"], list):
                message["content"] = [{"type": "audio_url", "audio_url": {"url": p["base64"]}} if p["type"] == "audio"
                                      else p for p in message["content"]]
        expected = finetuning.encode_chat_completion(ChatCompletionRequest.from_openai(conversation)).tokens
        assert real.tolist() == expected
        kept = (labels[i] != -100).nonzero().flatten()
        first = int(kept[0])
        assert kept.tolist() == list(range(first, first + len(kept)))
        assert decode(ids[i][kept], skip_special_tokens=False) == row["messages"][-1]["content"] + "</s>"
        prompt = decode(ids[i][:first][mask[i][:first] == 1], skip_special_tokens=False)
        assert prompt.endswith("[/INST]") and "[INST][BEGIN_AUDIO][AUDIO]" in prompt
        assert "<audio>" not in prompt


def test_voxtral_samples_no_control_token(tiny_models, demo_build):
    policy = _policy(tiny_models("voxtral"))
    tok = policy.tokenizer
    forbidden = policy.forbidden_token_ids()
    names = set(tok.convert_ids_to_tokens(forbidden))
    assert {"[AUDIO]", "[BEGIN_AUDIO]", "[INST]", "[/INST]", "<s>", "<pad>"} <= names
    assert "</s>" not in names and tok.eos_token_id not in forbidden
    _assert_suppressed(policy, demo_build, tok.convert_tokens_to_ids(["[AUDIO]", "[INST]", "[BEGIN_AUDIO]"]),
                       forbidden)


def test_voxtral_prompts_are_what_its_processor_makes(tiny_models, demo_build):
    """The adapter's ids and features for a prompt equal VoxtralProcessor.apply_chat_template's on the same chat."""
    policy = _policy(tiny_models("voxtral"))
    adapter = policy.adapter
    row = _rows(demo_build, 1)[0]
    prompt = row["messages"][:-1]
    ours = adapter.encode_chats([prompt], [row["audio"]], add_generation_prompt=True)
    theirs = policy.processing_class.apply_chat_template(adapter.conversation(prompt, adapter.wav_base64(row["audio"])))
    assert ours["input_ids"].tolist() == theirs["input_ids"].tolist()
    assert ours["input_features"].shape == theirs["input_features"].shape == (1, 128, 3000)
    assert torch.allclose(ours["input_features"], theirs["input_features"])
