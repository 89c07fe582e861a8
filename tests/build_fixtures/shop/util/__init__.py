from .money import cents as cents
