"""Layer 3, the checkpoint core: the API that decorators and generated code both call
(context, steps, workflows, waits, handles)."""
