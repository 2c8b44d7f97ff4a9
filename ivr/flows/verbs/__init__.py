"""One module per verb. ``VERBS`` maps a node's ``type`` to its class."""

from __future__ import annotations

from ivr.flows.verbs.base import Verb
from ivr.flows.verbs.branch import Branch
from ivr.flows.verbs.callback import Callback
from ivr.flows.verbs.collect import Collect
from ivr.flows.verbs.confirm import Confirm
from ivr.flows.verbs.goto import Goto
from ivr.flows.verbs.hangup import Hangup
from ivr.flows.verbs.hours import Hours
from ivr.flows.verbs.language import Language
from ivr.flows.verbs.lookup import Lookup
from ivr.flows.verbs.menu import Menu
from ivr.flows.verbs.queue import Queue
from ivr.flows.verbs.say import Say
from ivr.flows.verbs.set import Set
from ivr.flows.verbs.subflow import Subflow
from ivr.flows.verbs.survey import Survey
from ivr.flows.verbs.transfer import Transfer
from ivr.flows.verbs.voicemail import Voicemail

VERBS: dict[str, type[Verb]] = {
    cls.type_name: cls
    for cls in (
        Say,
        Menu,
        Collect,
        Confirm,
        Branch,
        Hours,
        Lookup,
        Set,
        Queue,
        Transfer,
        Voicemail,
        Callback,
        Survey,
        Language,
        Goto,
        Subflow,
        Hangup,
    )
}

__all__ = ["VERBS", "Verb"]
