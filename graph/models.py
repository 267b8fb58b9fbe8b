"""Moral contexts, transition stories, wisdom votes and graph snapshots
(paper 4.2, 4.4). Models arrive with the moral graph issue."""
