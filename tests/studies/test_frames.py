"""Websocket frames are typed (studies/frames.py, interviews/frames.py): a
socket sends only the frames it declares, in their declared shape."""

import logging

import pytest

from interviews import frames as interview_frames
from studies import frames


def test_declared_frames_pass_and_others_are_refused_under_strict_checking(settings):
    settings.WEBSOCKET_FRAMES_STRICT = True
    journey = (*frames.BASE, frames.JourneyState)
    assert frames.check({"type": "state", "step": "survey"}, journey) == {"type": "state", "step": "survey"}
    assert frames.check({"type": "error", "code": "busy", "message": "Wait"}, journey)
    with pytest.raises(frames.FrameError, match="not one this socket sends"):
        frames.check({"type": "delta", "reply_id": "r", "text": "x"}, journey)  # an interview frame
    with pytest.raises(frames.FrameError):
        frames.check({"type": "state", "step": "survey", "stepp": 1}, journey)  # a misspelt key
    with pytest.raises(frames.FrameError):
        frames.check({"type": "delta", "reply_id": "r"}, interview_frames.INTERVIEW)  # no text


def test_in_production_a_drifted_frame_is_logged_and_still_sent(settings, caplog):
    settings.WEBSOCKET_FRAMES_STRICT = False
    frame = {"type": "state", "step": "survey", "extra": True}
    with caplog.at_level(logging.ERROR, logger="studies.frames"):
        assert frames.check(frame, (*frames.BASE, frames.JourneyState)) is frame
    assert "undeclared shape" in caplog.text
