"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright against live servers.

Skipped, with the reason, only when /usr/bin/chromium is absent (CI installs it). Each
journey saves a screenshot of its last page under test-artifacts/ (gitignored).
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}  # a phone-sized viewport


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the run."""
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium (CI installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


class Page:
    """A browser page that records console errors (a CSP violation shows there)."""

    def __init__(self, context) -> None:
        self.context = context
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e]


@pytest.fixture
def new_page(browser):
    """new_page(viewport=None, locale="zh-CN") -> Page; contexts closed after the test."""
    contexts = []

    def make(viewport=None, locale="zh-CN") -> Page:
        ctx = browser.new_context(viewport=viewport or {"width": 1280, "height": 900},
                                  locale=locale)  # fmt: skip
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return Page(ctx)

    yield make
    for ctx in contexts:
        ctx.close()
