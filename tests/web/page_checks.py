"""What every officer page must satisfy, measured in the browser: her language, the phone, contrast, labels.

Shared by the page-walk tests; each check returns the offending items, so a failure names them.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from playwright.sync_api import Page

from inbox_agent.messages import LANGUAGES, catalogue

VISIBLE_TEXT = """() => {
  // The page's own words: what is in the customer's language (her mail, the mails to her, their
  // subjects, the editor) and file names are left out.
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('.mailtext, textarea, input, .subject, .files, code.file, [hidden], .visually-hidden, .skip')
      .forEach(e => e.remove());
  document.body.appendChild(copy);
  copy.style.position = 'absolute';
  const text = copy.innerText;
  copy.remove();
  return text;
}"""

LOW_CONTRAST = """() => {
  const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(parseFloat); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const over = (top, below) => ({r: top.r * top.a + below.r * (1 - top.a), g: top.g * top.a + below.g * (1 - top.a),
                                 b: top.b * top.a + below.b * (1 - top.a), a: 1});
  const background = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    return layers.reverse().reduce((below, top) => over(top, below), {r: 255, g: 255, b: 255, a: 1});
  };
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el) continue;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width === 0 || box.height === 0 || box.bottom < 0 || style.visibility === 'hidden') continue;
    const bg = background(el);
    const fg = over(parse(style.color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const rgb = `rgb(${Math.round(bg.r)},${Math.round(bg.g)},${Math.round(bg.b)})`;
    const what = node.textContent.trim().slice(0, 40);
    if (ratio < 4.5) bad.push(`${ratio.toFixed(2)}:1 "${what}" (${style.color} on ${rgb})`);
  }
  return bad;
}"""

UNLABELLED = """() => [...document.querySelectorAll('input, textarea, select')]
  .filter(e => e.type !== 'hidden' && !e.hidden)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
  .map(e => e.outerHTML.slice(0, 80))"""

OUTSIDE_HEADER = """() => {
  const bar = document.querySelector('header.top').getBoundingClientRect();
  return [...document.querySelectorAll('header.top a, header.top button, header.top .name')]
    .filter(e => { const b = e.getBoundingClientRect();
                   return b.left < bar.left || b.right > bar.right + 0.5
                       || b.top < bar.top || b.bottom > bar.bottom + 0.5; })
    .map(e => e.textContent.trim());
}"""


def page_text(page: Page) -> str:
    return str(page.evaluate(VISIBLE_TEXT))


def foreign_words(text: str, language: str) -> list[str]:
    """Catalogue texts of the other language that appear on a page in ``language``."""
    return [f"{key}: {literal!r}" for key, literal in _foreign_literals(language) if literal in text]


@functools.cache
def _foreign_literals(language: str) -> tuple[tuple[str, str], ...]:
    """(key, longest literal part) of each other-language text that ``language``'s own texts do not hold."""
    own = set(catalogue(language).values())
    joined = " ".join(own)
    found = []
    for other in LANGUAGES:
        if other == language:
            continue
        for key, value in catalogue(other).items():
            literal = max(re.split(r"\{[^}]*\}", value), key=len).strip()
            if len(literal) >= 8 and value not in own and literal not in joined:
                found.append((key, literal))
    return tuple(found)


def raw_codes(text: str, codes: set[str], language: str) -> list[str]:
    """Stored codes (event kinds, states, mail kinds ...) shown as they are instead of in words."""
    return sorted(c for c in codes if not _in_catalogue(c.lower(), language) and _shown(c, text))


@functools.cache
def _in_catalogue(code: str, language: str) -> bool:
    """Whether ``language``'s own texts use the code as a word (then showing it is no fault)."""
    return _shown(code, " | ".join(catalogue(language).values()).lower())


def _shown(code: str, within: str) -> bool:
    return re.search(rf"(?<![\w@.-]){re.escape(code)}(?![\w@-])", within) is not None


def page_problems(page: Page) -> dict[str, Any]:
    """At the current viewport: sideways scroll, header items outside the bar, low contrast, unlabelled fields."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    problems: dict[str, Any] = {}
    if scroll_width > width:
        problems["scroll_width"] = scroll_width
    for name, script in (("outside_header", OUTSIDE_HEADER), ("contrast", LOW_CONTRAST), ("unlabelled", UNLABELLED)):
        found = page.evaluate(script) if name != "outside_header" or page.locator("header.top").count() else []
        if found:
            problems[name] = found
    return problems
