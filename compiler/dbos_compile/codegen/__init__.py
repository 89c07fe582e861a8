"""Code generation for ``dbos-compile build``."""
