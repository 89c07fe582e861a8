"""Layer 3, the checkpoint core: the API both decorators and generated code call (context, steps, workflows, waits, handles)."""
