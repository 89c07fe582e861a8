"""The checks: walking workflow bodies (and what they reach) and applying the rule families.

Modules named after rule codes (``dbos402_module_state``, ``dbos501_set_order``...) hold the
detection of those codes; ``calls`` judges every call against the catalogue's name tables;
``body_walker`` is the traversal and ``file_check`` runs one file. They stand on ``analysis``
(what the code means) and ``catalogue`` (what the rules are). This file imports nothing.
"""
