"""Values cards, canonical values and their embeddings (paper 4.1, 4.5).

Models arrive with the interview and deduplication issues; the app is
registered now so that roles, audit and docs cover it from the start.
"""
