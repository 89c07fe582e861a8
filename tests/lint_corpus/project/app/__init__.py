"""A small project: workflows in flows.py call plain helpers in other modules."""
