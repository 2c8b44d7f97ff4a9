"""``CallStore``: every write about a call and the reads behind ``/api/calls``, one object over one
database. Each concern has its own module: ``database.py`` (connection, transactions),
``call_records.py`` (the call itself), ``offers.py``, ``callbacks.py``, ``surveys.py``, ``agent_states.py``,
``report_rows.py`` (the reads behind the service report), ``lost_calls.py`` (records closed or
imported after a crash).
"""

from __future__ import annotations

from ivr.store.agent_states import AgentStateRecord, AgentStates
from ivr.store.call_records import INPUT_KINDS, CallRecords, OpenCall
from ivr.store.call_search import CallSearch
from ivr.store.callbacks import CALLBACK_STATUSES, Callbacks
from ivr.store.database import StoreClosedError, default_db_url
from ivr.store.flow_versions import FlowVersions
from ivr.store.lost_calls import LostCalls
from ivr.store.offers import Offers
from ivr.store.recordings import Recordings
from ivr.store.report_rows import ReportRows
from ivr.store.surveys import Surveys
from ivr.store.users import Users

__all__ = [
    "CALLBACK_STATUSES",
    "INPUT_KINDS",
    "AgentStateRecord",
    "CallStore",
    "OpenCall",
    "StoreClosedError",
    "default_db_url",
]


class CallStore(
    CallSearch,
    CallRecords,
    Offers,
    Callbacks,
    Surveys,
    AgentStates,
    ReportRows,
    FlowVersions,
    Users,
    Recordings,
    LostCalls,
):
    """``CallStore(db_url)``: ``await open()`` (runs migrations), writes and reads, ``await close()``."""
