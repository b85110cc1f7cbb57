"""Mail the English rules cannot read is said to be so, not taken for a calm mail."""

from __future__ import annotations

import pytest

from worker.core.detection import Detector, load_signals
from worker.core.language import foreign_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (
            "Das ist jetzt das dritte Mal, dass das Portal ausfällt. Ich bin sehr enttäuscht.",
            "German",
        ),
        (
            "Bonjour, je vous écris encore une fois: la facture est toujours fausse depuis mars.",
            "French",
        ),
        ("Es la tercera vez que les escribo y nadie me responde. Estoy harto.", "Spanish"),
        ("Buongiorno, vorrei sapere come cambiare il mio indirizzo della fattura.", "Italian"),
        ("Ik heb nog steeds geen antwoord op mijn vraag, dat is niet goed voor ons.", "Dutch"),
        ("Olá, ainda não recebi o meu reembolso e já é muito tarde.", "Portuguese"),
    ],
)
def test_mail_in_another_language_is_recognised(text: str, language: str) -> None:
    assert foreign_language(text) == language


@pytest.mark.parametrize(
    "text",
    [
        "Per our call on Mon, the van met the driver at the depot; see acme.com for the e-mail.",
        "The portal is down again and I am still waiting for a reply.",
        "Thanks, Abhishek",
        "lOmoeSnxjO1DIzwaLpgsyg y se lo el y se lo el y se lo el QmVyeXRoaW5n",
        "I ordered the paella con pollo and the tapas, muy bien, gracias.",
        "",
    ],
)
def test_english_and_noise_are_not_taken_for_another_language(text: str) -> None:
    assert foreign_language(text) is None


def test_the_decision_says_the_rules_could_not_read_the_mail() -> None:
    result = Detector(load_signals()).assess_text(
        "Das ist jetzt das dritte Mal, dass das Portal ausfällt. Ich bin sehr enttäuscht."
    )
    assert not result.is_complaint
    assert "language not read (German; the rules and the model read English)" in result.reasons
