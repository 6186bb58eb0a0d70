from pathlib import Path

import pytest

from inbox_agent.config import REPO_ROOT, ConfigError, load_settings

MINIMAL = """
secret_key = "0123456789abcdef0123"
[imap]
username = "info@shop.example"
[smtp]
from_address = "info@shop.example"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_example_config_loads_with_secrets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INBOX_AGENT_SECRET_KEY", "0123456789abcdef0123")
    monkeypatch.setenv("INBOX_AGENT_IMAP__PASSWORD", "from-env")
    settings = load_settings(REPO_ROOT / "config.example.toml")
    assert settings.imap is not None and settings.imap.password is not None
    assert settings.imap.password.get_secret_value() == "from-env"
    assert "from-env" not in repr(settings)
    assert [r.name for r in settings.shop.recipients] == ["Meer dan Online", "Mollie", "PostNL", "WooCommerce",
                                                          "Google Analytics"]


def test_environment_overrides_nested_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INBOX_AGENT_IMAP__PORT", "1143")
    settings = load_settings(write(tmp_path, MINIMAL))
    assert settings.imap is not None and settings.imap.port == 1143


def test_password_file_outside_the_repo(tmp_path: Path) -> None:
    secret = tmp_path / "imap.secret"
    secret.write_text("s3cret\n")
    settings = load_settings(write(tmp_path, MINIMAL.replace('[smtp]', f'password_file = "{secret}"\n[smtp]')))
    assert settings.imap is not None and settings.imap.password is not None
    assert settings.imap.password.get_secret_value() == "s3cret"


@pytest.mark.parametrize(("text", "expected"), [
    (MINIMAL.replace('username = "info@shop.example"', ""), "imap.username: missing required key"),
    (MINIMAL + "\n[imap2]\nx=1\n", "imap2: unknown key (typo?)"),
    (MINIMAL.replace('[imap]', '[imap]\nsecurity = "ssl"'), "imap.security: Input should be 'tls', 'starttls'"),
    (MINIMAL.replace('secret_key = "0123456789abcdef0123"', ""), "secret_key missing"),
    (MINIMAL + "\n[smtp\n", "config.toml"),
    (MINIMAL.replace('[imap]', '[imap]\npassword_file = "/nonexistent/secret"'), "cannot read secret file"),
])
def test_bad_config_gives_one_clear_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text))
    assert any(expected in line for line in err.value.problems), err.value.problems


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")
