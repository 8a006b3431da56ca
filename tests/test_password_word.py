"""One Danish word for password: "adgangskode", in the portal's texts and in the allauth pages
it uses (allauth's own Danish says "password", Django's "kodeord" in places)."""

import re
from pathlib import Path

import allauth
import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from sectors.allauth_texts import ALLAUTH_PASSWORD_TEXTS

BASE_DIR = Path(__file__).resolve().parents[1]
OTHER_WORDS = re.compile(r"(?i)password|kodeord")


def _danish(path: Path) -> polib.POFile:
    return polib.pofile(str(path))


def test_the_portals_danish_catalogue_says_adgangskode():
    wrong = [
        (entry.msgid, entry.msgstr)
        for entry in _danish(BASE_DIR / "locale" / "da" / "LC_MESSAGES" / "django.po")
        if OTHER_WORDS.search(entry.msgstr) or any(OTHER_WORDS.search(s) for s in entry.msgstr_plural.values())
    ]
    assert wrong == []


def test_every_allauth_text_that_says_password_in_danish_is_taken_over():
    allauth_da = Path(allauth.__file__).parent / "locale" / "da" / "LC_MESSAGES" / "django.po"
    says_password = {
        entry.msgid
        for entry in _danish(allauth_da)
        if OTHER_WORDS.search(entry.msgstr) and "signup" not in entry.msgid  # sign-up is closed
    }
    assert says_password
    assert says_password <= set(ALLAUTH_PASSWORD_TEXTS)


def _visible_text(html: str) -> str:
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.django_db
@pytest.mark.parametrize("signed_in", [False, True])
def test_the_danish_password_pages_say_adgangskode(client, gp, signed_in):
    """Needs the compiled catalogue with the Danish of ``ALLAUTH_PASSWORD_TEXTS``."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "da"
    if signed_in:
        client.force_login(gp)
        url = reverse("account_change_password")
    else:
        url = reverse("account_reset_password")
    response = client.get(url)
    assert response.status_code == 200
    text = _visible_text(response.content.decode())
    assert "adgangskode" in text.lower()
    assert not OTHER_WORDS.search(text), OTHER_WORDS.findall(text)


def test_allauths_texts_are_translated_in_the_portal_catalogue():
    """Needs the compiled catalogue with the Danish of ``ALLAUTH_PASSWORD_TEXTS``."""
    with translation.override("da"):
        for text in ALLAUTH_PASSWORD_TEXTS:
            assert not OTHER_WORDS.search(translation.gettext(text)), text
