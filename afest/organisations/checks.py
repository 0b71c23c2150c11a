"""What a structure's identifiers must be: SIRET (with its Luhn key), département, category.

Each check takes what someone typed or a spreadsheet held and answers the value to store, or
raises ValueError whose message (French, lazy) is shown beside the field or on the import
row. Forms, the import and the operations all call these, so they cannot disagree.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError
from stdnum.fr import siret as stdnum_siret

from afest.core.tabular import header_key

# Metropolitan départements (20 was split into 2A and 2B in 1976) and the five overseas
# ones; 975 (Saint-Pierre-et-Miquelon) and 977-988 are collectivités, not départements.
DEPARTEMENTS = frozenset(
    [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B", "971", "972", "973", "974", "976"]
)

CATEGORIES = {
    "EHPAD": _l("EHPAD"),
    "SAAD": _l("SAAD (aide et soins à domicile)"),
    "ESMS": _l("Autre ESMS (établissement ou service social ou médico-social)"),
    "hospital": _l("Établissement de santé (hôpital, clinique)"),
}
# What people write in a spreadsheet's category column (compared as header_key does).
CATEGORY_WORDS = {
    "ehpad": "EHPAD",
    "saad": "SAAD",
    "sad": "SAAD",
    "ssiad": "SAAD",
    "aide a domicile": "SAAD",
    "esms": "ESMS",
    "hospital": "hospital",
    "hopital": "hospital",
    "etablissement de sante": "hospital",
    "clinique": "hospital",
    "ch": "hospital",
    "chu": "hospital",
}
CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,39}")


def siret(text: str | None) -> str:
    """The 14 digits of a SIRET (spaces, dots and dashes dropped), key checked."""
    digits = re.sub(r"[\s.\-]", "", text or "")
    if not digits:
        raise ValueError(_l("Indiquez le SIRET."))
    if re.fullmatch(r"\d+([,.]\d+)?[eE]\+?\d+", (text or "").strip()):
        raise ValueError(
            _l(
                "SIRET illisible (%(text)s) : le tableur l'a écrit en notation scientifique ; "
                "mettez la colonne au format Texte.",
                text=(text or "").strip()[:20],
            )
        )
    if not digits.isdigit():
        raise ValueError(_l("Un SIRET ne contient que des chiffres."))
    try:
        return stdnum_siret.validate(digits)
    except InvalidLength:
        raise ValueError(_l("Un SIRET a 14 chiffres (ici %(n)s).", n=len(digits))) from None
    except InvalidChecksum:
        raise ValueError(
            _l("Ce SIRET n'est pas valide : sa clé de contrôle ne correspond pas. Vérifiez-le.")
        ) from None
    except ValidationError:
        raise ValueError(_l("Ce SIRET n'est pas valide.")) from None


def departement(text: str | None) -> str:
    """A département code as stored: "6" (a spreadsheet dropped the zero) → "06", "2a" → "2A"."""
    code = (text or "").strip().upper()
    if not code:
        raise ValueError(_l("Indiquez le département."))
    if code.isdigit() and len(code) == 1:
        code = "0" + code
    if code not in DEPARTEMENTS:
        raise ValueError(
            _l(
                "Département inconnu : %(code)s. Attendu : 01 à 95, 2A, 2B, 971 à 974 ou 976.",
                code=code[:10],
            )
        )
    return code


def category(text: str | None) -> str:
    """A category as stored (EHPAD, SAAD, ESMS, hospital), from its code or a common word."""
    raw = (text or "").strip()
    if not raw:
        raise ValueError(_l("Indiquez la catégorie."))
    if raw in CATEGORIES:
        return raw
    found = CATEGORY_WORDS.get(header_key(raw))
    if found is None:
        raise ValueError(
            _l(
                "Catégorie inconnue : %(text)s. Attendu : EHPAD, SAAD, ESMS ou hôpital.",
                text=raw[:40],
            )
        )
    return found


def body_code(text: str | None) -> str:
    """An OPCO's or support body's short code, in capitals: what an import names it by."""
    code = (text or "").strip().upper()
    if not code:
        raise ValueError(_l("Indiquez un code court."))
    if not CODE.fullmatch(code):
        raise ValueError(
            _l("Un code tient en 40 lettres, chiffres, tirets ou soulignés, sans espace.")
        )
    return code
