"""Browser tests (Playwright + Debian Chromium); see conftest.py."""
