"""Legitimacy and fairness surveys (paper 5.6). Models arrive with the
participant-journey issue."""
