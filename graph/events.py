"""Domain event kinds written by the graph app (see mgeplatform/events.py)."""

from mgeplatform.events import kind

GRAPH_CONTEXTS_GENERATED = kind("graph.contexts_generated", "Moral contexts were written for a scenario")
GRAPH_STORIES_GENERATED = kind("graph.stories_generated", "A story run wrote transition stories")
GRAPH_STORIES_ARCHIVED = kind("graph.stories_archived", "A coordinator archived transition stories")
GRAPH_STORIES_ASSIGNED = kind("graph.stories_assigned", "A participant was given their transition stories")
GRAPH_NO_STORIES = kind("graph.no_stories", "A participant reached the stories step with none to judge")
GRAPH_VOTE = kind("graph.vote", "A participant judged a transition story")
GRAPH_VOTE_CHANGED = kind("graph.vote_changed", "A participant changed their judgement of a transition story")
GRAPH_SNAPSHOT_BUILT = kind("graph.snapshot_built", "A moral graph snapshot was built")
GRAPH_SNAPSHOT_REBUILT = kind(
    "graph.snapshot_rebuilt", "A snapshot was built again without the participants who withdrew after it"
)
GRAPH_IMPORTED = kind("graph.imported", "A published moral graph was imported")
GRAPH_EXPORTED = kind("graph.exported", "A moral graph snapshot was exported")
GRAPH_STORIES_REQUESTED = kind("graph.stories_requested", "A coordinator queued a story run (e.g. before launch)")
