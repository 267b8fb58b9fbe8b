"""Study statistics: a study filled by the simulator used to show 0
participants with no word why (simulated participants are not counted);
the snapshot now counts them, and staff previews, beside the real ones."""

import pytest
from django.test import Client

from studies import services
from studies.models import Participant, Step, StudyStatistics
from tests.factories import at_step, consented_participant

pytestmark = pytest.mark.django_db


def test_statistics_count_real_participants_and_show_simulated_and_previews_apart(study, coordinator):
    at_step(study, "real-1", Step.INTERVIEW)
    consented_participant(study, "real-2")
    for i in range(3):
        simulated, _ = consented_participant(study, f"sim-{i}")
        Participant.objects.filter(pk=simulated.pk).update(simulated=True)
    services.start_preview(study=study, session=Client().session, user=coordinator)

    stats = services.record_study_statistics(study)
    stats.refresh_from_db()
    assert (stats.participants, stats.consented, stats.simulated, stats.previews) == (2, 2, 3, 1)
    assert stats.by_step == {"scenario": 1, "interview": 1}

    client = Client()
    client.force_login(coordinator, backend="django.contrib.auth.backends.ModelBackend")
    listing = client.get("/admin/studies/studystatistics/").content.decode()
    assert "Simulated" in listing and "Previews" in listing
    assert StudyStatistics.objects.count() == 1


def test_a_study_of_only_simulated_participants_says_so(study):
    for i in range(2):
        simulated, _ = consented_participant(study, f"only-sim-{i}")
        Participant.objects.filter(pk=simulated.pk).update(simulated=True)
    stats = services.record_study_statistics(study)
    assert (stats.participants, stats.simulated) == (0, 2)
