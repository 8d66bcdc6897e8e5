"""Task synthesis: the offline procedural generator behind the built-in suite, and its quality gate."""
