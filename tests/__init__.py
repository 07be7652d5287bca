"""The test suite: unit/ (no server), integration/, reliability/, browser/."""
