from . import relance_letter_report
from . import relance_statement_report
from . import relance_handover_report
