"""English is the second language everywhere: the catalogue is complete and well-formed."""

import subprocess
from pathlib import Path

import pytest
from django.utils import translation

CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "en" / "LC_MESSAGES" / "django.po"


def test_english_catalogue_is_complete_and_placeholders_match(tmp_path):
    result = subprocess.run(
        ["msgfmt", "--check-format", "--statistics", "-o", str(tmp_path / "en.mo"), str(CATALOGUE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "translated message" in result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("chinese", "english"),
    [("我的信息", "My information"), ("登录", "Sign in"), ("能力模型", "Competency model")],
)
def test_compiled_catalogue_is_the_one_django_uses(chinese, english):
    with translation.override("en"):
        assert translation.gettext(chinese) == english
    with translation.override("zh-hans"):
        assert translation.gettext(chinese) == chinese
