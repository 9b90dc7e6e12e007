"""Hypothesis strategies for every public type, for your own property tests.

Import it as ``from servicetriage import strategies as sts``; it needs the
``hypothesis`` extra. Every function returns a strategy; keyword arguments
narrow what it draws (an argument that is itself a strategy says so in its
name or type), following Hypothesis' own API style.
"""

from servicetriage.strategies._assignment import *  # noqa: F403
from servicetriage.strategies._assignment import __all__ as _assignment_all
from servicetriage.strategies._authority import *  # noqa: F403
from servicetriage.strategies._authority import __all__ as _authority_all
from servicetriage.strategies._calendar import *  # noqa: F403
from servicetriage.strategies._calendar import __all__ as _calendar_all
from servicetriage.strategies._escalation import *  # noqa: F403
from servicetriage.strategies._escalation import __all__ as _escalation_all
from servicetriage.strategies._learning import *  # noqa: F403
from servicetriage.strategies._learning import __all__ as _learning_all
from servicetriage.strategies._model import *  # noqa: F403
from servicetriage.strategies._model import __all__ as _model_all
from servicetriage.strategies._triage import *  # noqa: F403
from servicetriage.strategies._triage import __all__ as _triage_all

__all__ = [  # noqa: PLE0604
    *_model_all,
    *_calendar_all,
    *_triage_all,
    *_authority_all,
    *_escalation_all,
    *_learning_all,
    *_assignment_all,
]
