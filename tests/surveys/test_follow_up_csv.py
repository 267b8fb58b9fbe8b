"""The follow-up links CSV (Prolific ids, for messaging participants)
neutralises cells that start like a spreadsheet formula."""

import csv
import io

import pytest

from studies.models import ProlificIdentity
from surveys import services
from surveys.models import FollowUpLink
from tests.factories import finished_participant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("pid", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "'x"])
def test_prolific_ids_that_start_like_formulas_are_neutralised(study, coordinator, pid):
    participant = finished_participant(study, "returning")[0]
    ProlificIdentity.objects.filter(participant=participant).update(prolific_pid=pid)
    services.issue_follow_up_links(study, days_valid=30)
    text = services.export_follow_up_links(FollowUpLink.objects.all(), user=coordinator)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert rows[0]["prolific_pid"] == "'" + pid
