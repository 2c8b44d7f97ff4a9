"""Where things are on the pages: the stable ids and data attributes the tests find them by.

One place to change when a page changes; each block names the page fragment and script it reads.
"""

from __future__ import annotations

# /wallboard — ivr/web/pages/wallboard.html, ivr/web/static/wallboard.js
WALLBOARD_SOCKET = "/api/wallboard/ws"
WALLBOARD_LIVE = '#wb-status[data-state="live"]'


def wallboard_call(call_id: str) -> str:
    return f'[data-call-id="{call_id}"]'


def wallboard_agent(agent_id: str) -> str:
    return f'[data-agent-id="{agent_id}"]'


def wallboard_queue(queue: str) -> str:
    return f'[data-queue="{queue}"]'


WALLBOARD_LISTEN = "button[data-action=listen]"
LISTEN_ENDPOINT = "#listen-endpoint"
LISTEN_STATUS = "#listen-status"

# /reports — ivr/web/pages/reports.html, ivr/web/static/reports.js, charts.js
REPORT_QUEUE = "#queue"  # a <select>; changing it loads the report
REPORT_SHOW = "#apply"
REPORT_STATUS = "#report-status"  # data-loaded="true" once shown, data-offered = calls offered
REPORT_LOADED = '#report-status[data-loaded="true"]'
REPORT_RING_BARS = "#chart-rings rect[data-value]"  # one bar per ring bin, data-value = calls
REPORT_CHARTS = ".report-grid"

# /calls — ivr/web/pages/calls.html, ivr/web/static/calls.js
CALLS_LIST = "#calls"
CALLS_NUMBER = "#f-number"
CALLS_SEARCH = "#f-search"
CALLS_LOADED = '#calls-count[data-loaded="true"]'


def calls_row(call_id: str) -> str:
    return f'#calls tr[data-call="{call_id}"]'


# /calls/{id} — ivr/web/pages/call.html, ivr/web/static/call.js
CALL_TIMELINE = "#call-timeline"
CALL_CALLER = "#call-summary"  # number and name among the call's facts
CALL_PATH_ROWS = "#call-path tbody tr[data-node]"


def call_offer(agent_id: str) -> str:
    return f'#call-offers tr[data-agent="{agent_id}"]'


# /flows/{name} — ivr/web/pages/flow.html, ivr/web/static/flow.js
FLOW_EDITOR = "#editor"  # a <textarea>
FLOW_CHECK = "#check"
FLOW_PUBLISH = "#publish"
FLOW_RESULT = "#publish-result"
FLOW_PROBLEMS = "#problems li"


def flow_problem_at(line: int) -> str:
    """The listed problem of a line."""
    return f'#problems li[data-line="{line}"]'


def flow_mark_at(line: int) -> str:
    """The error mark drawn over the editor at a line."""
    return f'#marks-lines .line-error[data-line="{line}"]'


# /agent — ivr/web/pages/agent.html, ivr/web/static/agent.js
PANEL_STATE = "#state"
PANEL_REASON_SHOWN = "#state-reason"
PANEL_PAUSE = "#btn-pause"
PANEL_REASON = "#pause-reason"  # a <select> of reasons
PANEL_AVAILABLE = "#btn-available"
