from pathlib import Path

import pytest

from inbox_agent.config import REPO_ROOT, ConfigError, load_settings
from inbox_agent.fictitious_shop import FICTITIOUS_SHOP, shop_toml

MINIMAL = f"""
secret_key = "0123456789abcdef0123"
[imap]
username = "info@shop.example"
[smtp]
from_address = "info@shop.example"
{shop_toml()}"""


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
    assert "from-env" not in repr(settings) and settings.shop is not None
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
    (MINIMAL + "\n[imap2]\nx=1\n", "unknown key imap2 in the top level: did you mean imap?"),
    (MINIMAL + "\n[policy]\ntrusted_authserv_id = ['mx.shop.example']\n",
     "unknown key trusted_authserv_id in [policy]: did you mean trusted_authserv_ids?"),
    (MINIMAL.replace('[imap]', '[imap]\npasword = "x"'), "unknown key pasword in [imap]: did you mean password?"),
    (MINIMAL + "\n[[mailboxes]]\nname = 'b'\n[mailboxes.imap]\nusername = 'b'\nhots = 'x'\n",
     "unknown key hots in [mailboxes[0].imap]: did you mean host?"),
    (MINIMAL.replace("[shop]", "[shop]\nlanguage = 'nl'"), "unknown key language in [shop]"),
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


def test_every_unknown_key_is_reported_not_only_the_first(tmp_path: Path) -> None:
    text = MINIMAL.replace('[imap]', '[imap]\npasword = "x"') + "\n[policy]\ntrusted_authserv_id = []\n"
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text))
    assert len([p for p in err.value.problems if p.startswith("unknown key")]) == 2


def test_an_empty_trusted_host_list_is_a_loud_warning(tmp_path: Path) -> None:
    from inbox_agent.config import warnings

    assert any("every sender counts as unproven" in w for w in warnings(load_settings(write(tmp_path, MINIMAL))))
    trusted = load_settings(write(tmp_path, MINIMAL + "\n[policy]\ntrusted_authserv_ids = ['mx.shop.example']\n"))
    assert not any("trusted_authserv_ids" in w for w in warnings(trusted))


TWO_SHOPS = """
secret_key = "0123456789abcdef0123"
[smtp]
from_address = "privacy@host.example"
[[mailboxes]]
name = "toppers"
imap = { username = "toppers" }
woocommerce = { url = "https://a.example", consumer_key = "ck_a", consumer_secret = "cs_a" }
[mailboxes.shop]
name = "Shop A"
operator = "A BV"
privacy_contact = "privacy@a.example"
privacy_officer = "A. Officer"
postal_address = "Straat 1, 1000 AA Ergens"
website = "https://a.example/"
reference_prefix = "SA"
[[mailboxes]]
name = "zeilen"
imap = { username = "zeilen" }
[mailboxes.shop]
name = "Shop B"
operator = "B BV"
privacy_contact = "privacy@b.example"
privacy_officer = "B. Officer"
postal_address = "Straat 2, 1000 AA Ergens"
website = "https://b.example/"
reference_prefix = "SB"
"""


def test_each_shop_has_its_own_webshop_and_check_config_names_one_without(tmp_path: Path) -> None:
    from inbox_agent.config import warnings

    settings = load_settings(write(tmp_path, TWO_SHOPS))
    a = settings.webshop("toppers")
    assert a is not None and a.url == "https://a.example"
    assert settings.webshop("zeilen") is None  # never shop A's webshop
    assert [w for w in warnings(settings) if "webshop" in w] == [
        "mailbox zeilen (Shop B) has no webshop connected ([woocommerce]): access packages hold only the registry "
        "and our mail, and webshop steps become manual tasks"]


def test_one_top_level_webshop_for_several_shops_is_refused(tmp_path: Path) -> None:
    text = TWO_SHOPS + '[woocommerce]\nurl = "https://a.example"\n'
    with pytest.raises(ConfigError, match=r"\[woocommerce\] at the top is the short form for one shop"):
        load_settings(write(tmp_path, text))


def test_the_short_form_serves_the_one_shop(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL + '[woocommerce]\nurl = "https://a.example"\n'))
    webshop = settings.webshop("default")
    assert webshop is not None and webshop.url == "https://a.example"


@pytest.mark.parametrize("key", [key for key in FICTITIOUS_SHOP if key != "recipients"])
def test_a_shop_names_itself_there_are_no_shop_defaults(tmp_path: Path, key: str) -> None:
    """The settings once defaulted to Kleine Toppers, Luminet, M. Derks, Coevorden: a config without those
    lines answered customers as that real shop. Now each is required, and check-config names the field
    and the shop in one line."""
    text = MINIMAL.replace(shop_toml(), shop_toml().replace(f"\n{key} = ", f"\n# {key} = "))
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text))
    shop = "" if key == "name" else ' ("Kinderwinkel Testdorp")'
    assert err.value.problems == [f"shop.{key}: missing required key{shop}"]


def test_a_single_shop_config_without_a_shop_section_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, MINIMAL.replace(shop_toml(), "")))
    [line] = err.value.problems
    assert "[shop] missing" in line and "privacy_officer" in line


def test_a_mailbox_without_its_shop_is_named(tmp_path: Path) -> None:
    text = TWO_SHOPS[:TWO_SHOPS.rindex("[mailboxes.shop]")]
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text))
    assert err.value.problems == ['mailboxes.1.shop: missing required key ("zeilen")']


def test_recipients_are_none_unless_the_shop_names_them(tmp_path: Path) -> None:
    shop = {key: value for key, value in FICTITIOUS_SHOP.items() if key != "recipients"}
    settings = load_settings(None, imap={"username": "u"}, smtp={"from_address": "a@shop.example"},
                             secret_key="0123456789abcdef0123", shop=shop)
    assert settings.shop is not None and settings.shop.recipients == []


def test_check_config_names_a_shop_that_lists_no_recipients(tmp_path: Path) -> None:
    """Before: silent, so every Art. 19 notice and the access answer's list of processors were left out."""
    from inbox_agent.config import warnings

    text = TWO_SHOPS.replace('reference_prefix = "SB"\n', 'reference_prefix = "SB"\n[[mailboxes.shop.recipients]]\n'
                             'name = "Mollie"\npurpose = "betalingen"\n', 1)
    assert [w for w in warnings(load_settings(write(tmp_path, text))) if "recipients" in w] == [
        "mailbox toppers (Shop A) lists no recipients (shop.recipients): access answers name no processor and an "
        "erasure, rectification or restriction is passed on to nobody (Art. 15(1)(c), Art. 19); list the shop's "
        "processors (unless it truly has none)"]
