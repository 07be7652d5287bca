"""Dashboard tests in headless Chromium (chromium: the ChromeDriver session helper)."""
