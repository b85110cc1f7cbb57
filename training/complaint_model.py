"""Rebuild the shipped complaint model (worker/defaults/complaint_model.json) from scratch,
or learn one from a team's own labelled mail.

Needs scikit-learn (``pip install -e '.[training]'``). The shipped model learns from six
public sets, each under a licence that allows training and shipping the result
(training/README.md says where each comes from). Every row is labelled by its source's own
label, mapped as the constants below say; nothing is labelled by hand, and no evaluation set
(bench/data/mail_eval, the Preotiuc-Pietro corpus, CFPB narratives, airline tweets, the
SpamAssassin corpus) is read.

    python training/complaint_model.py --goemotions DIR --banking77 DIR --nlupp DIR \
        --clinc data_full.json --uci amazon_cells_labelled.txt yelp_labelled.txt \
        --peps DIR [--out FILE]
    python training/complaint_model.py --labelled my-mail.jsonl --out my-model.json

``--labelled`` reads one JSON object a line, ``{"text": "...", "complaint": true}``, and may be
given alone or beside the public sets. Deterministic: the same inputs give the same file.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.detection import Quality  # noqa: E402
from worker.core.learned import FORMAT, ComplaintModel, features, sentences  # noqa: E402

#: GoEmotions label ids (its labels.txt order) read as dissatisfaction, and those too
#: mixed to be either side (sadness, fear, disapproval of anything at all...).
GOEMOTIONS_COMPLAINT = {2, 3, 9}  # anger, annoyance, disappointment
GOEMOTIONS_LEFT_OUT = {10, 11, 12, 14, 16, 19, 24, 25}
#: Banking77 intents in which the client states money lost, taken or not arrived: the
#: harm the product counts as a complaint ("I was charged twice"). Intents about a
#: failure still under way or a plain question are routine work; the waiting ones
#: (pending_*, card_arrival) read either way and are left out.
BANKING_COMPLAINT = {
    "transaction_charged_twice", "extra_charge_on_statement", "wrong_amount_of_cash_received",
    "Refund_not_showing_up", "balance_not_updated_after_bank_transfer",
    "balance_not_updated_after_cheque_or_cash_deposit", "transfer_not_received_by_recipient",
    "card_payment_wrong_exchange_rate", "wrong_exchange_rate_for_cash_withdrawal",
    "cash_withdrawal_not_recognised", "card_payment_not_recognised",
    "direct_debit_payment_not_recognised", "card_swallowed", "top_up_reverted",
    "card_payment_fee_charged", "cash_withdrawal_charge", "transfer_fee_charged",
}  # fmt: skip
BANKING_LEFT_OUT = {
    "pending_card_payment", "pending_cash_withdrawal", "pending_top_up", "pending_transfer",
    "card_arrival", "compromised_card", "lost_or_stolen_card", "lost_or_stolen_phone",
    "reverted_card_payment?", "request_refund",
}  # fmt: skip
#: CLINC150 intents in which the client states a harm done to them ("my bag was lost").
CLINC_COMPLAINT = {"lost_luggage"}
#: NLU++ intents in which something was lost or stolen, or a person is asked for: they read
#: either way and are left out; the rest (questions, requests, bookings, problems under
#: way, small talk) is routine work.
NLUPP_LEFT_OUT = {"lost_stolen", "handoff"}
#: Weight of each source's rows, so that no one source's style decides alone.
SOURCE_WEIGHT = {
    "labelled": 1.0,
    "goemotions": 0.3,
    "banking77": 2.0,
    "clinc": 0.5,
    "uci": 2.0,
    "nlupp": 1.0,
    "peps": 1.0,
}
#: Regularisation (inverse strength) and the phrases kept in the shipped file.
C = 0.5
KEEP = 25_000


@dataclass(frozen=True)
class Example:
    text: str
    complaint: bool
    source: str
    split: str  # "train" or "validation"


def goemotions(folder: Path) -> Iterable[Example]:
    for name, split in (("train.tsv", "train"), ("dev.tsv", "validation")):
        with open(folder / name, encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                labels = {int(x) for x in row[1].split(",")}
                if labels & GOEMOTIONS_LEFT_OUT:
                    continue
                yield Example(row[0], bool(labels & GOEMOTIONS_COMPLAINT), "goemotions", split)


def banking77(folder: Path) -> Iterable[Example]:
    for name, split in (("train.csv", "train"), ("test.csv", "validation")):
        with open(folder / name, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["category"] in BANKING_LEFT_OUT:
                    continue
                yield Example(row["text"], row["category"] in BANKING_COMPLAINT, "banking77", split)


def clinc(path: Path) -> Iterable[Example]:
    """Requests to an assistant, in and out of scope: routine but for ``CLINC_COMPLAINT``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for part, split in (("train", "train"), ("oos_train", "train"), ("val", "validation")):
        for text, intent in data[part]:
            yield Example(text, intent in CLINC_COMPLAINT, "clinc", split)


def nlupp(folder: Path) -> Iterable[Example]:
    """Banking and hotel requests (fold 0 to 15 learnt, 16 to 19 validation)."""
    for path in sorted(folder.glob("*fold*.json")):
        fold = int(path.stem.rpartition("fold")[2])
        for row in json.loads(path.read_text(encoding="utf-8")):
            if set(row.get("intents", ())) & NLUPP_LEFT_OUT:
                continue
            yield Example(row["text"], False, "nlupp", "validation" if fold >= 16 else "train")


#: A PEP's licence line; only PEPs that carry one are read.
_PEP_LICENCE = re.compile(r"placed in the public domain|CC0-1\.0", re.I)
#: Sentences shorter than this are headings and list items, not prose.
PEP_MIN_WORDS = 5
#: Every how many sentences of a PEP one is kept: the PEPs hold 80,000, more than all
#: the other sources together.
PEP_EVERY = 4
_PEP_SKIP = re.compile(r"^\s*(\.\.|:|[=\-~^*+#`]{3,}|\||\+-)")


def peps(folder: Path) -> Iterable[Example]:
    """Python Enhancement Proposals: technical prose about problems, none of it a complaint.

    Code blocks, directives, tables and headings are dropped; each paragraph is cut into
    sentences (as the worker reads a mail).
    """
    for path in sorted(folder.glob("pep-*.rst")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if not _PEP_LICENCE.search(text):
            continue
        split = "validation" if int(path.stem.split("-")[1]) % 5 == 0 else "train"
        found = [s for p in _prose(text) for s in sentences(p) if len(s.split()) >= PEP_MIN_WORDS]
        for sentence in found[::PEP_EVERY]:
            yield Example(sentence, False, "peps", split)


def _prose(text: str) -> Iterable[str]:
    """Paragraphs of running text: not code (indented after "::"), directives or tables."""
    paragraph: list[str] = []
    in_code = False
    for line in [*text.splitlines(), ""]:
        if in_code and (not line.strip() or line[:1].isspace()):
            continue
        in_code = False
        if not line.strip() or _PEP_SKIP.match(line) or line[:1].isspace():
            if paragraph:
                yield " ".join(paragraph)
            paragraph = []
            continue
        paragraph.append(line.strip())
        if line.rstrip().endswith("::"):
            yield " ".join(paragraph)
            paragraph = []
            in_code = True


def uci(paths: Sequence[Path]) -> Iterable[Example]:
    """Review sentences about products and businesses; a negative one is dissatisfaction."""
    for path in paths:
        text = path.read_bytes().decode("utf-8", "replace").replace("\r", "\n")
        for n, line in enumerate(text.splitlines()):
            sentence, _, label = line.rpartition("\t")
            if sentence.strip() and label.strip() in {"0", "1"}:
                split = "validation" if n % 5 == 0 else "train"
                yield Example(sentence.strip(), label.strip() == "0", "uci", split)


def labelled(path: Path) -> Iterable[Example]:
    """A team's own labelled text; every fifth line is kept for validation.

    The lines of ``recovery-worker classify --with-text`` can be used as they are once a
    ``"complaint"`` is added; a line without one (or with null) is not labelled yet and is
    left out, so a file can be labelled a part at a time.
    """
    unlabelled = 0
    with open(path, encoding="utf-8") as handle:
        for n, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            not_a_row = f'{path} line {n}: not {{"text": ..., "complaint": ...}}'
            try:
                row = json.loads(line)
            except ValueError:
                raise SystemExit(not_a_row) from None
            if not isinstance(row, dict):
                raise SystemExit(not_a_row)
            text, complaint = row.get("text"), row.get("complaint")
            if complaint is None:
                unlabelled += 1
                continue
            if not isinstance(text, str) or not isinstance(complaint, bool):
                raise SystemExit(f"{path} line {n}: text must be text and complaint true/false")
            yield Example(text, complaint, "labelled", "validation" if n % 5 == 0 else "train")
    if unlabelled:
        print(f"{path}: {unlabelled} line(s) without a complaint label left out", file=sys.stderr)


def train(examples: Sequence[Example]) -> tuple[float, dict[str, float]]:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = [e for e in examples if e.split == "train"]
    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform([dict.fromkeys(features(e.text), 1) for e in rows])
    y = [int(e.complaint) for e in rows]
    weights = [SOURCE_WEIGHT[e.source] for e in rows]
    model = LogisticRegression(C=C, max_iter=2_000, solver="lbfgs", class_weight="balanced")
    model.fit(x, y, sample_weight=weights)
    names = vectorizer.get_feature_names_out()
    pairs = sorted(zip(names, model.coef_[0], strict=True), key=lambda p: (-abs(p[1]), p[0]))[:KEEP]
    return float(model.intercept_[0]), {str(n): round(float(w), 4) for n, w in sorted(pairs)}


def report(examples: Sequence[Example], bias: float, weights: dict[str, float]) -> None:
    """Validation figures per source, on rows the model did not learn from."""
    model = ComplaintModel(bias, weights)
    for source in sorted({e.source for e in examples}):
        rows = [e for e in examples if e.split == "validation" and e.source == source]
        counts: Counter[tuple[bool, bool]] = Counter(
            (model.judge(e.text).probability >= 0.5, e.complaint) for e in rows
        )
        quality = Quality(
            counts[True, True], counts[True, False], counts[False, True], counts[False, False]
        )
        print(
            f"{source}: {len(rows)} validation rows, precision {quality.precision:.3f}, "
            f"recall {quality.recall:.3f}, others flagged {quality.flagged_share:.1%}",
            file=sys.stderr,
        )


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--goemotions", type=Path, help="folder with train.tsv and dev.tsv")
    parser.add_argument("--banking77", type=Path, help="folder with train.csv and test.csv")
    parser.add_argument("--nlupp", type=Path, help="folder of NLU++ fold*.json")
    parser.add_argument("--clinc", type=Path, help="oos-eval data_full.json")
    parser.add_argument("--uci", type=Path, nargs="+", help="amazon_cells and yelp _labelled.txt")
    parser.add_argument("--peps", type=Path, help="folder of pep-*.rst files")
    parser.add_argument("--labelled", type=Path, help="JSON lines of text and complaint")
    parser.add_argument(
        "--out", type=Path, default=REPO / "worker" / "defaults" / "complaint_model.json"
    )
    args = parser.parse_args(list(argv))
    readers: dict[str, Callable[[Any], Iterable[Example]]] = {
        "goemotions": goemotions,
        "banking77": banking77,
        "nlupp": nlupp,
        "clinc": clinc,
        "uci": uci,
        "peps": peps,
        "labelled": labelled,
    }
    given = [name for name in readers if getattr(args, name) is not None]
    if not given:
        parser.error("give at least one set to learn from")
    examples = [e for name in given for e in readers[name](getattr(args, name))]
    if len({e.complaint for e in examples if e.split == "train"}) < 2:
        parser.error("the sets hold only complaints or only other mail: a model needs both")
    bias, weights = train(examples)
    report(examples, bias, weights)
    document = {
        "format": FORMAT,
        "trained_on": ", ".join(given),
        "bias": round(bias, 4),
        "weights": weights,
    }
    text = json.dumps(document, indent=0, sort_keys=True, ensure_ascii=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(weights)} phrases", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
