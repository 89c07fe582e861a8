"""The interpreter: what a module's code means, without running it.

Syntax access, scopes, abstract values, the project's modules, classes, annotations and the
value flow (``evaluate``), and one parsed and indexed module as every check of a run shares it.
It reads the catalogue's name tables and knows nothing of the rules that use it (``checks``).
This file imports nothing: importing one module of the room loads only what that one needs.
"""
